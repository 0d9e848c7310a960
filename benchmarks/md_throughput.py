"""MD throughput of the shipped potential (potentials/gaunt_mace_3bpa.pt) in ASE and LAMMPS.

1. One 3BPA molecule (27 atoms, examples/data/3bpa_start.xyz, in vacuum), NVE at 300 K with a
   0.5 fs step, float64 and float32: steps/s and ns/day for
     * ASE: GauntCalculator + VelocityVerlet (in this process),
     * LAMMPS: `lmp` with `pair_style gaunt [dtype float32]`, fix nve, 1 and 2 MPI ranks.
2. The GauntCalculator overhead over the raw TorchScript call on 3BPA: calc.get_forces()
   with one atom moved before each call (so nothing is cached) against
   module(prepared_inputs, compute_forces=True) on inputs prepared once; also the input preparation alone
   (neighbour list + tensors).  Reported in ms and % of the calculator call.
3. atoms*steps/s on a periodic box of ~--box-atoms atoms (3BPA molecules 10 A apart, as in
   benchmarks/lammps.py) for ASE and LAMMPS 1 and 2 ranks, --box-steps timed steps.

Every process is warmed up with 3 force calls first (TorchScript's profiling executor makes
the first three calls of a freshly loaded model slow); for the box, on a third of its
molecules (see benchmarks/lammps.py).  LAMMPS runs `lmp` as installed; --lmp installed preload
adds rows with LD_PRELOAD=libtorch_cpu.so, the former work-around for the reference BLAS that
the wheel's liblammps.so exports (the plugin's loader now keeps torch on its own BLAS by
opening libtorch_cpu.so with RTLD_DEEPBIND, see benchmarks/lammps.py); the box uses the
preloaded variant when it is selected.  One torch thread per process by default (--threads).
The Gaunt-product method is forced to --method (default grid, what method=auto picks on this
CPU) so that autotuning does not land in timed steps.

    python benchmarks/md_throughput.py --quick
    flock /tmp/bench.lock python benchmarks/md_throughput.py

Writes benchmarks/results/md_throughput_<tag>.json and .png and prints tables.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

import harness  # before lammps.py, which takes benchmarks/ off sys.path

HERE = Path(__file__).resolve().parent
ROOT = harness.ROOT
_spec = importlib.util.spec_from_file_location("gaunt_bench_lammps", HERE / "lammps.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

RESULTS = bench.RESULTS
MODEL = bench.MODEL
START = bench.START
TIMESTEP_FS = bench.TIMESTEP_FS

FULL = dict(steps=60, box_atoms=9000, box_steps=1, overhead_calls=60, ranks=[1, 2])
QUICK = dict(steps=10, box_atoms=200, box_steps=1, overhead_calls=10, ranks=[1, 2])


def ns_per_day(steps_per_s: float) -> float:
    return steps_per_s * TIMESTEP_FS * 1e-6 * 86400.0


def molecule(seed: int):
    """3BPA with 300 K velocities, centred in 15 A of vacuum (the cell only matters to LAMMPS)."""
    from ase.io import read

    mol = read(START)
    mol.center(vacuum=15.0)
    mol.pbc = False
    return bench.with_velocities(mol, seed)


def throughput_row(row: dict, system: str, dtype: str) -> dict:
    steps_per_s = 1.0 / row["time_per_step_s"]
    return {**row, "system": system, "dtype": dtype, "steps_per_s": steps_per_s,
            "ns_per_day": ns_per_day(steps_per_s)}


# --- calculator overhead ------------------------------------------------------------------

def calculator_overhead(dtype: str, calls: int, threads: int, method: Optional[str]) -> dict:
    """Median ms per call of GauntCalculator.get_forces (one atom moved each call), of the
    raw TorchScript call on prepared inputs, and of the input preparation alone; the overhead
    is the median of the paired differences calculator - raw (and the difference of minima)."""
    import torch
    from ase.io import read

    from gaunt_md import GauntCalculator

    torch.set_num_threads(threads)
    if method:
        os.environ["GAUNT_MD_METHOD"] = method
    atoms = read(START)
    calc = GauntCalculator(str(MODEL), device="cpu", dtype=dtype)
    atoms.calc = calc
    module = calc.models[0].module
    rng = np.random.default_rng(0)

    def calculator_call():
        atoms.positions[rng.integers(len(atoms))] += rng.normal(scale=1e-3, size=3)
        atoms.get_forces()

    inputs = calc._inputs(atoms)

    def raw_call():
        with torch.enable_grad():
            out = module(inputs, compute_forces=True)
        out["forces"].detach()

    def prepare():
        calc._inputs(atoms)

    for _ in range(4):                       # TorchScript warm-up (profiling executor)
        calculator_call()
        raw_call()
    samples: Dict[str, List[float]] = {"calculator": [], "raw": [], "inputs": []}
    for _ in range(calls):                   # interleaved, so load changes hit all three alike
        for name, fn in (("calculator", calculator_call), ("raw", raw_call), ("inputs", prepare)):
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    med = {k: 1e3 * statistics.median(v) for k, v in samples.items()}
    low = {k: 1e3 * min(v) for k, v in samples.items()}
    # paired differences of back-to-back calls: robust against the load drifting on a shared machine
    over = 1e3 * statistics.median(c - r for c, r in zip(samples["calculator"], samples["raw"]))
    return {"dtype": dtype, "calls": calls, "threads": threads,
            "calculator_ms": med["calculator"], "raw_model_ms": med["raw"], "inputs_ms": med["inputs"],
            "overhead_ms": over, "overhead_pct": 100.0 * over / med["calculator"],
            "overhead_of_minima_ms": low["calculator"] - low["raw"], "min_ms": low}


# --- output -------------------------------------------------------------------------------

def label(row: dict) -> str:
    if row["engine"] == "ase":
        return "ASE"
    return f"LAMMPS {row['ranks']} rank{'s' if row['ranks'] > 1 else ''}" + \
        (" +preload" if row.get("preload_torch") else "")


def tables(mol_rows: List[dict], box_rows: List[dict], overhead: List[dict], cores: int) -> str:
    out = ["3BPA (27 atoms), NVE, 0.5 fs:", "", harness.markdown_table(
        ["run", "dtype", "ms/step", "steps/s", "ns/day"],
        [[label(r), r["dtype"], f"{r['time_per_step_s'] * 1e3:.1f}", f"{r['steps_per_s']:.2f}", f"{r['ns_per_day']:.3f}"]
         for r in mol_rows])]
    if box_rows:
        n = box_rows[0]["atoms"]
        ref = next((r for r in box_rows if r["engine"] == "lammps" and r["ranks"] == 1), None)
        cells = []
        for r in box_rows:
            speed = f"{ref['time_per_step_s'] / r['time_per_step_s']:.2f}" if ref and r["engine"] == "lammps" else ""
            nodes = (r.get("bridge") or {}).get("nodes_per_rank")
            oversub = " (oversubscribed)" if r["ranks"] * r["threads"] > cores else ""
            cells.append([f"{label(r)}{oversub}", r["dtype"], f"{r['time_per_step_s']:.2f}", f"{r['atom_steps_per_s']:.0f}",
                          speed, "" if nodes is None else format(nodes, ".0f")])
        out += ["", f"Periodic box, {n} atoms:", "", harness.markdown_table(
            ["run", "dtype", "s/step", "atom-steps/s", "speed-up vs LAMMPS 1 rank", "graph nodes/rank"], cells)]
    if overhead:
        out += ["", f"GauntCalculator overhead on 3BPA (median ms per call, {overhead[0]['calls']} calls each):", "",
                harness.markdown_table(
                    ["dtype", "calc.get_forces", "raw TorchScript call", "overhead (median of pairs)",
                     "overhead (min - min)", "input preparation (neighbour list, tensors)"],
                    [[o["dtype"], f"{o['calculator_ms']:.2f}", f"{o['raw_model_ms']:.2f}",
                      f"{o['overhead_ms']:.2f} ms ({o['overhead_pct']:.1f}%)", f"{o['overhead_of_minima_ms']:.2f} ms",
                      f"{o['inputs_ms']:.2f} ms"] for o in overhead])]
    return "\n".join(out)


def short(name: str) -> str:
    """Tick label on three short lines."""
    return name.replace("LAMMPS ", "LAMMPS\n").replace(" +preload", "\n+preload")


def plot(mol_rows, box_rows, overhead, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    names = sorted({label(r) for r in mol_rows}, key=lambda s: (s != "ASE", s))
    width = 0.38
    for k, dtype in enumerate(("float64", "float32")):
        vals = [next((r["ns_per_day"] for r in mol_rows if label(r) == n and r["dtype"] == dtype), 0.0) for n in names]
        axes[0].bar(np.arange(len(names)) + (k - 0.5) * width, vals, width, label=dtype)
    axes[0].set_xticks(np.arange(len(names)), [short(n) for n in names])
    axes[0].set_ylabel("ns/day (0.5 fs step)")
    axes[0].set_title("3BPA, 27 atoms")
    axes[0].legend()
    if box_rows:
        axes[1].bar([short(label(r)) for r in box_rows], [r["atom_steps_per_s"] for r in box_rows], color="tab:green")
        axes[1].set_ylabel("atoms x steps / s")
        axes[1].set_title(f"periodic box, {box_rows[0]['atoms']} atoms")
    if overhead:
        x = [o["dtype"] for o in overhead]
        raw = np.array([o["raw_model_ms"] for o in overhead])
        prep = np.array([min(o["inputs_ms"], max(o["overhead_ms"], 0.0)) for o in overhead])
        rest = np.array([max(o["overhead_ms"], 0.0) for o in overhead]) - prep
        axes[2].bar(x, raw, label="raw TorchScript call")
        axes[2].bar(x, prep, bottom=raw, label="input preparation (neighbour list, tensors)")
        axes[2].bar(x, rest, bottom=raw + prep, label="rest of the calculator")
        axes[2].set_ylabel("ms per force call")
        axes[2].set_title("GauntCalculator overhead, 3BPA")
        axes[2].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    harness.save_figure(fig, path)


# --- driver -------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, help="timed MD steps on 3BPA (default 60)")
    parser.add_argument("--dtypes", nargs="+", default=["float64", "float32"], choices=["float64", "float32"])
    parser.add_argument("--ranks", type=int, nargs="+", help="LAMMPS rank counts (default 1 2)")
    parser.add_argument("--box-atoms", type=int, help="target atoms of the periodic box (0: skip; default 10000)")
    parser.add_argument("--box-steps", type=int, help="timed MD steps on the box (default 1)")
    parser.add_argument("--box-dtype", default="float64", choices=["float64", "float32"])
    parser.add_argument("--overhead-calls", type=int, help="timed calls per variant for the calculator overhead")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument("--lmp", nargs="+", default=["installed"], choices=["installed", "preload"],
                        help="lmp as installed and/or with LD_PRELOAD=libtorch_cpu.so, the former work-around "
                             "(see benchmarks/lammps.py)")
    parser.add_argument("--installed-ranks", type=int, nargs="+", default=[1],
                        help="rank counts of the as-installed lmp rows when both variants run (default 1)")
    parser.add_argument("--method", default="grid", help="GAUNT_MD_METHOD ('auto' to autotune)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="10 steps, a 216-atom box, 10 overhead calls")
    parser.add_argument("--tag", help="results file name suffix (default full/quick)")
    args = parser.parse_args(argv)

    d = QUICK if args.quick else FULL
    steps = args.steps or d["steps"]
    ranks = args.ranks or d["ranks"]
    box_atoms = d["box_atoms"] if args.box_atoms is None else args.box_atoms
    box_steps = args.box_steps or d["box_steps"]
    calls = args.overhead_calls or d["overhead_calls"]
    method = None if args.method == "auto" else args.method
    warmup = bench.WARMUP_CALLS
    cores = os.cpu_count() or 1
    tag = args.tag or ("quick" if args.quick else "full")
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    print(f"# MD throughput, {MODEL.name}: {steps} steps on 3BPA, {box_steps} on a ~{box_atoms}-atom box, "
          f"{args.threads} torch thread(s) per process, method {args.method}, {cores} cores", flush=True)
    if any(r * args.threads > cores for r in ranks):
        print(f"# NOTE: more ranks x threads than the {cores} cores: oversubscribed", flush=True)

    overhead = []
    for dtype in args.dtypes:
        o = calculator_overhead(dtype, calls, args.threads, method)
        overhead.append(o)
        print(f"  calculator {dtype}: get_forces {o['calculator_ms']:.2f} ms, raw {o['raw_model_ms']:.2f} ms, "
              f"overhead {o['overhead_ms']:.2f} ms ({o['overhead_pct']:.1f}%), inputs {o['inputs_ms']:.2f} ms",
              flush=True)

    mol = molecule(args.seed)
    mol_rows = []
    for dtype in args.dtypes:
        row = throughput_row(bench.run_ase(mol, args.threads, steps, warmup, MODEL, dtype, method), "3bpa", dtype)
        mol_rows.append(row)
        print(f"  3BPA {label(row):15s} {dtype}: {row['time_per_step_s'] * 1e3:.1f} ms/step, "
              f"{row['ns_per_day']:.3f} ns/day", flush=True)
        for variant in args.lmp:
            for p in (ranks if variant == "preload" or len(args.lmp) == 1 else args.installed_ranks):
                row = throughput_row(bench.run_lammps(mol, p, args.threads, steps, warmup, MODEL, dtype, method,
                                                      periodic=False, preload_torch=variant == "preload"),
                                     "3bpa", dtype)
                mol_rows.append(row)
                print(f"  3BPA {label(row):15s} {dtype}: {row['time_per_step_s'] * 1e3:.1f} ms/step, "
                      f"{row['ns_per_day']:.3f} ns/day (job {row['job_wall_s']:.0f} s)", flush=True)

    box_rows = []
    if box_atoms:
        box, counts, warm = bench.build_system(box_atoms, 10.0, args.seed)
        box = bench.with_velocities(box, args.seed)
        print(f"# box: {len(box)} atoms ({'x'.join(map(str, counts))} molecules)", flush=True)
        row = bench.run_ase(box, args.threads, box_steps, warmup, MODEL, args.box_dtype, method, warm)
        box_rows.append(throughput_row(row, "box", args.box_dtype))
        print(f"  box ASE: {row['time_per_step_s']:.2f} s/step, {row['atom_steps_per_s']:.0f} atom-steps/s", flush=True)
        for p in ranks:
            row = bench.run_lammps(box, p, args.threads, box_steps, warmup, MODEL, args.box_dtype, method, warm=warm,
                                   preload_torch="preload" in args.lmp)
            box_rows.append(throughput_row(row, "box", args.box_dtype))
            print(f"  box {label(row)}: {row['time_per_step_s']:.2f} s/step, {row['atom_steps_per_s']:.0f} "
                  f"atom-steps/s (job {row['job_wall_s']:.0f} s)", flush=True)

    text = tables(mol_rows, box_rows, overhead, cores)
    print()
    print(text)
    payload = {"benchmark": "md_throughput", "model": str(MODEL), "steps": steps, "box_steps": box_steps,
               "warmup_calls": warmup, "threads": args.threads, "method": args.method, "timestep_fs": TIMESTEP_FS,
               "total_s": time.perf_counter() - started, "environment": bench.environment(),
               "molecule": mol_rows, "box": box_rows, "calculator_overhead": overhead, "table": text}
    out = RESULTS / f"md_throughput_{tag}.json"
    out.write_text(json.dumps(payload, indent=1))
    plot(mol_rows, box_rows, overhead, out.with_suffix(".png"),
         f"{MODEL.name}: {args.threads} torch thread(s)/process, {cores} cores, {steps} steps (3BPA), "
         f"{box_steps} (box)")
    print(f"\nwrote {out} and {out.with_suffix('.png')}  ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
