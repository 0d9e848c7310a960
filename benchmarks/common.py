"""Helpers shared by the benchmark scripts: timing, peak memory, scaling fits, test structures,
and running a measurement in a fresh worker process.

This module must stay importable from the mace-torch venv (benchmarks/mace_env.py): it imports
numpy and torch only, ase and scipy lazily, and never gaunt_md.
"""
from __future__ import annotations

import ctypes
import gc
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
STRUCTURES = RESULTS / "structures"
MOLECULE = ROOT / "examples" / "data" / "3bpa_start.xyz"
RESULT_TAG = "BENCHMARK-RESULT "  # prefix of the one JSON line a worker prints


# --- timing -------------------------------------------------------------------------------

def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(fn: Callable[[], object], device: torch.device, repeats: int, min_sample: float,
            warmup: int = 2, once: Optional[float] = None) -> dict:
    """Per-call seconds: `warmup` calls, then `repeats` samples of enough calls to last
    min_sample (one call per sample once a call is that slow); min and median of the samples.
    'once' is the duration of the last warm-up call (pass it, with warmup=0, when the caller
    has warmed up already)."""
    for _ in range(warmup if once is not None else max(1, warmup)):
        start = time.perf_counter()
        fn()
        sync(device)
        once = time.perf_counter() - start
    inner = int(min(1000, max(1, min_sample / max(once, 1e-9))))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        sync(device)
        samples.append((time.perf_counter() - start) / inner)
    return {"min": min(samples), "median": statistics.median(samples), "once": once,
            "samples": samples, "calls_per_sample": inner}


def forward_backward(fn: Callable, inputs: List[torch.Tensor], grad: torch.Tensor) -> Callable[[], object]:
    def run():
        out = fn(*inputs)
        return torch.autograd.grad(out, inputs, grad)
    return run


def exponent(times: Dict[int, dict], fit_from: int = 3, key: str = "median") -> float:
    """Slope of log(time) against log(L) over L >= fit_from (nan with fewer than two points)."""
    ls = [l for l in sorted(times) if l >= fit_from]
    if len(ls) < 2:
        return float("nan")
    slope, _ = np.polyfit(np.log(ls), np.log([times[l][key] for l in ls]), 1)
    return float(slope)


# --- memory -------------------------------------------------------------------------------
# Peak resident set size of this process, from /proc (Linux).  Writing 5 to clear_refs resets
# the high-water mark, so the peak of one phase (the timed calls) can be taken on its own.

def _status_kb(field: str) -> Optional[int]:
    try:
        match = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    except OSError:
        return None
    return int(match.group(1)) if match else None


def rss_mb() -> float:
    kb = _status_kb("VmRSS")
    return float("nan") if kb is None else kb / 1024


def peak_rss_mb() -> float:
    kb = _status_kb("VmHWM")
    if kb is None:  # not Linux: ru_maxrss (kB on Linux, bytes on macOS), not resettable
        import resource
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 if sys.platform == "darwin" else 1)
    return kb / 1024


def settle_memory() -> None:
    """Free what can be freed and give the heap's free pages back, so that the resident set
    measured next is live data, not allocator cache."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def timed_with_memory(fn: Callable[[], object], device: torch.device, repeats: int, min_sample: float,
                      warmup: int = 2, budget: Optional[float] = None, slow_call: float = 5.0) -> dict:
    """measure(fn) plus the memory of the calls.  Warm-up: `warmup` calls, only one if a call
    takes longer than slow_call seconds; with `budget` (s), slow calls get fewer samples (never
    fewer than 3).  After the warm-up (first-call set-up such as autotuning is not counted) the
    allocator is trimmed, the resident set taken as the baseline and the high-water mark reset;
    'peak_extra_mb' is the highest resident set during the timed calls above that baseline
    (CUDA: 'cuda_peak_extra_mb', torch's peak allocated above the allocated)."""
    once = float("nan")
    for i in range(max(1, warmup)):
        start = time.perf_counter()
        fn()
        sync(device)
        once = time.perf_counter() - start
        if once > slow_call:
            break
    if budget is not None:
        repeats = max(3, min(repeats, int(budget / max(once, min_sample))))
    settle_memory()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device) / 2 ** 20
    base_rss = rss_mb()
    resettable = reset_peak_rss()
    cpu0, wall0, load0 = time.process_time(), time.perf_counter(), os.getloadavg()[0]
    out = measure(fn, device, max(1, repeats), min_sample, warmup=0, once=once)
    # cores this process kept busy during the timed calls, and the 1-minute load average
    # before and after them: a busy machine shows up as fewer cores or a higher load
    out["cores_used"] = (time.process_time() - cpu0) / max(time.perf_counter() - wall0, 1e-9)
    out["load_before"], out["load_after"] = load0, os.getloadavg()[0]
    out["rss_before_mb"] = base_rss
    out["peak_rss_mb"] = peak_rss_mb()
    out["peak_extra_mb"] = out["peak_rss_mb"] - base_rss if resettable else float("nan")
    if device.type == "cuda":
        out["cuda_peak_extra_mb"] = torch.cuda.max_memory_allocated(device) / 2 ** 20 - base
    return out


def git_state() -> str:
    """'<short HEAD>' plus ' + uncommitted changes in gaunt_md/' when the model code differs from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "gaunt_md"], cwd=ROOT, capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head or "unknown") + (" + uncommitted changes in gaunt_md/" if dirty else "")


# --- structures ---------------------------------------------------------------------------

def molecule():
    from ase.io import read
    return read(MOLECULE)


def _random_packing(n_molecules: int, density: float, min_distance: float, seed: int, batch: int = 64,
                    max_batches: int = 4000):
    """n randomly rotated copies of the 3BPA molecule placed one at a time at random positions in
    a periodic cube of the given density (g/cm^3), each keeping min_distance (A) from every atom
    already placed (random sequential addition; trial placements are tested in batches)."""
    from ase import Atoms
    from scipy.spatial import cKDTree
    from scipy.spatial.transform import Rotation

    mol = molecule()
    centred = mol.positions - mol.get_center_of_mass()
    grams_per_amu = 1.66053906660e-24
    side = (n_molecules * mol.get_masses().sum() * grams_per_amu / density) ** (1 / 3) * 1e8  # A
    rng = np.random.default_rng(seed)
    placed: List[np.ndarray] = []
    tree = None
    for k in range(n_molecules):
        for _ in range(max_batches):
            rot = Rotation.random(batch, random_state=rng).as_matrix()
            trial = np.einsum("bij,aj->bai", rot, centred) + rng.uniform(0, side, (batch, 1, 3))
            if tree is None:
                ok = np.ones(batch, dtype=bool)
            else:
                hits = tree.query_ball_point((trial % side).reshape(-1, 3), min_distance, return_length=True)
                ok = ~(hits.reshape(batch, -1) > 0).any(axis=1)
            if ok.any():
                placed.append(trial[int(np.argmax(ok))])
                break
        else:
            raise RuntimeError(f"placed only {k} of {n_molecules} molecules at min_distance {min_distance}")
        tree = cKDTree(np.concatenate(placed) % side, boxsize=side)
    symbols = mol.get_chemical_symbols() * n_molecules
    atoms = Atoms(symbols, positions=np.concatenate(placed), cell=np.eye(3) * side, pbc=True)
    atoms.wrap()
    return atoms


def _near_cubic_factors(k: int) -> tuple:
    """(a, b, c) with a*b*c == k, as close to a cube as possible."""
    best = (k, 1, 1)
    for a in range(1, k + 1):
        if k % a:
            continue
        for b in range(1, k // a + 1):
            if (k // a) % b:
                continue
            c = k // a // b
            if max(a, b, c) < max(best):
                best = tuple(sorted((a, b, c), reverse=True))
    return best


BASE_MOLECULES = 37          # 999 atoms: the randomly packed box that larger boxes repeat
DENSITY = 1.0                # g/cm^3, liquid-like
MIN_DISTANCE = 1.4           # A between atoms of different molecules (random packing jams above
                             # ~1.5 A at this density; contacts are unphysical but the edge count
                             # per atom, which sets the cost, is that of a liquid)


def molecule_box(target_atoms: int, seed: int = 7) -> "object":
    """A periodic box of 3BPA molecules at ~1 g/cm^3 with about target_atoms atoms: the
    999-atom randomly packed box repeated k = round(target / 999) times (as a near-cubic
    a x b x c supercell), cached as extxyz under benchmarks/results/structures/."""
    from ase.io import read, write

    STRUCTURES.mkdir(parents=True, exist_ok=True)
    base_path = STRUCTURES / f"3bpa_box_{BASE_MOLECULES * 27}_seed{seed}.xyz"
    if base_path.exists():
        base = read(base_path)
    else:
        base = _random_packing(BASE_MOLECULES, DENSITY, MIN_DISTANCE, seed)
        write(base_path, base, format="extxyz")
    copies = max(1, round(target_atoms / len(base)))
    reps = _near_cubic_factors(copies)
    path = STRUCTURES / f"3bpa_box_{len(base) * copies}_seed{seed}.xyz"
    if not path.exists():
        write(path, base.repeat(reps), format="extxyz")
    return path


def structure_path(name: str) -> Path:
    """'3bpa' -> the 27-atom molecule (open boundaries); an integer string -> a box of about
    that many atoms."""
    if name == "3bpa":
        return MOLECULE
    return molecule_box(int(name))


# --- workers ------------------------------------------------------------------------------

def _child_rss_gb(pid: int) -> float:
    try:
        match = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    except OSError:
        return 0.0
    return int(match.group(1)) / 2 ** 20 if match else 0.0


def run_worker(cmd: Sequence[str], request: dict, env: Optional[dict] = None, timeout: Optional[float] = None,
               max_rss_gb: Optional[float] = None) -> dict:
    """Run `cmd request.json` in a fresh process; return the JSON it prints after RESULT_TAG,
    or {'error': ...} if it failed (non-zero exit, killed, timed out, or stopped by the
    watchdog for a resident set above max_rss_gb -- which keeps a shared machine alive)."""
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(request, fh)
        req_path = fh.name
    out_file = tempfile.TemporaryFile("w+")
    err_file = tempfile.TemporaryFile("w+")
    why = None
    try:
        proc = subprocess.Popen(list(cmd) + [req_path], env=env, stdout=out_file, stderr=err_file, text=True)
        start = time.time()
        while proc.poll() is None:
            time.sleep(0.2)
            if timeout is not None and time.time() - start > timeout:
                why = f"timed out after {timeout:.0f} s"
            elif max_rss_gb is not None and _child_rss_gb(proc.pid) > max_rss_gb:
                why = f"stopped: resident memory above {max_rss_gb:g} GB"
            if why:
                proc.kill()
                proc.wait()
                break
        out_file.seek(0)
        err_file.seek(0)
        stdout, stderr = out_file.read(), err_file.read()
    finally:
        os.unlink(req_path)
        out_file.close()
        err_file.close()
    if why:
        return {"error": why}
    for line in stdout.splitlines():
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG):])
    if proc.returncode < 0:
        why = f"killed by signal {-proc.returncode}" + (" (out of memory?)" if proc.returncode == -9 else "")
    else:
        why = f"exit {proc.returncode}"
    tail = (stderr or stdout).strip().splitlines()[-3:]
    return {"error": f"{why}: {' | '.join(tail)[-400:]}"}


def mace_python_env(python: Optional[str] = None, pythonpath: Optional[str] = None) -> tuple:
    """(interpreter, environment) for a MACE worker (benchmarks/mace_worker.py).  By default the
    mace venv of benchmarks/mace_env.py, created on first use.  With `python` (e.g. a CUDA
    machine without internet, where mace-torch and e3nn 0.4.4 were pip-installed with --target
    into a folder): that interpreter with this process's environment, `pythonpath` (the
    --target folder) put first on PYTHONPATH of the MACE worker only -- the Gaunt workers need
    the project's newer e3nn -- and the flag e3nn 0.4.4 needs under torch >= 2.6."""
    import mace_env
    if not python:
        return str(mace_env.ensure()), mace_env.worker_env()
    env = dict(os.environ)
    env["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = "1"
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join([pythonpath] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return str(python), env


def device_label(device: str) -> str:
    """'CPU, n cores' or the GPU's name (torch.cuda.get_device_name) with the CUDA version."""
    if device.startswith("cuda"):
        return f"GPU {torch.cuda.get_device_name(torch.device(device))}, CUDA {torch.version.cuda}"
    return f"CPU, {os.cpu_count()} cores"


def memory_mb(timing: Optional[dict], device: str = "cpu") -> Optional[float]:
    """The memory of a timed call: peak resident set above the baseline on CPU, torch's peak
    allocated above the allocated on CUDA."""
    if not timing:
        return None
    return timing.get("cuda_peak_extra_mb" if device.startswith("cuda") else "peak_extra_mb")


def interrupt_once() -> None:
    """Turn the first SIGINT into KeyboardInterrupt and ignore the ones after it, so that a
    driver stopped by `timeout -s INT` (which signals the process and then its group) can still
    print and save what it measured."""
    import signal

    def handler(signum, frame):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)


def serve_request(path: str, worker: Callable[[dict], dict]) -> int:
    """The `--worker REQUEST.json` side of run_worker: read the request, set the thread count
    it asks for, run `worker` on it and emit the result."""
    import warnings

    warnings.filterwarnings("ignore", category=UserWarning)
    request = json.loads(Path(path).read_text())
    if request.get("threads"):
        torch.set_num_threads(int(request["threads"]))
    emit(worker(request))
    return 0


def emit(result: dict) -> None:
    """Print a worker's result as the tagged JSON line run_worker looks for."""
    print(RESULT_TAG + json.dumps(result, default=_jsonable), flush=True)


def _jsonable(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)


def fmt_ms(seconds: Optional[float]) -> str:
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "-"
    ms = seconds * 1e3
    return f"{ms:.0f}" if ms >= 100 else f"{ms:.1f}" if ms >= 1 else f"{ms:.3f}"


def finish_figure(fig, path, title: str, axes=(), fontsize: int = 9, dpi: int = 120) -> None:
    """Grid and legend on `axes`, the title, and the PNG at `path` (the figure is closed)."""
    import matplotlib.pyplot as plt

    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=fontsize)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
