"""Reading labelled structures from extxyz, with errors that name the file and frame.

Labels are returned in one place whatever the file did: `atoms.info[energy_key]` (float, eV),
`atoms.arrays[forces_key]` ([N, 3], eV/A) and `atoms.info[stress_key]` ([3, 3], eV/A^3),
and `atoms.calc` is removed (ASE would otherwise hold `energy`/`forces`/`stress` in a
SinglePointCalculator; see labels.py).
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import ase.io
import numpy as np

from .labels import find_label, present_keys, stress_as_3x3


def _required_label(atoms, key: str, where: str, per_atom: bool) -> np.ndarray:
    value = find_label(atoms, key, per_atom)
    if value is None:
        present = present_keys(atoms)
        raise ValueError(f"{where}: no {key!r} label (keys present: {', '.join(present) or 'none'})")
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{where}: label {key!r} contains NaN or infinite values")
    return value


def _check_frame(atoms, where: str, energy_key: str, forces_key: Optional[str],
                 stress_key: Optional[str]) -> None:
    if len(atoms) == 0:
        raise ValueError(f"{where}: structure has no atoms")
    if not np.all(np.isfinite(atoms.positions)):
        raise ValueError(f"{where}: positions contain NaN or infinite values")
    energy = _required_label(atoms, energy_key, where, per_atom=False)
    if energy.size != 1:
        raise ValueError(f"{where}: energy {energy_key!r} must be one number, got shape {list(energy.shape)}")
    forces = stress = None
    if forces_key:
        forces = _required_label(atoms, forces_key, where, per_atom=True)
        if forces.shape != (len(atoms), 3):
            raise ValueError(f"{where}: forces {forces_key!r} must have shape [{len(atoms)}, 3], "
                             f"got {list(forces.shape)}")
    if stress_key and (atoms.pbc.any() or find_label(atoms, stress_key, per_atom=False) is not None):
        # a structure without a periodic cell has no stress to label (isolated atoms, molecules):
        # it may go without; periodic ones must have it
        value = _required_label(atoms, stress_key, where, per_atom=False)
        try:
            stress = stress_as_3x3(value)
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None
    atoms.calc = None
    atoms.info[energy_key] = float(energy.reshape(()))
    if forces is not None:
        atoms.arrays[forces_key] = forces
    if stress is not None:
        atoms.info[stress_key] = stress


def read_extxyz_frames(path, index: str = ":") -> List:
    """The frames of an extxyz file as a list (at least one), or a clear error: a missing, empty
    or unreadable file, or a selection with no structure."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"data file not found: {path}")
    if not path.is_file():
        raise ValueError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: file is empty")
    try:
        frames = ase.io.read(path, index=index, format="extxyz")
    except Exception as err:
        raise ValueError(f"{path}: could not be read as extxyz ({type(err).__name__}: {err})") from err
    if not isinstance(frames, list):
        frames = [frames]
    if not frames:
        raise ValueError(f"{path}: no structures (empty file or index={index!r} selects none)")
    return frames


def read_labelled_structures(path, energy_key: str = "energy", forces_key: Optional[str] = "forces",
                             stress_key: Optional[str] = None, index: str = ":") -> List:
    """All frames of `path` (or those selected by `index`, ASE syntax) as ase.Atoms with
    their labels stored as in the module docstring.  forces_key/stress_key None: not read;
    frames without a periodic cell need no stress label.
    Frame numbers in errors count from 0 within the selection."""
    path = Path(path)
    frames = read_extxyz_frames(path, index)
    selection = "" if index == ":" else f" of selection {index!r}"
    for number, atoms in enumerate(frames):
        _check_frame(atoms, f"{path}, frame {number}{selection}", energy_key, forces_key, stress_key)
    return frames
