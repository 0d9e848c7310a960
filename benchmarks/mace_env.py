"""The separate virtual environment with mace-torch that the comparison benchmarks run MACE in.

mace-torch 0.3.16 pins e3nn 0.4.4, which conflicts with the project's e3nn, so it lives in its
own venv at benchmarks/.mace-venv (git-ignored).  Creating it is idempotent: a venv that already
imports the expected versions is reused.  torch is installed first, on its own, so that pip
takes the CPU build from the local wheel directory instead of resolving the CUDA build as a
dependency of mace-torch.  cuequivariance (pure Python, no CUDA needed) is added because
mace-torch computes the coupling basis of SymmetricContraction with it where e3nn's Wigner 3j
symbols (degree <= 11) do not reach, i.e. for input degree L >= 4 at correlation 3; the MACE
models of model_speed.py (L = 3) do not use it.

    python benchmarks/mace_env.py            # create if needed, print the venv's python
    python benchmarks/mace_env.py --check    # only report whether it is ready (exit 1 if not)
"""
from __future__ import annotations

import argparse
import fcntl
import os
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".mace-venv"
TORCH_VERSION = "2.13.0"
MACE_VERSION = "0.3.16"
CUEQ_VERSION = "0.13.0"
_PROBE = (
    "import os; os.environ.setdefault('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1'); "
    "import torch, mace, e3nn, cuequivariance; from mace.modules import MACE; "
    "print(torch.__version__, mace.__version__, e3nn.__version__, cuequivariance.__version__)"
)


def python_path(venv_dir: Path = VENV) -> Path:
    return venv_dir / "bin" / "python"


def worker_env() -> dict:
    """Environment for processes running in the mace venv.  e3nn 0.4.4's `from e3nn import o3`
    loads a torch file that torch >= 2.6 refuses with weights_only loading; mace sets this flag
    on import, and the worker may import e3nn before mace."""
    env = dict(os.environ)
    env["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = "1"
    env.pop("PYTHONPATH", None)  # never let the project's packages leak into the mace venv
    return env


def versions(venv_dir: Path = VENV) -> str | None:
    """'torch mace e3nn cuequivariance' versions if the venv imports them all, else None."""
    py = python_path(venv_dir)
    if not py.exists():
        return None
    try:
        out = subprocess.run([str(py), "-c", _PROBE], env=worker_env(), capture_output=True, text=True,
                             timeout=300, cwd="/")
    except subprocess.TimeoutExpired:
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip().splitlines()[-1]


def _ready(found: str | None) -> bool:
    if not found:
        return False
    torch_v, mace_v, _, cueq_v = found.split()
    return torch_v.split("+")[0] == TORCH_VERSION and mace_v == MACE_VERSION and cueq_v == CUEQ_VERSION


def ensure(venv_dir: Path = VENV, quiet: bool = False) -> Path:
    """Create (or repair) the venv and return its python.  Safe to call concurrently."""
    venv_dir.parent.mkdir(parents=True, exist_ok=True)
    lock_path = venv_dir.parent / ".mace-venv.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _ready(versions(venv_dir)):
            return python_path(venv_dir)
        log = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
        log(f"creating the mace-torch venv at {venv_dir} (a few minutes, once)")
        if not python_path(venv_dir).exists():
            venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
        pip = [str(python_path(venv_dir)), "-m", "pip", "install", "--disable-pip-version-check"]
        if quiet:
            pip.append("-q")
        # torch first and alone: the CPU build from the local wheel directory
        subprocess.run(pip + [f"torch=={TORCH_VERSION}"], check=True)
        subprocess.run(pip + [f"mace-torch=={MACE_VERSION}", f"cuequivariance=={CUEQ_VERSION}"], check=True)
        found = versions(venv_dir)
        if not _ready(found):
            raise RuntimeError(f"the mace venv at {venv_dir} does not import mace-torch {MACE_VERSION} with torch "
                               f"{TORCH_VERSION} after installing (found: {found})")
        log(f"mace venv ready: torch, mace-torch, e3nn, cuequivariance = {found}")
        return python_path(venv_dir)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether the venv is ready")
    args = parser.parse_args(argv)
    if args.check:
        found = versions()
        print(f"{VENV}: {'ready' if _ready(found) else 'not ready'} "
              f"(torch, mace-torch, e3nn, cuequivariance: {found or 'not importable'})")
        return 0 if _ready(found) else 1
    print(ensure())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
