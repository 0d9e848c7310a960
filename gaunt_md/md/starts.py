"""Starting configurations: the shipped optimised molecule, or frames of a dataset (--data)."""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np
from ase import Atoms
from ase.io import read

# package data (pyproject.toml); examples/data/3bpa_start.xyz in the repository links to it
SHIPPED_START = Path(str(files(__package__) / "data" / "3bpa_start.xyz"))


def _clean(atoms: Atoms, where: str = "starting geometry") -> Atoms:
    """Positions and species only: no calculator, no labels, no cell.  A periodic structure is
    refused: the protocol's criteria (bonds, contacts, drift) use plain, not minimum-image,
    distances, and dropping the cell would turn a crystal into a cluster with surfaces."""
    if atoms.pbc.any():
        raise ValueError(
            f"{where} is periodic (pbc {''.join('T' if p else 'F' for p in atoms.pbc)}): md-stability runs "
            "isolated molecules only (its criteria use plain, not minimum-image, distances); give a "
            "non-periodic geometry (pbc F F F, e.g. one molecule cut out of the cell)"
        )
    out = Atoms(numbers=atoms.numbers, positions=atoms.get_positions())
    out.pbc = False
    if not np.all(np.isfinite(out.positions)):
        raise ValueError("starting geometry has non-finite positions")
    return out


def _read(path: Path, option: str, **kwargs):
    """ase.io.read with the reason it could not read the file as a ValueError naming the option."""
    if path.is_dir():
        raise ValueError(f"{option} {path} is a directory, not a geometry file")
    try:
        return read(str(path), **kwargs)
    except Exception as err:  # noqa: BLE001  (ase raises many kinds: unknown format, parse errors)
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ValueError(f"{option} {path} cannot be read as a geometry ({type(err).__name__}: {message})") from err


def load_starts(start: Optional[str], data: Optional[str], runs: int) -> List[Tuple[str, Atoms]]:
    """One (label, atoms) per run.  With `data`, frames evenly spaced through the file (the same
    frames at every temperature); otherwise the geometry in `start` (default: the shipped one)."""
    if data is not None:
        path = Path(data)
        if not path.exists():
            raise FileNotFoundError(f"--data file not found: {path}")
        frames = _read(path, "--data", index=":")
        if not frames:
            raise ValueError(f"no frames in {path}")
        picks = [(r * len(frames)) // runs for r in range(runs)]
        return [(f"{path.name}[{i}]", _clean(frames[i], f"--data {path}, frame {i},")) for i in picks]
    path = Path(start) if start is not None else SHIPPED_START
    if not path.exists():
        raise FileNotFoundError(f"starting geometry not found: {path}")
    atoms = _clean(_read(path, "--start"), f"--start {path}")
    if len(atoms) == 0:
        raise ValueError(f"--start {path} holds no atoms")
    return [(path.name, atoms) for _ in range(runs)]
