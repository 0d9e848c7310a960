"""GPU timings in few processes (a lent GPU's minutes are short): energy + forces per call of
Gaunt-MACE on its Triton and PyTorch routes and of mace-torch's MACE of equal size, then MD
throughput with ASE; one JSON file per part and one table at the end.

    python benchmarks/gpu_bench.py gaunt --out gaunt.json          # this interpreter (gaunt-md)
    python benchmarks/gpu_bench.py mace  --out mace.json           # the mace-torch interpreter
    python benchmarks/gpu_bench.py md    --out md.json
    python benchmarks/gpu_bench.py table gaunt.json mace.json md.json

gaunt: the shipped potential (potentials/gaunt_mace_3bpa.pt, TorchScript, trained weights,
product_basis "factors": 64x0e+64x1o, max_ell 3, correlation 3, 2 interactions) loaded with
gaunt_md.deploy.load_model, or, when --model eager (or the file does not load), an untrained
GauntMACE of the same configuration.  The routes are switched per call through the
environment variables that the ops read at each call (routes.py): "triton" = GAUNT_MD_CONV and
GAUNT_MD_FACTOR_PRODUCTS = triton, "torch" = both torch, "conv-triton" / "fp-triton" = only one
of the two ops on its Triton kernels (which op gains or loses).  One process: the Triton
kernels are compiled once (the first call of the first point, not timed).
mace: mace.modules.ScaleShiftMACE with RealAgnosticResidualInteractionBlock (as
model_speed.py builds it, benchmarks/mace_worker.py), untrained, e3nn; imports no gaunt_md.
md: ase.md.VelocityVerlet (0.5 fs) with GauntCalculator(device="cuda") on the 3BPA molecule
and a ~10k-atom box, per route and dtype: ms per step (neighbour list on the CPU included),
steps/s, ns/day and atom-steps/s.

Timing: after --warmup calls, calls are repeated until --min-time seconds (at least 3, at
most 50 calls), each call synchronised and timed alone; median and min.  Memory: torch's peak
CUDA allocation during the timed calls above what was allocated before them.  A point is
skipped once a call on that route took longer than --max-call seconds at a smaller size, and
nothing new starts after --time-limit seconds.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import harness

ROOT = harness.ROOT

MODEL = ROOT / "potentials" / "gaunt_mace_3bpa.pt"
HYPER = dict(  # the shipped potential's architecture (potentials/gaunt_mace_3bpa.md)
    channels=64, hidden_lmax=1, max_ell=3, correlation=3, num_interactions=2, r_max=5.0, num_bessel=8,
    cutoff_p=5, radial_hidden=[64, 64, 64], readout_hidden=16, atomic_numbers=[1, 6, 7, 8],
    avg_num_neighbors=16.72065843621399,
)
ROUTES = {
    "triton": dict(GAUNT_MD_CONV="triton", GAUNT_MD_FACTOR_PRODUCTS="triton"),
    "torch": dict(GAUNT_MD_CONV="torch", GAUNT_MD_FACTOR_PRODUCTS="torch"),
    "conv-triton": dict(GAUNT_MD_CONV="triton", GAUNT_MD_FACTOR_PRODUCTS="torch"),
    "fp-triton": dict(GAUNT_MD_CONV="torch", GAUNT_MD_FACTOR_PRODUCTS="triton"),
    "auto": dict(GAUNT_MD_CONV="auto", GAUNT_MD_FACTOR_PRODUCTS="auto"),
}
TIMESTEP_FS = 0.5


def log(*args) -> None:
    print(*args, flush=True)


def describe(exc: BaseException) -> str:
    """The exception's type and the last line of its message (TorchScript's are long)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {(lines[-1] if lines else '')[:300]}"


def checkpoint(args, result: dict) -> None:
    """Write what is there so far: a part stopped by its time limit keeps its rows."""
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(dict(result, argv=sys.argv[1:],
                                            date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())), indent=1))


def time_calls(fn, device, warmup: int, min_time: float, max_calls: int = 50) -> dict:
    import torch
    for _ in range(warmup):
        fn()
    harness.sync(device)
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
    times = harness.call_times(fn, device, 3, min_time, max_calls)
    out = {"median_ms": 1e3 * statistics.median(times), "min_ms": 1e3 * min(times), "calls": len(times)}
    if cuda:
        out["peak_mb"] = (torch.cuda.max_memory_allocated(device) - base) / 2 ** 20
    return out


def structure(name: str):
    from ase.io import read
    return read(harness.structure_path(name))


def versions() -> dict:
    import torch
    info = {"torch": torch.__version__, "cuda": torch.version.cuda, "python": sys.version.split()[0]}
    try:
        import triton
        info["triton"] = triton.__version__
    except Exception as exc:  # noqa: BLE001
        info["triton"] = f"missing ({exc})"
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
        info["sms"] = torch.cuda.get_device_properties(0).multi_processor_count
    return info


# --- Gaunt-MACE ---------------------------------------------------------------------------

def gaunt_model(kind: str, dtype, device):
    """(module, description): the shipped TorchScript potential, or an untrained eager model."""
    import torch
    if kind == "shipped":
        try:
            from gaunt_md.deploy import load_model
            loaded = load_model(str(MODEL), device=device, dtype=dtype)
            params = sum(p.numel() for p in loaded.module.parameters())
            return loaded.module, f"shipped {MODEL.name} (TorchScript, {params} parameters)"
        except Exception as exc:  # noqa: BLE001
            log(f"shipped potential not loadable here ({type(exc).__name__}: {exc}); untrained eager model instead")
    from gaunt_md.nn.config import ModelConfig
    from gaunt_md.nn.model import GauntMACE, count_parameters
    torch.manual_seed(0)
    fields = set(getattr(ModelConfig, "__dataclass_fields__", {}))
    cfg = ModelConfig(**{k: v for k, v in HYPER.items() if k in fields}, product_basis="factors")
    model = GauntMACE(cfg).to(device=device, dtype=dtype)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, f"untrained eager GauntMACE, product_basis factors ({count_parameters(model)} parameters)"


def gaunt_inputs(atoms, dtype, device, r_max: float):
    import torch
    from gaunt_md.data import SpeciesTable, collate, graph_from_atoms
    graph = graph_from_atoms(atoms, SpeciesTable(HYPER["atomic_numbers"]), r_max, dtype=dtype)
    return collate([graph]).to(device).inputs(), graph.num_edges


def set_route(route: str) -> None:
    os.environ.update(ROUTES[route])


def run_gaunt(args) -> dict:
    import torch
    import gaunt_md  # noqa: F401  (registers the ops)

    device = torch.device(args.device)
    t0 = time.perf_counter()
    rows: List[dict] = []
    slow: Dict[tuple, bool] = {}
    result = {"part": "gaunt", "versions": versions(), "rows": rows, "device": str(device)}
    for dtype_name in args.dtypes:
        dtype = getattr(torch, dtype_name)
        module, desc = gaunt_model(args.model, dtype, device)
        result["model"] = desc
        log(f"== gaunt {dtype_name}: {desc}")
        for size in args.sizes:
            atoms = structure(size)
            inputs, edges = gaunt_inputs(atoms, dtype, device, HYPER["r_max"])
            ref = None
            for route in args.routes:
                if route not in ("triton", "torch") and len(atoms) > args.split_max_atoms:
                    continue
                if time.perf_counter() - t0 > args.time_limit:
                    log(f"time limit: {size} {route} not started")
                    continue
                if slow.get((dtype_name, route)):
                    rows.append(dict(dtype=dtype_name, size=size, atoms=len(atoms), edges=edges, route=route,
                                     skipped=f"a smaller size took > {args.max_call} s"))
                    continue
                set_route(route)

                def call():
                    with torch.enable_grad():
                        out = module(inputs, compute_forces=True)
                    return out["energy"], out["forces"]

                row = dict(dtype=dtype_name, size=size, atoms=len(atoms), edges=edges, route=route)
                try:
                    start = time.perf_counter()
                    energy, forces = call()
                    harness.sync(device)
                    row["first_call_s"] = time.perf_counter() - start
                    variants = triton_variants()
                    row.update(time_calls(call, device, args.warmup, args.min_time))
                    row["triton_compiled_during_timing"] = triton_variants() - variants
                    energy, forces = call()            # compared after warm-up (TorchScript's optimised graph)
                    row["energy"] = float(energy.detach().sum())
                    if ref is None:
                        ref = (energy.detach().double(), forces.detach().double())
                    else:
                        row["energy_diff"] = float((energy.detach().double() - ref[0]).abs().max())
                        row["force_rel_err"] = float((forces.detach().double() - ref[1]).norm() / ref[1].norm())
                except Exception as exc:  # noqa: BLE001
                    row["error"] = describe(exc)
                rows.append(row)
                if row.get("median_ms", 0.0) > 1e3 * args.max_call:
                    slow[(dtype_name, route)] = True
                log(json.dumps(row))
                checkpoint(args, result)
            del inputs
        del module
        torch.cuda.empty_cache() if device.type == "cuda" else None
    if args.profile and device.type == "cuda" and time.perf_counter() - t0 < args.time_limit + 30:
        result["profile"] = profile_gaunt(args, device)
    return result


def profile_gaunt(args, device) -> dict:
    """torch.profiler over a few calls at one size per route: the CUDA kernels by total time."""
    import torch
    from torch.profiler import ProfilerActivity, profile
    dtype = getattr(torch, args.profile_dtype)
    module, _ = gaunt_model(args.model, dtype, device)
    atoms = structure(args.profile_size)
    inputs, edges = gaunt_inputs(atoms, dtype, device, HYPER["r_max"])
    out = {"size": args.profile_size, "atoms": len(atoms), "edges": edges, "dtype": args.profile_dtype}
    for route in ("triton", "torch"):
        set_route(route)

        def call():
            with torch.enable_grad():
                module(inputs, compute_forces=True)["forces"].sum().item()

        for _ in range(3):
            call()
        harness.sync(device)
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            for _ in range(3):
                call()
            harness.sync(device)
        events = prof.key_averages()
        kernels = []
        for e in events:
            if not str(getattr(e, "device_type", "CUDA")).endswith("CUDA"):
                continue                             # CPU-side ops: their device time is their kernels
            dev_us = getattr(e, "self_device_time_total", None)
            if dev_us is None:
                dev_us = getattr(e, "self_cuda_time_total", 0.0)
            if dev_us and dev_us > 0:
                kernels.append({"name": e.key[:90], "device_ms_per_call": dev_us / 3e3, "count_per_call": e.count / 3})
        kernels.sort(key=lambda k: -k["device_ms_per_call"])
        total = sum(k["device_ms_per_call"] for k in kernels)
        out[route] = {"device_ms_per_call": total, "top": kernels[:args.profile_top]}
        log(f"profile {route}: {total:.2f} ms of device time per call; top kernels:")
        for k in kernels[:args.profile_top]:
            log(f"  {k['device_ms_per_call']:8.3f} ms  x{k['count_per_call']:.0f}  {k['name']}")
    return out


# --- mace-torch ---------------------------------------------------------------------------

def run_mace(args) -> dict:
    os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    import torch
    import mace_worker  # benchmarks/mace_worker.py: build_mace, no gaunt_md
    from mace import data as mace_data
    from mace.tools import torch_geometric, utils

    device = torch.device(args.device)
    t0 = time.perf_counter()
    rows: List[dict] = []
    info = versions()
    import e3nn
    import mace
    info.update(e3nn=e3nn.__version__, mace=getattr(mace, "__version__", "?"))
    result = {"part": "mace", "versions": info, "rows": rows}
    slow = set()
    for dtype_name in args.dtypes:
        dtype = getattr(torch, dtype_name)
        torch.set_default_dtype(dtype)
        torch.manual_seed(0)
        for variant in args.mace_variants:
            try:
                model = mace_worker.build_mace(HYPER).to(device=device, dtype=dtype)
                if variant == "cueq":
                    mace_worker.require_cueq()
                    from mace.cli.convert_e3nn_cueq import run as convert_e3nn_cueq
                    model = convert_e3nn_cueq(model, device=device.type, return_model=True).to(device=device, dtype=dtype)
            except Exception as exc:  # noqa: BLE001
                rows.append(dict(dtype=dtype_name, route=f"mace-{variant}", error=describe(exc)))
                log(json.dumps(rows[-1]))
                continue
            model.eval()
            for p in model.parameters():
                p.requires_grad_(False)
            result["params"] = sum(p.numel() for p in model.parameters())
            z_table = utils.AtomicNumberTable(HYPER["atomic_numbers"])
            for size in args.sizes:
                route = f"mace-{variant}"
                if time.perf_counter() - t0 > args.time_limit:
                    log(f"time limit: {size} {route} not started")
                    continue
                if (dtype_name, route) in slow:
                    continue
                atoms = structure(size)
                row = dict(dtype=dtype_name, size=size, atoms=len(atoms), route=route)
                try:
                    config = mace_data.config_from_atoms(atoms)
                    graph = mace_data.AtomicData.from_config(config, z_table=z_table, cutoff=HYPER["r_max"])
                    loader = torch_geometric.dataloader.DataLoader(dataset=[graph], batch_size=1, shuffle=False)
                    batch = next(iter(loader)).to(device).to_dict()
                    row["edges"] = int(batch["edge_index"].shape[1])

                    def call():
                        out = model(dict(batch), compute_force=True, training=False)
                        return out["energy"], out["forces"]

                    start = time.perf_counter()
                    call()
                    harness.sync(device)
                    row["first_call_s"] = time.perf_counter() - start
                    row.update(time_calls(call, device, args.warmup, args.min_time))
                except Exception as exc:  # noqa: BLE001
                    row["error"] = describe(exc)
                rows.append(row)
                if row.get("median_ms", 0.0) > 1e3 * args.max_call:
                    slow.add((dtype_name, route))
                log(json.dumps(row))
                checkpoint(args, result)
            del model
    return result


# --- MD with ASE --------------------------------------------------------------------------

def run_md(args) -> dict:
    import numpy as np
    import torch
    from ase import units
    from ase.io import read
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
    from ase.md.verlet import VelocityVerlet

    from gaunt_md import GauntCalculator

    device = torch.device(args.device)
    t0 = time.perf_counter()
    rows: List[dict] = []
    result = {"part": "md", "versions": versions(), "rows": rows, "timestep_fs": TIMESTEP_FS,
              "triton_specialize": os.environ.get("GAUNT_MD_TRITON_SPECIALIZE") == "1"}
    plan = [("3bpa", dt, route, args.steps) for dt in args.dtypes for route in args.routes]
    if args.box != "none":
        plan += [(args.box, dt, route, args.box_steps) for dt in args.box_dtypes for route in args.box_routes]
    calcs = {}
    for system, dtype_name, route, steps in plan:
        if time.perf_counter() - t0 > args.time_limit:
            log(f"time limit: md {system} {dtype_name} {route} not started")
            continue
        set_route(route)
        row = dict(system=system, dtype=dtype_name, route=route, steps=steps)
        if result["triton_specialize"]:
            row["route"] = route + " (specialising)"
        try:
            if dtype_name not in calcs or args.fresh:  # fresh: TorchScript's re-specialisations in each row
                calcs[dtype_name] = GauntCalculator(str(MODEL), device=args.device, dtype=dtype_name)
            atoms = read(harness.MOLECULE) if system == "3bpa" else read(harness.structure_path(system))
            if system == "3bpa":
                atoms.center(vacuum=15.0)
                atoms.pbc = False
            MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=np.random.default_rng(7))
            atoms.calc = calcs[dtype_name]
            dyn = VelocityVerlet(atoms, timestep=TIMESTEP_FS * units.fs)
            dyn.run(args.md_warmup)                  # warm-up (TorchScript's profiling runs, kernels)
            harness.sync(device)
            variants = triton_variants()
            times = []
            for _ in range(steps):                   # each step timed: compilations show as outliers
                start = time.perf_counter()
                dyn.run(1)
                harness.sync(device)
                times.append(time.perf_counter() - start)
            per_step = sum(times) / steps
            row.update(atoms=len(atoms), ms_per_step=1e3 * per_step, steps_per_s=1.0 / per_step,
                       ns_per_day=TIMESTEP_FS * 1e-6 * 86400.0 / per_step, atom_steps_per_s=len(atoms) / per_step,
                       median_step_ms=1e3 * statistics.median(times), max_step_ms=1e3 * max(times),
                       triton_compiled_during_steps=triton_variants() - variants,
                       temperature_K=float(atoms.get_temperature()))
        except Exception as exc:  # noqa: BLE001
            row["error"] = describe(exc)
        rows.append(row)
        log(json.dumps(row))
        checkpoint(args, result)
    return result


def triton_variants() -> int:
    """Compiled variants of gaunt-md's Triton kernels in this process (all devices)."""
    total = 0
    for name in ("conv.triton_kernels", "factor_products.triton_kernels", "gaunt.triton_kernels"):
        module = sys.modules.get(f"gaunt_md.ops.{name}")
        for value in vars(module).values() if module else ():
            for cache in getattr(value, "device_caches", {}).values():
                total += len(cache[0])
    return total


# --- tables -------------------------------------------------------------------------------

def tables(parts: List[dict]) -> str:
    gaunt = next((p for p in parts if p.get("part") == "gaunt"), None)
    mace = next((p for p in parts if p.get("part") == "mace"), None)
    md = next((p for p in parts if p.get("part") == "md"), None)
    out: List[str] = []
    if gaunt:
        v = gaunt["versions"]
        out.append(f"{v.get('gpu', gaunt.get('device'))}, torch {v['torch']}, CUDA {v['cuda']}, triton {v['triton']}"
                   + (f"; mace {mace['versions'].get('mace')} (e3nn {mace['versions'].get('e3nn')})" if mace else ""))
        out.append(f"Gaunt model: {gaunt.get('model')}" + (f"; MACE: {mace.get('params')} parameters" if mace else ""))
    rows = (gaunt["rows"] if gaunt else []) + (mace["rows"] if mace else [])
    routes = []
    for r in rows:
        if r.get("route") not in routes and "size" in r:
            routes.append(r["route"])
    for dtype in ("float32", "float64"):
        sel = [r for r in rows if r.get("dtype") == dtype and "size" in r]
        if not sel:
            continue
        sizes = []
        for r in sel:
            if r["size"] not in sizes:
                sizes.append(r["size"])
        out += ["", f"energy + forces, {dtype}: ms per call, median [min]; ratios = Triton / other (< 1: Triton faster)", "",
                "| system | atoms | edges | " + " | ".join(routes) + " | Triton/PyTorch | Triton/MACE |",
                "|---|---|---|" + "---|" * len(routes) + "---|---|"]
        for size in sizes:
            cells, med = [], {}
            atoms = edges = ""
            for route in routes:
                r = next((x for x in sel if x["size"] == size and x["route"] == route), None)
                if r is None:
                    cells.append("")
                    continue
                atoms = r.get("atoms", atoms)
                edges = r.get("edges", edges) if route.startswith(("triton", "torch")) or not edges else edges
                if "median_ms" in r:
                    med[route] = r["median_ms"]
                    cells.append(f"{r['median_ms']:.2f} [{r['min_ms']:.2f}]")
                else:
                    cells.append("skipped" if "skipped" in r else "failed")
            ratio = lambda a, b: f"{med[a] / med[b]:.2f}" if a in med and b in med else ""
            mace_route = next((m for m in ("mace-e3nn", "mace-cueq") if m in med), None)
            name = "3BPA molecule" if size == "3bpa" else "3BPA box"
            out.append(f"| {name} | {atoms} | {edges} | " + " | ".join(cells) + f" | {ratio('triton', 'torch')} | "
                       f"{ratio('triton', mace_route) if mace_route else ''} |")
    if gaunt:
        errs = [r.get("force_rel_err") for r in gaunt["rows"] if r.get("force_rel_err") is not None]
        if errs:
            out.append(f"\nroutes agree: force rel. difference to the first route <= {max(errs):.1e}")
        mem = [r for r in gaunt["rows"] if "peak_mb" in r and r["route"] in ("triton", "torch")]
        if mem:
            out.append("peak MB (triton/torch): " + ", ".join(
                f"{r['dtype'][-2:]} {r['size']} {r['route']} {r['peak_mb']:.0f}" for r in mem))
        fails = [r for r in gaunt["rows"] + (mace["rows"] if mace else []) if "error" in r]
        for r in fails:
            out.append(f"FAILED {r.get('dtype')} {r.get('size')} {r.get('route')}: {r['error'][:200]}")
    if md:
        out += ["", f"MD (ASE VelocityVerlet, {md['timestep_fs']} fs, GauntCalculator on the GPU):", "",
                "| system | atoms | dtype | route | ms/step (mean) | median [max] | steps/s | ns/day | atom-steps/s | compiles |",
                "|---|---|---|---|---|---|---|---|---|---|"]
        for r in md["rows"]:
            if "error" in r:
                out.append(f"| {r['system']} | | {r['dtype']} | {r['route']} | failed: {r['error'][:120]} | | | | | |")
                continue
            spread = (f"{r['median_step_ms']:.1f} [{r['max_step_ms']:.1f}]" if "median_step_ms" in r else "")
            out.append(f"| {r['system']} | {r['atoms']} | {r['dtype']} | {r['route']} | {r['ms_per_step']:.1f} | {spread} | "
                       f"{r['steps_per_s']:.1f} | {r['ns_per_day']:.3f} | {r['atom_steps_per_s']:.0f} | "
                       f"{r.get('triton_compiled_during_steps', '')} |")
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("part", choices=["gaunt", "mace", "md", "table"])
    parser.add_argument("files", nargs="*", help="table: the JSON files of the parts")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument("--sizes", nargs="+", default=["3bpa", "1000", "5000", "10000", "20000"])
    parser.add_argument("--routes", nargs="+", default=["triton", "torch", "conv-triton", "fp-triton"])
    parser.add_argument("--split-max-atoms", type=int, default=10000, help="conv-/fp-triton only up to this size")
    parser.add_argument("--model", choices=["shipped", "eager"], default="shipped")
    parser.add_argument("--mace-variants", nargs="+", default=["e3nn"], choices=["e3nn", "cueq"])
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--min-time", type=float, default=0.5)
    parser.add_argument("--max-call", type=float, default=3.0)
    parser.add_argument("--time-limit", type=float, default=150.0)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--profile-size", default="10000")
    parser.add_argument("--profile-dtype", default="float32")
    parser.add_argument("--profile-top", type=int, default=12)
    parser.add_argument("--steps", type=int, default=100, help="md: timed steps on 3BPA")
    parser.add_argument("--box", default="10000", help="md: box size (atoms); none: no box")
    parser.add_argument("--box-steps", type=int, default=10)
    parser.add_argument("--md-warmup", type=int, default=10, help="md: untimed steps first")
    parser.add_argument("--fresh", action="store_true", help="md: a new calculator (model load) for each row; "
                        "default: one per dtype, so the first route's row absorbs TorchScript's warm-up")
    parser.add_argument("--box-dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument("--box-routes", nargs="+", default=["triton", "torch"])
    args = parser.parse_args(argv)
    if args.part == "table":
        print(tables([json.loads(Path(f).read_text()) for f in args.files if Path(f).exists()]))
        return 0
    result = {"gaunt": run_gaunt, "mace": run_mace, "md": run_md}[args.part](args)
    checkpoint(args, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
