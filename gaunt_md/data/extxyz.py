"""Reading labelled structures from extxyz, with errors that name the file and frame.

Labels end up in `atoms.info[energy_key]`, `atoms.arrays[forces_key]` and
`atoms.info[stress_key]` (3x3, eV/A^3), whether the file stored them as plain keys or ASE
turned them into a SinglePointCalculator."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import ase.io
import numpy as np
from ase.stress import voigt_6_to_full_3x3_stress


def _from_calc(atoms, name: str):
    calc = atoms.calc
    if calc is not None and name in getattr(calc, "results", {}):
        return calc.results[name]
    return None


def _label(atoms, key: str, where: str, per_atom: bool):
    store = atoms.arrays if per_atom else atoms.info
    value = store.get(key)
    if value is None:
        value = _from_calc(atoms, key)
    if value is None:
        present = sorted(set(atoms.info) | set(atoms.arrays) - {"numbers", "positions"}
                         | set(getattr(atoms.calc, "results", {}) or {}))
        raise ValueError(f"{where}: no {key!r} label (present: {', '.join(present) or 'none'})")
    value = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{where}: {key!r} contains NaN or infinite values")
    return value


def read_labelled_structures(path, energy_key: str = "energy", forces_key: Optional[str] = "forces",
                             stress_key: Optional[str] = None, index: str = ":") -> List:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"data file not found: {path}")
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: file is empty")
    try:
        frames = ase.io.read(path, index=index, format="extxyz")
    except Exception as err:
        raise ValueError(f"{path}: could not be read as extxyz ({err})") from err
    if not frames:
        raise ValueError(f"{path}: no structures")
    for number, atoms in enumerate(frames):
        where = f"{path}, frame {number}"
        if not np.all(np.isfinite(atoms.positions)):
            raise ValueError(f"{where}: positions contain NaN or infinite values")
        energy = float(_label(atoms, energy_key, where, per_atom=False))
        labels = {"energy": energy}
        if forces_key:
            labels["forces"] = _label(atoms, forces_key, where, per_atom=True).reshape(len(atoms), 3)
        if stress_key:
            stress = _label(atoms, stress_key, where, per_atom=False)
            labels["stress"] = voigt_6_to_full_3x3_stress(stress) if stress.size == 6 else stress.reshape(3, 3)
        atoms.calc = None
        atoms.info[energy_key] = labels["energy"]
        if forces_key:
            atoms.arrays[forces_key] = labels["forces"]
        if stress_key:
            atoms.info[stress_key] = labels["stress"]
    return frames
