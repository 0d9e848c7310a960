"""Gaunt coefficients G(l1m1, l2m2, LM) = integral of Y_l1m1 Y_l2m2 Y_LM over the sphere.

Computed in closed form, independently of any quadrature: the integral is a rotation
invariant of l1 x l2 x L, so in e3nn's real basis it is a multiple of e3nn's Wigner 3j
tensor.  The multiple is fixed by the m=0 entry, whose value is known analytically:
    integral Y_l1,0 Y_l2,0 Y_L,0 = sqrt((2l1+1)(2l2+1)(2L+1)/(4 pi)) * (l1 l2 L; 0 0 0)^2
(times the signs e3nn gives its Y_l0 at the pole).
"""
from __future__ import annotations

import functools
import math

import torch

from .harmonics import real_sh
from .indexing import sh_dim


def wigner_3j_000_squared(l1: int, l2: int, l3: int) -> float:
    """(l1 l2 l3; 0 0 0)^2 by Racah's closed form; zero unless l1+l2+l3 is even and triangular."""
    J = l1 + l2 + l3
    if J % 2 or l3 > l1 + l2 or l3 < abs(l1 - l2):
        return 0.0
    g = J // 2
    # log-space keeps it exact enough for large degrees
    log_val = (
        math.lgamma(J - 2 * l1 + 1) + math.lgamma(J - 2 * l2 + 1) + math.lgamma(J - 2 * l3 + 1)
        - math.lgamma(J + 2)
        + 2 * (math.lgamma(g + 1) - math.lgamma(g - l1 + 1) - math.lgamma(g - l2 + 1) - math.lgamma(g - l3 + 1))
    )
    return math.exp(log_val)


@functools.lru_cache(maxsize=None)
def _pole_signs(lmax: int) -> tuple:
    """Sign of e3nn's Y_l0 at the +y pole, per degree."""
    values = real_sh(lmax, torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64))
    return tuple(1.0 if values[l * l + l] > 0 else -1.0 for l in range(lmax + 1))


@functools.lru_cache(maxsize=None)
def gaunt_block(l1: int, l2: int, l3: int) -> torch.Tensor:
    """[2l1+1, 2l2+1, 2l3+1] float64 block of Gaunt coefficients (zero block if forbidden)."""
    shape = (2 * l1 + 1, 2 * l2 + 1, 2 * l3 + 1)
    w000 = wigner_3j_000_squared(l1, l2, l3)
    if w000 == 0.0:
        return torch.zeros(shape, dtype=torch.float64)
    signs = _pole_signs(max(l1, l2, l3))
    g000 = signs[l1] * signs[l2] * signs[l3] * math.sqrt(
        (2 * l1 + 1) * (2 * l2 + 1) * (2 * l3 + 1) / (4 * math.pi)
    ) * w000
    from e3nn import o3  # deferred: importing e3nn costs seconds

    w3j = o3.wigner_3j(l1, l2, l3, dtype=torch.float64)
    return w3j * (g000 / w3j[l1, l2, l3].item())


@functools.lru_cache(maxsize=None)
def gaunt_coefficients(lmax1: int, lmax2: int, lmax_out: int) -> torch.Tensor:
    """Dense [(L1+1)^2, (L2+1)^2, (Lout+1)^2] float64 tensor of Gaunt coefficients (CPU)."""
    G = torch.zeros(sh_dim(lmax1), sh_dim(lmax2), sh_dim(lmax_out), dtype=torch.float64)
    for l1 in range(lmax1 + 1):
        for l2 in range(lmax2 + 1):
            for l3 in range(abs(l1 - l2), min(l1 + l2, lmax_out) + 1):
                if (l1 + l2 + l3) % 2 == 0:
                    G[l1 * l1:(l1 + 1) ** 2, l2 * l2:(l2 + 1) ** 2, l3 * l3:(l3 + 1) ** 2] = gaunt_block(l1, l2, l3)
    return G
