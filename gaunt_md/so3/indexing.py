"""Index bookkeeping for real spherical-harmonic coefficient vectors.

A feature with degrees 0..L is stored as (L+1)^2 coefficients ordered (l, m) with
l = 0..L and m = -l..l, the layout e3nn uses.
"""
from __future__ import annotations

import math

import torch


def sh_dim(lmax: int) -> int:
    return (lmax + 1) ** 2


def degree_from_dim(dim: int, name: str = "input") -> int:
    """Return L such that dim == (L+1)^2, or raise ValueError."""
    lmax = math.isqrt(dim) - 1
    if dim < 1 or (lmax + 1) ** 2 != dim:
        raise ValueError(
            f"{name} has {dim} spherical-harmonic coefficients in its last dimension; "
            "expected a square number (L+1)^2"
        )
    return lmax


def degree_of_index(lmax: int) -> torch.Tensor:
    """Tensor [(lmax+1)^2] with the degree l of each coefficient."""
    return torch.cat([torch.full((2 * l + 1,), l, dtype=torch.long) for l in range(lmax + 1)])


def order_of_index(lmax: int) -> torch.Tensor:
    """Tensor [(lmax+1)^2] with the order m of each coefficient."""
    return torch.cat([torch.arange(-l, l + 1, dtype=torch.long) for l in range(lmax + 1)])
