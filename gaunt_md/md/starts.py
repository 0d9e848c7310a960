"""Starting configurations: the shipped optimised molecule, or frames of a dataset (--data)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np
from ase import Atoms
from ase.io import read

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED_START = REPO_ROOT / "examples" / "data" / "3bpa_start.xyz"


def _clean(atoms: Atoms) -> Atoms:
    """Positions and species only: no calculator, no labels, no cell."""
    out = Atoms(numbers=atoms.numbers, positions=atoms.get_positions())
    out.pbc = False
    if not np.all(np.isfinite(out.positions)):
        raise ValueError("starting geometry has non-finite positions")
    return out


def load_starts(start: Optional[str], data: Optional[str], runs: int) -> List[Tuple[str, Atoms]]:
    """One (label, atoms) per run.  With `data`, frames evenly spaced through the file (the same
    frames at every temperature); otherwise the geometry in `start` (default: the shipped one)."""
    if data is not None:
        path = Path(data)
        if not path.exists():
            raise FileNotFoundError(f"--data file not found: {path}")
        frames = read(str(path), index=":")
        if not frames:
            raise ValueError(f"no frames in {path}")
        picks = [(r * len(frames)) // runs for r in range(runs)]
        return [(f"{path.name}[{i}]", _clean(frames[i])) for i in picks]
    path = Path(start) if start is not None else SHIPPED_START
    if not path.exists():
        raise FileNotFoundError(f"starting geometry not found: {path}")
    atoms = _clean(read(str(path)))
    return [(path.name, atoms) for _ in range(runs)]
