"""Greedy choice of the frames to label: the most informative first, never two near-duplicates.

Order of preference: failure precursors first (when asked for), then the highest committee
disagreement, and among equals the frame farthest from everything chosen so far (so that with
no scores at all this is farthest-point sampling: a diverse, uniform cover of the candidates).
A frame closer than `min_distance` (A, see fingerprint.py) to a chosen one is never chosen.
"""
from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np
from ase import Atoms

from .candidates import Candidate
from .fingerprint import PairDistances


def choose(candidates: List[Candidate], count: int, score: Optional[str] = None,
           precursors_first: bool = True, min_distance: float = 0.05,
           min_score: Optional[float] = None, known: Sequence[Atoms] = ()) -> List[Candidate]:
    """Up to `count` candidates, in the order chosen.  `known` frames (already labelled) count as
    chosen: nothing within min_distance of them is picked."""
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    if min_distance < 0:
        raise ValueError(f"min_distance must be >= 0, got {min_distance}")
    if score is not None:
        missing = [c for c in candidates if score not in c.scores]
        if missing:
            raise ValueError(f"{len(missing)} candidates have no {score!r} score")
    pool = candidates if min_score is None or score is None else [c for c in candidates if c.scores[score] >= min_score]
    fingerprints = [PairDistances(c.atoms) for c in pool]
    nearest = np.full(len(pool), np.inf)            # distance to the closest chosen frame
    for atoms in known:
        reference = PairDistances(atoms)
        nearest = np.minimum(nearest, [reference.distance(f) for f in fingerprints])
    taken = np.zeros(len(pool), dtype=bool)
    priority = np.array([(1.0 if precursors_first and c.precursor else 0.0) for c in pool])
    value = np.array([c.scores[score] if score is not None else 0.0 for c in pool])
    chosen: List[Candidate] = []
    while len(chosen) < count:
        open_ = ~taken & (nearest >= min_distance)
        if not open_.any():
            break
        # lexicographic: priority, then score, then distance to the chosen set
        order = np.lexsort((np.where(open_, nearest, -np.inf), np.where(open_, value, -np.inf),
                            np.where(open_, priority, -np.inf)))
        best = int(order[-1])
        taken[best] = True
        chosen.append(pool[best])
        for k in np.flatnonzero(~taken):
            nearest[k] = min(nearest[k], fingerprints[best].distance(fingerprints[k]))
    return chosen
