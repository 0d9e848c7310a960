"""End-to-end speed: Gaunt-MACE against mace-torch's MACE of the same size, energy + forces.

Both models: hidden features 64x0e+64x1o (channels 64, hidden_lmax 1), edge harmonics and A
features to max_ell 3, correlation 3, 2 interactions, r_max 5, 8 Bessel functions, polynomial
cutoff p = 5, radial MLP [64, 64, 64], readout MLP 16, elements H C N O, avg_num_neighbors = the
mean neighbour count of the structure.  mace-torch: ScaleShiftMACE with
RealAgnosticResidualInteractionBlock in both layers (mace_run_train's defaults), untrained
weights; Gaunt-MACE: GauntMACE(ModelConfig(...)), untrained.

Each (model, structure, dtype) is measured in a fresh process: Gaunt-MACE in this venv
(`model_speed.py --worker`), MACE in the mace-torch venv (benchmarks/mace_worker.py, created by
benchmarks/mace_env.py on first use).  Timed: one model call with forces (Gaunt:
model(positions, ..., compute_forces=True); MACE: model(batch, compute_force=True)), weights
frozen as in the ASE calculators, eager PyTorch.  The neighbour list and graph tensors are built
once before timing (each code's own way: vesin for Gaunt-MACE, matscipy inside
AtomicData.from_config for MACE) and reported separately as 'graph ms'.  Memory: peak resident
set during the timed calls above the resident set just before them (after warm-up, with the
allocator's free pages returned), in MB.

Systems: the 27-atom 3BPA molecule (open boundaries) and periodic boxes of randomly packed 3BPA
molecules at 1 g/cm^3 (benchmarks/harness: a 999-atom box repeated).  A model stops at the
first size where one call takes longer than --max-call seconds, fails or would need more than
--mem-limit GB (extrapolated linearly from the last two boxes; a watchdog also stops a worker
whose resident set passes --mem-limit).

On a GPU (--device cuda) the same, with models and inputs on the GPU, memory = torch's peak
CUDA memory allocated during the timed calls above that allocated before them, and two more
models: gaunt-triton (Gaunt-MACE with gaunt_method="triton") and mace-cueq (the MACE model
converted to cuEquivariance by mace.cli.convert_e3nn_cueq, as mace's --enable_cueq does; a
failure, e.g. cuequivariance_torch missing, is reported in its column).  gaunt-factors (any
device): Gaunt-MACE with product_basis="factors" (the shipped potential's product basis; on
CUDA its Gaunt products and the interaction take their Triton kernels, as by default),
gaunt-factors-torch: the same on the PyTorch routes (GAUNT_MD_FACTOR_PRODUCTS=torch,
GAUNT_MD_CONV=torch).  "gaunt" is the PyTorch route throughout (GAUNT_MD_CONV=torch), and
"gaunt-triton" the Triton one (Triton many-body kernels and interaction).  --mace-python runs
MACE with that interpreter instead of benchmarks/.mace-venv, --mace-pythonpath putting a folder
(mace-torch and e3nn 0.4.4 installed there with pip --target) first on its PYTHONPATH.

    python benchmarks/model_speed.py --quick
    python benchmarks/model_speed.py --dtypes float64 float32 --sizes 3bpa 1000 2000 5000 10000
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import harness

HYPER = dict(
    channels=64, hidden_lmax=1, max_ell=3, correlation=3, num_interactions=2, r_max=5.0, num_bessel=8,
    cutoff_p=5, radial_hidden=[64, 64, 64], readout_hidden=16, atomic_numbers=[1, 6, 7, 8],
)
FULL = dict(sizes=["3bpa", "1000", "2000", "5000", "10000", "20000", "50000"], repeats=5, min_sample=1.0,
            max_call=60.0, budget=45.0)
QUICK = dict(sizes=["3bpa", "1000"], repeats=3, min_sample=0.3, max_call=20.0, budget=10.0)
MODELS = ("gaunt", "mace")
ALL_MODELS = ("gaunt", "gaunt-factors", "gaunt-factors-torch", "gaunt-triton", "gaunt-script", "mace", "mace-cueq")


# --- the Gaunt-MACE worker (this venv, fresh process) --------------------------------------

def gaunt_worker(req: dict) -> dict:
    import torch
    from ase.io import read

    from gaunt_md.data import SpeciesTable, collate, graph_from_atoms
    from gaunt_md.nn.config import ModelConfig
    from gaunt_md.nn.model import GauntMACE, count_parameters

    dtype = getattr(torch, req["dtype"])
    device = torch.device(req.get("device", "cpu"))
    torch.manual_seed(req.get("seed", 0))
    hyper = req["hyper"]
    cfg = ModelConfig(
        atomic_numbers=list(hyper["atomic_numbers"]), r_max=hyper["r_max"], num_bessel=hyper["num_bessel"],
        cutoff_p=hyper["cutoff_p"], max_ell=hyper["max_ell"], hidden_lmax=hyper["hidden_lmax"],
        channels=hyper["channels"], correlation=hyper["correlation"], num_interactions=hyper["num_interactions"],
        radial_hidden=list(hyper["radial_hidden"]), readout_hidden=hyper["readout_hidden"],
        avg_num_neighbors=hyper["avg_num_neighbors"], gaunt_method=req.get("gaunt_method", "auto"),
        product_basis=req.get("product_basis", "power"),
    )
    model = GauntMACE(cfg).to(device=device, dtype=dtype)
    model.eval()
    params = count_parameters(model)
    for p in model.parameters():  # inference: differentiate by positions only, as the calculator does
        p.requires_grad_(False)
    if req.get("script"):
        model = torch.jit.script(model)

    atoms = read(req["structure"])
    table = SpeciesTable(cfg.atomic_numbers)
    start = time.perf_counter()
    inputs = collate([graph_from_atoms(atoms, table, cfg.r_max, dtype=dtype)]).to(device).inputs()
    graph_s = time.perf_counter() - start

    def call():
        with torch.enable_grad():
            out = model(inputs, compute_forces=True)
        return out["energy"], out["forces"]

    energy, forces = call()
    timing = harness.timed_with_memory(call, device, req["repeats"], req["min_sample"],
                                       req.get("warmup", 2), req.get("budget"))
    from gaunt_md.ops import autotune_choices
    return {
        "model": "GauntMACE" + (" (TorchScript)" if req.get("script") else ""), "params": params,
        "atoms": len(atoms), "edges": int(edge_index.shape[1]), "graph_s": graph_s, "timing": timing,
        "energy": float(energy.sum()), "force_norm": float(forces.norm()), "threads": torch.get_num_threads(),
        "torch": torch.__version__, "autotune": {str(k): v for k, v in autotune_choices().items()},
        "device": str(device), "gaunt_method": cfg.gaunt_method,
    }


# --- the driver ---------------------------------------------------------------------------

def mean_neighbours(path: Path, r_max: float) -> tuple:
    from ase.io import read
    from gaunt_md.data import neighbour_list
    atoms = read(path)
    edge_index, _ = neighbour_list(atoms.positions, atoms.cell.array, atoms.pbc, r_max)
    return len(atoms), edge_index.shape[1], edge_index.shape[1] / max(len(atoms), 1)


def run_one(model: str, req: dict, mace: Optional[tuple], timeout: float, max_rss_gb: float) -> dict:
    """One measurement in a fresh worker; `mace` = (interpreter, environment) of the MACE workers."""
    if model.startswith("mace"):
        cmd = [mace[0], str(harness.ROOT / "benchmarks" / "mace_worker.py")]
        env = mace[1]
        if model == "mace-cueq":
            req = dict(req, cueq=True)
    else:
        cmd = harness.worker_command(__file__)
        env = dict(os.environ)
        if model == "gaunt-script":
            req = dict(req, script=True)
        if model == "gaunt-triton":
            req = dict(req, gaunt_method="triton")
        if model.startswith("gaunt-factors"):
            req = dict(req, product_basis="factors")
        if model in ("gaunt", "gaunt-factors-torch"):
            env.update(GAUNT_MD_FACTOR_PRODUCTS="torch", GAUNT_MD_CONV="torch")
    return harness.run_worker(cmd, req, env=env, timeout=timeout, max_rss_gb=max_rss_gb)


def fmt_mb(value) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.0f}"


def predict_memory_gb(points: List[tuple], atoms: int) -> float:
    """Peak resident set at `atoms`, extrapolated linearly through the last two boxes measured
    (proportionally from one; 0 from none).  Used to skip sizes that cannot fit."""
    if not points:
        return 0.0
    if len(points) == 1:
        n, gb = points[0]
        return gb * atoms / n
    (n0, g0), (n1, g1) = points[-2:]
    slope = max((g1 - g0) / (n1 - n0), 0.0) if n1 != n0 else g1 / n1
    return g1 + slope * (atoms - n1)


def print_table(rows: List[dict], models: List[str], min_cores: float = 0.0, device: str = "cpu") -> str:
    head = ["system", "atoms", "edges", "dtype"]
    for m in models:
        head += [f"{m} ms", f"{m} min"]
    for m in models[1:]:
        head += [f"{m}/{models[0]}"]
    head += [f"{m} MB" for m in models] + ["graph ms (g/m)"]
    body = []
    for r in rows:
        cells = [r["system"], str(r["atoms"]), str(r["edges"]), r["dtype"]]
        for m in models:
            res = r["results"].get(m, {})
            t = res.get("timing")
            star = "*" if t and t.get("cores_used", 9) < min_cores else ""
            cells += [harness.fmt_ms(t["median"]) + star if t else ("error" if "error" in res else
                                                                     res.get("skipped", "-")[:24]),
                      harness.fmt_ms(t["min"]) if t else "-"]
        base = r["results"].get(models[0], {}).get("timing")
        for m in models[1:]:
            t = r["results"].get(m, {}).get("timing")
            cells.append(f"{t['median'] / base['median']:.2f}" if t and base else "-")
        cells += [fmt_mb(harness.memory_mb(r["results"].get(m, {}).get("timing"), device)) for m in models]
        graph = [harness.fmt_ms(r["results"].get(m, {}).get("graph_s")) for m in models]
        cells.append("/".join(graph))
        body.append(cells)
    lines = [harness.markdown_table(head, body)]
    errors = {(m, r["results"][m]["error"]) for r in rows for m in models if "error" in r["results"].get(m, {})}
    lines += [f"\n{m} error: {e}" for m, e in sorted(errors)]
    text = "\n".join(lines)
    print(text)
    return text


def plot(rows: List[dict], models: List[str], path: Path, subtitle: str, device: str = "cpu") -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dtypes = sorted({r["dtype"] for r in rows})
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for dtype in dtypes:
        for m, marker in zip(models, "osd^vP"):
            pts = [(r["atoms"], r["results"][m]["timing"]["median"], harness.memory_mb(r["results"][m]["timing"], device))
                   for r in rows if r["dtype"] == dtype and "timing" in r["results"].get(m, {})]
            if not pts:
                continue
            style = "-" if dtype == "float64" else "--"
            axes[0].loglog([p[0] for p in pts], [p[1] * 1e3 for p in pts], style, marker=marker, label=f"{m} {dtype}")
            mem = [p for p in pts if p[2] is not None and not math.isnan(p[2]) and p[2] > 0]
            if mem:
                axes[1].loglog([p[0] for p in mem], [p[2] for p in mem], style, marker=marker, label=f"{m} {dtype}")
    axes[0].set_ylabel("energy + forces, ms per call (median)")
    axes[1].set_ylabel("peak CUDA memory of a call above baseline, MB" if device.startswith("cuda")
                       else "peak memory of a call above baseline, MB")
    for ax in axes:
        ax.set_xlabel("atoms")
    harness.finish_figure(fig, path, subtitle, axes)


def save(args, rows: List[dict], params: Dict[str, int], subtitle: str, table: str = "") -> str:
    args.out_dir.mkdir(parents=True, exist_ok=True)
    stem = ("model_speed" + ("_cuda" if args.device == "cuda" else "") + ("_quick" if args.quick else "")
            + (f"_{args.tag}" if args.tag else ""))
    (args.out_dir / f"{stem}.json").write_text(json.dumps(
        {"config": vars(args) | {"hyper": HYPER, "subtitle": subtitle, "git": harness.git_state()}, "parameters": params, "rows": rows,
         "table": table}, indent=1, default=str))
    return stem


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    served = harness.worker_main(argv, gaunt_worker)
    if served is not None:
        return served
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--quick", action="store_true", help="3BPA and a 1k box, fewer repeats")
    parser.add_argument("--dtypes", nargs="+", default=["float64", "float32"], choices=["float64", "float32"])
    parser.add_argument("--sizes", nargs="+", help="'3bpa' and/or box sizes in atoms "
                                                   f"(default {' '.join(FULL['sizes'])})")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(ALL_MODELS),
                        help="the first is the reference of the ratio columns (gaunt-triton: "
                             "gaunt_method='triton', CUDA; mace-cueq: MACE converted to cuEquivariance)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where models and inputs live")
    parser.add_argument("--mace-python", help="interpreter for the MACE workers instead of benchmarks/.mace-venv "
                                              "(which is then not created)")
    parser.add_argument("--mace-pythonpath", help="folder put first on PYTHONPATH of the MACE workers only "
                                                  "(mace-torch + e3nn 0.4.4 installed with pip --target)")
    parser.add_argument("--out-dir", type=Path, default=harness.RESULTS, help="where the JSON and PNG go "
                                                                             "(default benchmarks/results)")
    parser.add_argument("--time-limit", type=float, help="s: start no new measurement after this long "
                                                         "(the rest are reported as skipped)")
    parser.add_argument("--repeats", type=int, help="timed samples per point (default 5, quick 3)")
    parser.add_argument("--min-sample", type=float, help="seconds of calls per sample (default 1.0)")
    parser.add_argument("--budget", type=float, help="seconds of timed samples per point: fewer repeats "
                                                     "(at least 3) for slow calls (default 45)")
    parser.add_argument("--max-call", type=float, help="stop a model after a size where one call took longer, "
                                                       "in s (default 60)")
    parser.add_argument("--mem-limit", type=float, default=16.0, help="GB: skip a size whose extrapolated "
                                                                     "peak would exceed this")
    parser.add_argument("--timeout", type=float, default=900.0, help="s per worker process")
    parser.add_argument("--threads", type=int, help="torch threads in the workers (default: torch's)")
    parser.add_argument("--min-cores", type=float,
                        help="re-measure a point once if its process kept fewer cores busy than this "
                             "(another job on the machine); such points are starred in the table "
                             "(default 0.75 x torch threads)")
    parser.add_argument("--gaunt-method", default="auto", help="route of the Gaunt many-body op")
    parser.add_argument("--mace-reduced-cg", action="store_true", help="MACE with use_reduced_cg=True "
                                                                       "(mace_run_train's default is False)")
    parser.add_argument("--tag", default="", help="suffix of the output files")
    args = parser.parse_args(argv)
    harness.interrupt_once()
    defaults = QUICK if args.quick else FULL
    for key, value in defaults.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)

    mace = None
    if any(m.startswith("mace") for m in args.models):
        mace = harness.mace_python_env(args.mace_python, args.mace_pythonpath)

    import torch
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch.cuda.is_available() is False")
    if args.min_cores is None:
        args.min_cores = 0.0 if args.device == "cuda" else 0.75 * (args.threads or torch.get_num_threads())
    subtitle = (f"{harness.device_label(args.device)}, torch {torch.__version__}; "
                f"64x0e+64x1o, max_ell 3, correlation 3, 2 layers, r_max 5")
    print(f"Gaunt-MACE vs mace-torch MACE, energy + forces -- {subtitle}", flush=True)
    rows: List[dict] = []
    stopped: Dict[tuple, str] = {}
    memory: Dict[tuple, List[tuple]] = {}  # (atoms, peak resident GB) of the boxes measured so far
    params: Dict[str, int] = {}
    t_start = time.time()
    row: Optional[dict] = None
    try:
        for dtype in args.dtypes:
            for size in args.sizes:
                path = harness.structure_path(size)
                n_atoms, n_edges, avg = mean_neighbours(path, HYPER["r_max"])
                hyper = dict(HYPER, avg_num_neighbors=avg, reduced_cg=args.mace_reduced_cg)
                system = "3BPA molecule" if size == "3bpa" else "3BPA liquid box"
                row = {"system": system, "structure": str(path.relative_to(harness.ROOT)), "atoms": n_atoms, "edges": n_edges,
                       "dtype": dtype, "results": {}}
                for model in args.models:
                    key = (model, dtype)
                    if key in stopped:
                        row["results"][model] = {"skipped": stopped[key]}
                        continue
                    if args.time_limit is not None and time.time() - t_start > args.time_limit:
                        row["results"][model] = {"skipped": f"time limit {args.time_limit:g} s"}
                        continue
                    predicted = predict_memory_gb(memory.get(key, []), n_atoms)
                    if predicted > args.mem_limit:
                        stopped[key] = f"~{predicted:.0f} GB > {args.mem_limit:g}"
                        row["results"][model] = {"skipped": stopped[key]}
                        continue
                    req = {"task": "model", "structure": str(path), "dtype": dtype, "hyper": hyper,
                           "repeats": args.repeats, "min_sample": args.min_sample, "budget": args.budget,
                           "threads": args.threads, "gaunt_method": args.gaunt_method, "device": args.device}
                    res = run_one(model, req, mace, args.timeout, args.mem_limit)
                    if "timing" in res and res["timing"]["cores_used"] < args.min_cores:
                        # the machine was busy with something else: measure once more, keep the cleaner one
                        print(f"  {model} {dtype} {n_atoms} atoms: only {res['timing']['cores_used']:.1f} cores busy "
                              f"(load {res['timing']['load_after']:.1f}), measuring again", flush=True)
                        again = run_one(model, req, mace, args.timeout, args.mem_limit)
                        if "timing" in again and again["timing"]["cores_used"] > res["timing"]["cores_used"]:
                            res = again
                    row["results"][model] = res
                    if "error" in res:
                        stopped[key] = "failed"
                        print(f"  {model} {dtype} {n_atoms} atoms: {res['error']}", flush=True)
                        continue
                    params.setdefault(model, res["params"])
                    t = res["timing"]
                    if res["edges"] != n_edges:
                        print(f"  note: {model} built {res['edges']} edges, Gaunt's list has {n_edges}")
                    peak = harness.memory_mb(t, args.device)
                    if args.device == "cuda":  # the limit is then on the GPU memory of a call
                        if peak is not None and n_atoms >= 500:
                            memory.setdefault(key, []).append((n_atoms, peak / 1024))
                    elif peak is not None and not math.isnan(peak) and n_atoms >= 500:
                        memory.setdefault(key, []).append((n_atoms, (peak + t["rss_before_mb"]) / 1024))
                    if t["median"] > args.max_call:
                        stopped[key] = f"call > {args.max_call:g} s"
                    print(f"  {model:5s} {dtype} {n_atoms:6d} atoms {n_edges:8d} edges: median {harness.fmt_ms(t['median'])} ms"
                          f" min {harness.fmt_ms(t['min'])} ms, peak +{fmt_mb(peak)} MB, graph "
                          f"{harness.fmt_ms(res['graph_s'])} ms, {t['cores_used']:.1f} cores busy, load "
                          f"{t['load_before']:.1f}->{t['load_after']:.1f}  [{time.time() - t_start:.0f} s]", flush=True)
                rows.append(row)
                cueq, e3nn = row["results"].get("mace-cueq", {}), row["results"].get("mace", {})
                if "energy" in cueq and "energy" in e3nn:  # same weights: the energies must agree
                    print(f"  mace-cueq vs mace energy: {cueq['energy']:.6g} vs {e3nn['energy']:.6g}", flush=True)
                save(args, rows, params, subtitle)  # partial results survive an interrupted run
    except KeyboardInterrupt:  # e.g. `timeout -s INT`: report what was measured
        print(f"\ninterrupted after {time.time() - t_start:.0f} s; reporting the points measured", flush=True)
        if row is not None and row["results"] and (not rows or rows[-1] is not row):
            rows.append(row)  # the row under way, without the measurement that was cut

    print("\nparameters: " + ", ".join(f"{m} {n:,}" for m, n in params.items()))
    print("ms per energy+forces call (median of samples, and min); ratio = median / median of "
          f"{args.models[0]}; MB = " + ("peak CUDA memory allocated during a call above that allocated before it; "
                                        if args.device == "cuda" else
                                        "peak resident memory of a call above the resident set before it; ") +
          f"* = its process had fewer than {args.min_cores:g} cores to itself (busy machine)\n")
    table = print_table(rows, args.models, args.min_cores, args.device)
    stem = save(args, rows, params, subtitle, table)
    plot(rows, args.models, args.out_dir / f"{stem}.png", subtitle, args.device)
    print(f"\nwrote {args.out_dir / (stem + '.json')} and {stem}.png  [{time.time() - t_start:.0f} s]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
