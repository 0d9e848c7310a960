"""Reference (isolated-atom) energies E0 per element."""
from __future__ import annotations

from typing import Dict, List, Sequence

import numpy as np

from .extxyz import read_labelled_structures


def e0s_from_isolated_atoms(path, energy_key: str = "energy") -> Dict[int, float]:
    e0s: Dict[int, float] = {}
    for number, atoms in enumerate(read_labelled_structures(path, energy_key, forces_key=None)):
        if len(atoms) != 1:
            raise ValueError(f"{path}, frame {number}: expected one isolated atom, found {len(atoms)}")
        e0s[int(atoms.numbers[0])] = float(atoms.info[energy_key])
    return e0s


def e0s_by_least_squares(frames: List, energy_key: str, atomic_numbers: Sequence[int]) -> Dict[int, float]:
    numbers = list(atomic_numbers)
    counts = np.array([[np.sum(a.numbers == z) for z in numbers] for a in frames], dtype=np.float64)
    energies = np.array([a.info[energy_key] for a in frames], dtype=np.float64)
    if np.linalg.matrix_rank(counts) < len(numbers):
        raise ValueError(
            "E0s by least squares are underdetermined: element counts are linearly dependent "
            "across the training structures; give an isolated-atoms file (data.e0s_file)"
        )
    solution, *_ = np.linalg.lstsq(counts, energies, rcond=None)
    return {int(z): float(e) for z, e in zip(numbers, solution)}
