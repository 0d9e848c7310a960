"""Reference route: contraction with the dense Gaunt coefficient tensor.  O(L^6) per product."""
from __future__ import annotations

import math

import torch

from ...so3 import MAX_DEGREE, degree_from_dim, sh_dim
from .constants import constant


def product(x: torch.Tensor, y: torch.Tensor, lmax_out: int) -> torch.Tensor:
    l1, l2 = degree_from_dim(x.shape[-1]), degree_from_dim(y.shape[-1])
    degree = max(l1, l2, lmax_out)  # intermediate powers reach nu * L: fail clearly, not in e3nn
    if degree > MAX_DEGREE:
        raise ValueError(f"method='dense' needs Gaunt coefficients of degree {degree} here; above "
                         f"{MAX_DEGREE} use method='grid' or 'fourier'")
    G = constant("gaunt_coefficients", l1, l2, lmax_out, like=x)
    outer = (x[:, :, None] * y[:, None, :]).reshape(x.shape[0], -1)
    return outer @ G.reshape(-1, G.shape[-1])


def _powers_full(x: torch.Tensor, correlation: int) -> list:
    """Untruncated coefficients of f^nu, nu = 1..correlation-1 (degree nu*L)."""
    lmax = degree_from_dim(x.shape[-1])
    powers = [x]
    for nu in range(2, correlation):
        powers.append(product(powers[-1], x, nu * lmax))
    return powers


def powers(x: torch.Tensor, correlation: int, lmax_out: int) -> torch.Tensor:
    full = _powers_full(x, correlation)
    projected = [_resize(x, lmax_out)] + [product(p, x, lmax_out) for p in full[: correlation - 1]]
    return torch.stack(projected, dim=1)


def vjp(x: torch.Tensor, coeffs: torch.Tensor) -> torch.Tensor:
    """sum_nu nu * projection onto degree L of f^(nu-1) * c_nu."""
    lmax = degree_from_dim(x.shape[-1])
    correlation = coeffs.shape[1]
    one = torch.full_like(x[:, :1], math.sqrt(4 * math.pi))  # the constant function 1
    previous = [one] + _powers_full(x, correlation)[: correlation - 1]
    out = torch.zeros_like(x)
    for nu in range(1, correlation + 1):
        out = out + nu * product(previous[nu - 1], coeffs[:, nu - 1], lmax)
    return out


def _resize(p: torch.Tensor, lmax: int) -> torch.Tensor:
    d = sh_dim(lmax)
    if p.shape[-1] >= d:
        return p[:, :d]
    return torch.nn.functional.pad(p, (0, d - p.shape[-1]))
