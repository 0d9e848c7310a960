"""Finding a label on an ase.Atoms, wherever ASE put it.

ASE's extxyz reader moves keys it knows as calculator properties (`energy`, `forces`,
`stress`, `virial`, ...) into a SinglePointCalculator; other keys (`REF_energy`,
`dft_forces`, ...) stay in `atoms.info` / `atoms.arrays`.
"""
from __future__ import annotations

from typing import List, Optional

import numpy as np
from ase.stress import voigt_6_to_full_3x3_stress


def find_label(atoms, key: str, per_atom: bool) -> Optional[np.ndarray]:
    """The label as float64, from info (per structure) or arrays (per atom), else from the
    attached calculator's results; None when absent."""
    value = (atoms.arrays if per_atom else atoms.info).get(key)
    if value is None and atoms.calc is not None:
        value = getattr(atoms.calc, "results", {}).get(key)
    return None if value is None else np.asarray(value, dtype=np.float64)


def present_keys(atoms) -> List[str]:
    keys = set(atoms.info) | (set(atoms.arrays) - {"numbers", "positions"})
    if atoms.calc is not None:
        keys |= set(getattr(atoms.calc, "results", {}))
    return sorted(keys)


def stress_as_3x3(stress: np.ndarray) -> np.ndarray:
    """Voigt (xx, yy, zz, yz, xz, xy) or 3x3 (or 9 flat) -> 3x3."""
    if stress.size == 6:
        return voigt_6_to_full_3x3_stress(stress.reshape(6))
    if stress.size == 9:
        return stress.reshape(3, 3)
    raise ValueError(f"stress must have 6 (Voigt) or 9 components, got {stress.size}")
