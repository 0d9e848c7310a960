"""A permutation-invariant fingerprint of a frame, for telling near-duplicates apart.

For every pair of elements, the sorted list of all interatomic distances between atoms of those
elements (minimum image in periodic cells).  Two frames of the same composition are as far apart
as the RMS difference of their sorted distance lists, in A: zero for the same geometry whatever
the atom order, rotation or translation, and ~0.02-0.05 A between MD frames 10 fs apart.
Frames of different composition are infinitely far apart.
"""
from __future__ import annotations

from typing import Dict, Tuple

import numpy as np
from ase import Atoms
from ase.geometry import get_distances


class PairDistances:
    def __init__(self, atoms: Atoms):
        numbers = atoms.numbers
        if len(atoms) < 2:
            self.composition: Tuple[int, ...] = tuple(sorted(numbers.tolist()))
            self.vector = np.zeros(0)
            return
        periodic = bool(atoms.pbc.any())
        _, distances = get_distances(atoms.positions, cell=atoms.cell if periodic else None,
                                     pbc=atoms.pbc if periodic else None)
        i, j = np.triu_indices(len(atoms), k=1)
        low, high = np.minimum(numbers[i], numbers[j]), np.maximum(numbers[i], numbers[j])
        groups: Dict[Tuple[int, int], np.ndarray] = {}
        for key in sorted(set(zip(low.tolist(), high.tolist()))):
            mask = (low == key[0]) & (high == key[1])
            groups[key] = np.sort(distances[i[mask], j[mask]])
        self.composition = tuple(sorted(numbers.tolist()))
        self.vector = np.concatenate([groups[key] for key in sorted(groups)])

    def distance(self, other: "PairDistances") -> float:
        """RMS difference of the sorted pair distances (A); inf for another composition."""
        if self.composition != other.composition:
            return float("inf")
        if self.vector.size == 0:
            return 0.0
        return float(np.sqrt(np.mean((self.vector - other.vector) ** 2)))
