"""Deterministic train/validation split."""
from __future__ import annotations

from typing import List, Tuple

import numpy as np


def train_valid_split(n: int, n_valid, seed: int) -> Tuple[List[int], List[int]]:
    """n_valid: a count (int >= 1) or a fraction in (0, 1)."""
    count = int(round(n * n_valid)) if isinstance(n_valid, float) and n_valid < 1 else int(n_valid)
    if not 0 < count < n:
        raise ValueError(f"cannot hold out {n_valid} of {n} structures for validation")
    order = np.random.default_rng(seed).permutation(n)
    return sorted(order[count:].tolist()), sorted(order[:count].tolist())
