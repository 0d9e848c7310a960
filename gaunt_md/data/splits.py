"""Deterministic train/validation split."""
from __future__ import annotations

from typing import List, Tuple, Union

import numpy as np


def train_valid_split(n: int, n_valid: Union[int, float], seed: int) -> Tuple[List[int], List[int]]:
    """(train indices, valid indices), each sorted.  n_valid: a count (int >= 1) or a
    fraction in (0, 1).  The same (n, n_valid, seed) always gives the same split."""
    if isinstance(n_valid, bool):
        raise ValueError(f"n_valid must be a count or a fraction, got {n_valid!r}")
    if isinstance(n_valid, float) and 0 < n_valid < 1:
        count = int(round(n * n_valid))
    elif float(n_valid).is_integer():
        count = int(n_valid)
    else:
        raise ValueError(f"n_valid must be a whole count or a fraction in (0, 1), got {n_valid!r}")
    if not 0 < count < n:
        raise ValueError(f"cannot hold out {n_valid!r} of {n} structures for validation")
    order = np.random.default_rng(seed).permutation(n)
    return sorted(order[count:].tolist()), sorted(order[:count].tolist())
