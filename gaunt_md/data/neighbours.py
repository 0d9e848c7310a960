"""Neighbour lists from vesin: edges i <- j with Cartesian periodic shifts."""
from __future__ import annotations

from typing import Sequence, Tuple

import numpy as np
import vesin


def neighbour_list(positions: np.ndarray, cell: np.ndarray, pbc: Sequence[bool],
                   cutoff: float) -> Tuple[np.ndarray, np.ndarray]:
    """edge_index [2, E] (row 0 = receiver i, row 1 = neighbour j) and shifts [E, 3] (Angstrom)
    such that the edge vector is positions[j] - positions[i] + shifts[e], |vector| < cutoff.
    Handles periodic, open and mixed boundaries, cells smaller than the cutoff and atoms
    outside the cell."""
    positions = np.asarray(positions, dtype=np.float64)
    if not np.all(np.isfinite(positions)):
        raise ValueError("positions contain NaN or infinite values")
    pbc = [bool(p) for p in pbc]
    cell = np.asarray(cell, dtype=np.float64).reshape(3, 3)
    if any(pbc) and abs(np.linalg.det(cell)) < 1e-12:
        raise ValueError("a periodic direction needs a cell with non-zero volume")
    if len(positions) == 0:
        return np.zeros((2, 0), dtype=np.int64), np.zeros((0, 3))
    box = cell if any(pbc) else np.zeros((3, 3))
    i, j, S = vesin.NeighborList(cutoff=float(cutoff), full_list=True).compute(
        points=positions, box=box, periodic=pbc if any(pbc) else False, quantities="ijS"
    )
    shifts = S.astype(np.float64) @ cell if len(S) else np.zeros((0, 3))
    edge_index = np.stack([i, j]).astype(np.int64)
    return edge_index, shifts
