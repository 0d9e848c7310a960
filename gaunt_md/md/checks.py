"""Everything the stability command line can check before it prints its header or writes a
file: numbers in range, a readable starting geometry, a usable model file for its elements,
a device that exists.  Each problem is a ValueError / FileNotFoundError naming the option."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable, Optional

from ase import Atoms


def _finite(value: float) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def check_numbers(runs: int, time_ps: float, timestep_fs: float, friction: float, ensemble: str,
                  traj_every: int, jobs: int, threads: int, temperatures: Iterable[float]) -> None:
    problems = []
    if runs < 1:
        problems.append(f"--runs must be >= 1, got {runs}")
    if not (_finite(time_ps) and time_ps > 0):
        problems.append(f"--time-ps must be a positive number, got {time_ps:g}")
    if not (_finite(timestep_fs) and timestep_fs > 0):
        problems.append(f"--timestep-fs must be a positive number, got {timestep_fs:g}")
    elif _finite(time_ps) and time_ps > 0 and time_ps * 1000.0 / timestep_fs > 1e9:
        problems.append(f"--time-ps {time_ps:g} at --timestep-fs {timestep_fs:g} is more than 1e9 steps")
    if not _finite(friction) or friction < 0:
        problems.append(f"--friction must be a non-negative number (1/fs), got {friction:g}")
    elif friction == 0 and ensemble == "nvt":
        problems.append("--friction 0 turns the Langevin thermostat off: use --ensemble nve for dynamics without one")
    if traj_every < 0:
        problems.append(f"--traj-every must be >= 0, got {traj_every}")
    if jobs < 1 or threads < 1:
        problems.append(f"--jobs and --threads must be >= 1, got {jobs} and {threads}")
    bad_t = [t for t in temperatures if not (_finite(t) and t > 0)]
    if bad_t:
        problems.append(f"--temperatures must be positive numbers, got {bad_t}")
    if problems:
        raise ValueError("; ".join(problems))


def check_model(model: Path, atoms: Atoms) -> dict:
    """The metadata of a model file that loads (intact, consistent: deploy.load_model, on the
    CPU, once) and knows every element of `atoms`."""
    from ..deploy import load_model

    if not model.exists():
        raise FileNotFoundError(
            f"model not found: {model} (train one with `gaunt-md train examples/train_3bpa.yaml`, export it "
            "with `gaunt-md export`, or pass --model)"
        )
    try:
        meta = load_model(model, device="cpu").metadata
    except (ValueError, RuntimeError) as err:
        raise ValueError(f"--model: {err}") from err
    known = set(meta.get("atomic_numbers", []))
    missing = sorted({s for s, z in zip(atoms.get_chemical_symbols(), atoms.numbers) if int(z) not in known})
    if missing:
        raise ValueError(f"--model {model} does not know the element(s) {', '.join(missing)} of the starting "
                         f"geometry (it knows {', '.join(meta.get('symbols', []))})")
    return meta


def check_device(device: str, dtype: Optional[str]) -> None:
    import torch

    if device == "auto":
        return
    try:
        resolved = torch.device(device)
    except (RuntimeError, ValueError) as err:
        raise ValueError(f"--device {device!r} is not a device (cpu, cuda, cuda:N or auto)") from err
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--device {device}: CUDA is not available here (use --device cpu or auto)")
    if resolved.type not in ("cpu", "cuda"):
        raise ValueError(f"--device {device}: only cpu and cuda are supported")
