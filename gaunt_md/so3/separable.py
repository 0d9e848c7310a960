"""The synthesis matrix of sphere_grid(degree) in separable form: Legendre in theta, Fourier in phi.

Every real Y_lm is P_lm(theta) * t(phi) with t one of 1, cos(k phi), sin(k phi), k <= l.  Going
from coefficients to the product grid in two steps -- a sum over l per azimuthal function, then
a sum over the 2L+1 azimuthal functions -- costs O(L^3) per row instead of the dense O(L^4),
the semi-naive spherical harmonic transform.  The factors are read off e3nn's harmonics
numerically and checked against the dense matrix, so no convention is assumed here.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch

from .harmonics import angles_to_points, real_sh
from .quadrature import sphere_grid, synthesis_matrix


@dataclass(frozen=True)
class SeparableSynthesis:
    legendre: torch.Tensor           # [M, L+1, n_theta]: P of the (azimuth, l) coefficient, 0 if none
    weighted_legendre: torch.Tensor  # legendre times the quadrature weight of each theta ring
    azimuth: torch.Tensor            # [M, n_phi]: 1, cos phi, sin phi, cos 2phi, ... on the grid
    gather: torch.Tensor             # [M, L+1] long: coefficient index of (azimuth, l) (0 if none)
    scatter: torch.Tensor            # [(L+1)^2] long: position azimuth * (L+1) + l of each coefficient


def _azimuthal_functions(count: int, phi: torch.Tensor) -> torch.Tensor:
    """[count, len(phi)]: 1, cos phi, sin phi, cos 2 phi, sin 2 phi, ..."""
    rows = [torch.ones_like(phi)]
    for k in range(1, (count - 1) // 2 + 1):
        rows += [torch.cos(k * phi), torch.sin(k * phi)]
    return torch.stack(rows)


@functools.lru_cache(maxsize=None)
def separable_synthesis(lmax: int, degree: int) -> SeparableSynthesis:
    grid = sphere_grid(degree)
    n_theta, n_phi = degree // 2 + 1, degree + 1
    theta = torch.acos(grid.points[::n_phi, 1])
    width = 2 * lmax + 1

    # Exact projections onto the azimuthal functions: a uniform ring of more than 2L points.
    ring = torch.arange(2 * width, dtype=torch.float64) * (2 * math.pi / (2 * width))
    trig_ring = _azimuthal_functions(width, ring)
    values = real_sh(lmax, angles_to_points(theta[:, None], ring[None, :]))  # [n_theta, ring, D]
    projections = torch.einsum("tpd,ap->dat", values, trig_ring) / (trig_ring**2).sum(1)[None, :, None]

    dim = (lmax + 1) ** 2
    legendre = torch.zeros(width, lmax + 1, n_theta, dtype=torch.float64)
    gather = torch.zeros(width, lmax + 1, dtype=torch.long)
    scatter = torch.zeros(dim, dtype=torch.long)
    for index in range(dim):
        l = math.isqrt(index)
        strength = projections[index].abs().amax(dim=1)
        a = int(strength.argmax())
        if legendre[a, l].any():
            raise RuntimeError(f"two coefficients of degree {l} share azimuthal function {a}")
        legendre[a, l] = projections[index, a]
        gather[a, l] = index
        scatter[index] = a * (lmax + 1) + l

    azimuth = _azimuthal_functions(width, torch.arange(n_phi, dtype=torch.float64) * (2 * math.pi / n_phi))
    rebuilt = torch.einsum("alt,ap->altp", legendre, azimuth).reshape(width * (lmax + 1), -1)[scatter]
    error = (rebuilt - synthesis_matrix(lmax, degree)).abs().max()
    if error > 1e-10:
        raise RuntimeError(f"separable synthesis does not reproduce the dense matrix (error {error:.2e})")
    ring_weights = grid.weights[::n_phi]
    return SeparableSynthesis(
        legendre=legendre, weighted_legendre=legendre * ring_weights, azimuth=azimuth,
        gather=gather, scatter=scatter,
    )
