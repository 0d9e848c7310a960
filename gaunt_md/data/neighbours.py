"""Neighbour lists from vesin: edges i <- j with Cartesian periodic shifts.

Convention (used everywhere in gaunt_md): for edge e with edge_index[:, e] = (i, j),
    vector_e = positions[j] - positions[i] + shifts[e],    0 < |vector_e| < cutoff,
where i (row 0) is the centre atom that receives the message and j (row 1) is its neighbour.
shifts[e] = S_e @ cell in Angstrom, S_e the integer image of j.  The list is full: (j, i)
appears with the opposite shift whenever (i, j) does.
"""
from __future__ import annotations

from typing import Sequence, Tuple

import numpy as np
import vesin


def _check_periodic_cell(cell: np.ndarray, pbc: Sequence[bool]) -> None:
    # vesin dies with SIGFPE (not an exception) on a zero or degenerate periodic lattice vector
    periodic_vectors = cell[np.asarray(pbc)]
    if len(periodic_vectors) == 0:
        return
    singular_values = np.linalg.svd(periodic_vectors, compute_uv=False)
    if singular_values.min() < 1e-8:
        raise ValueError(
            f"the cell vectors of the periodic directions (pbc={list(pbc)}) are zero or linearly "
            f"dependent:\n{cell}"
        )


def neighbour_list(positions: np.ndarray, cell: np.ndarray, pbc: Sequence[bool],
                   cutoff: float) -> Tuple[np.ndarray, np.ndarray]:
    """edge_index [2, E] int64 (row 0 = centre i, row 1 = neighbour j) and shifts [E, 3]
    float64 in Angstrom, following the module convention.

    Handles periodic, open and mixed boundaries (a non-periodic direction may have a zero
    cell vector), cells smaller than the cutoff (many images) and atoms outside the cell
    (nothing is wrapped).  No self-edges: i == j only appears with a non-zero shift."""
    positions = np.asarray(positions, dtype=np.float64)
    if positions.ndim != 2 or positions.shape[1] != 3:
        raise ValueError(f"positions must have shape [N, 3], got {list(positions.shape)}")
    bad = ~np.isfinite(positions).all(axis=1)
    if bad.any():
        raise ValueError(f"positions contain NaN or infinite values (atoms {np.flatnonzero(bad)[:10].tolist()})")
    if not (np.isfinite(cutoff) and cutoff > 0):
        raise ValueError(f"cutoff must be a positive finite number, got {cutoff}")
    cell = np.asarray(cell, dtype=np.float64).reshape(3, 3)
    pbc = [bool(p) for p in np.broadcast_to(np.asarray(pbc, dtype=bool), (3,))]
    if any(pbc):
        if not np.isfinite(cell).all():
            raise ValueError(f"cell contains NaN or infinite values:\n{cell}")
        _check_periodic_cell(cell, pbc)
    if len(positions) == 0:
        return np.zeros((2, 0), dtype=np.int64), np.zeros((0, 3))
    box = cell if any(pbc) else np.zeros((3, 3))
    i, j, S = vesin.NeighborList(cutoff=float(cutoff), full_list=True).compute(
        points=positions, box=box, periodic=pbc, quantities="ijS"
    )
    edge_index = np.stack([i, j]).astype(np.int64).reshape(2, -1)
    shifts = S.astype(np.float64).reshape(-1, 3) @ cell if any(pbc) else np.zeros((len(i), 3))
    return edge_index, shifts
