"""Neighbour lists from vesin: edges i <- j with Cartesian periodic shifts.

Convention (used everywhere in gaunt_md): for edge e with edge_index[:, e] = (i, j),
    vector_e = positions[j] - positions[i] + shifts[e],    0 < |vector_e| < cutoff,
where i (row 0) is the centre atom that receives the message and j (row 1) is its neighbour.
shifts[e] = S_e @ cell in Angstrom, S_e the integer image of j.  The list is full: (j, i)
appears with the opposite shift whenever (i, j) does.
"""
from __future__ import annotations

import itertools
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


# vesin (0.6) dies with SIGFPE when its cell list has many more cells than it allows and one
# direction is thin: it scales every direction's cell count down by the same factor, and the
# thin one rounds to zero (atoms 1e5 A apart with open boundaries; a 1e4 x 1e4 x 12 A cell), and
# its mixed-boundary path took 90 s for a slab 1e5 A thick.  So vesin only ever sees a fully
# periodic box whose cell counts survive that scaling: along each open direction the empty gaps
# between groups of atoms are shrunk to GAP x cutoff (atoms of different groups stay out of
# range; vectors within a group are unchanged), and the direction is made periodic with a period
# longer than the atoms' extent plus the cutoff (so no image is in range) and no shorter than the
# periodic directions (so it is not the thin one).  Boxes that would still be unsafe (a periodic
# cell itself very thin and very wide) are searched directly when small, else refused.
GAP = 2.0
VESIN_CELLS = 2e4                  # fewer cells than vesin keeps at least (>= 1e5 measured)
BRUTE_FORCE_ATOMS = 1000


def _open_directions(cell: np.ndarray, pbc: Sequence[bool]) -> np.ndarray:
    """Orthonormal rows spanning the directions orthogonal to every periodic cell vector."""
    periodic = cell[np.asarray(pbc)]
    if len(periodic) == 0:
        return np.eye(3)
    return np.linalg.svd(periodic)[2][len(periodic):]


def _shrink_gaps(positions: np.ndarray, directions: np.ndarray, cutoff: float) -> np.ndarray:
    """Positions moved along each open direction so that no empty gap is wider than GAP x cutoff;
    atoms closer than the cutoff move together, so their separation vectors are unchanged."""
    moved = positions.copy()
    for u in directions:
        along = moved @ u
        order = np.argsort(along, kind="stable")
        excess = np.clip(np.diff(along[order]) - GAP * cutoff, 0.0, None)
        shift = np.zeros(len(along))
        shift[order[1:]] = np.cumsum(excess)
        moved -= np.outer(shift + along.min(), u)
    return moved


def _vesin_safe(box: np.ndarray, cutoff: float) -> bool:
    """Every direction keeps >= 2 cells after vesin scales the counts down to VESIN_CELLS."""
    cells = np.maximum(1.0, np.floor(_heights(box) / cutoff))
    total = float(np.prod(cells))
    return total <= VESIN_CELLS or cells.min() * (VESIN_CELLS / total) ** (1.0 / 3.0) >= 2.0


def _heights(cell: np.ndarray) -> np.ndarray:
    """Distance between opposite faces of the cell, per cell vector."""
    volume = abs(np.linalg.det(cell))
    return np.array([volume / np.linalg.norm(np.cross(cell[(d + 1) % 3], cell[(d + 2) % 3])) for d in range(3)])


def _brute_force(positions: np.ndarray, cell: np.ndarray, pbc: Sequence[bool], cutoff: float):
    """(i, j, S) by direct search over the periodic images atoms anywhere can reach."""
    periodic = np.asarray(pbc)
    reach = np.zeros(3, dtype=int)
    if periodic.any():
        fractional = np.linalg.lstsq(cell[periodic].T, positions.T, rcond=None)[0].T
        heights = _heights(np.vstack([cell[periodic], _open_directions(cell, pbc)]))[: periodic.sum()]
        reach[periodic] = np.ceil(cutoff / heights + np.ptp(fractional, axis=0)).astype(int) + 1
    found_i, found_j, found_S = [], [], []
    for S in itertools.product(*(range(-r, r + 1) for r in reach)):
        S = np.array(S)
        vectors = positions[None, :, :] - positions[:, None, :] + S @ cell
        close = (vectors ** 2).sum(-1) < cutoff ** 2
        if not S.any():
            np.fill_diagonal(close, False)
        i, j = np.nonzero(close)
        found_i.append(i)
        found_j.append(j)
        found_S.append(np.tile(S, (len(i), 1)))
    return np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_S)


def neighbour_list(positions: np.ndarray, cell: np.ndarray, pbc: Sequence[bool],
                   cutoff: float) -> Tuple[np.ndarray, np.ndarray]:
    """edge_index [2, E] int64 (row 0 = centre i, row 1 = neighbour j) and shifts [E, 3]
    float64 in Angstrom, following the module convention.

    Handles periodic, open and mixed boundaries (a non-periodic direction may have a zero
    cell vector), cells smaller than the cutoff (many images), atoms outside the cell
    (nothing is wrapped) and atoms far apart along open directions.  No self-edges: i == j
    only appears with a non-zero shift."""
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
    cell = np.where(np.asarray(pbc)[:, None], cell, 0.0)      # open directions: no cell vector
    directions = _open_directions(cell, pbc)
    moved = _shrink_gaps(positions, directions, cutoff)
    open_dims = [d for d in range(3) if not pbc[d]]
    box = cell.copy()
    box[open_dims] = directions                                 # unit vectors for now
    widest = _heights(box)[np.asarray(pbc)].max(initial=0.0)    # of the periodic directions
    extents = np.ptp(moved @ directions.T, axis=0) if open_dims else np.zeros(0)
    for d, u, extent in zip(open_dims, directions, extents):
        box[d] = u * max(extent + GAP * cutoff + 1.0, widest)   # a period no image can bridge
    if _vesin_safe(box, cutoff):
        i, j, S = vesin.NeighborList(cutoff=float(cutoff), full_list=True).compute(
            points=moved, box=box, periodic=True, quantities="ijS"
        )
    elif len(positions) <= BRUTE_FORCE_ATOMS:
        i, j, S = _brute_force(positions, cell, pbc, cutoff)
    else:
        raise ValueError(
            f"the cell (heights {np.array2string(_heights(box), precision=3)} A) is too wide in some directions and "
            f"too thin in others for a neighbour list of {len(positions)} atoms with a cutoff of {cutoff:g} A"
        )
    S = np.asarray(S, dtype=np.int64).reshape(-1, 3)
    edge_index = np.stack([np.asarray(i), np.asarray(j)]).astype(np.int64).reshape(2, -1)
    shifts = S.astype(np.float64) @ cell
    # the cutoff again on the positions as given (shrinking gaps moved groups by rounding only)
    vectors = positions[edge_index[1]] - positions[edge_index[0]] + shifts
    keep = ((vectors ** 2).sum(axis=1) < cutoff ** 2) & ~(S[:, ~np.asarray(pbc)] != 0).any(axis=1)
    return edge_index[:, keep], shifts[keep]
