"""What both routes to a model (the ASE calculator, the LAMMPS bridge) check around each call:
no two atoms on top of each other before it (the edge direction, and with it the whole model,
is undefined at distance zero: the result would be NaN), and only finite numbers after it."""
from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np

OVERLAP_DISTANCE = 1e-4    # Angstrom: atoms closer than this are on top of each other


def overlapping_edges(vectors: np.ndarray, edge_index: np.ndarray) -> List[Tuple[int, int, float]]:
    """(i, j, distance) for each edge shorter than OVERLAP_DISTANCE, i <= j, each pair once."""
    if len(vectors) == 0:
        return []
    lengths = np.sqrt((np.asarray(vectors, dtype=np.float64) ** 2).sum(axis=1))
    close = np.flatnonzero(~(lengths >= OVERLAP_DISTANCE))      # NaN lengths count as overlapping
    pairs = {}
    for e in close:
        i, j = sorted((int(edge_index[0, e]), int(edge_index[1, e])))
        pairs.setdefault((i, j), float(lengths[e]))
    return [(i, j, d) for (i, j), d in sorted(pairs.items())]


def non_finite(outputs: Dict[str, np.ndarray]) -> List[str]:
    """Names of the outputs holding NaN or infinite values."""
    return [name for name, value in outputs.items() if not np.all(np.isfinite(value))]
