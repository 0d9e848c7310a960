"""Gauss-Legendre x uniform-phi quadrature on the sphere and SH synthesis/analysis matrices.

With n_theta Gauss-Legendre nodes in cos(theta) and n_phi equispaced azimuths, the rule
integrates every polynomial of degree <= min(2 n_theta - 1, n_phi - 1) on the sphere exactly.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch

from .harmonics import real_sh


@dataclass(frozen=True)
class SphereGrid:
    points: torch.Tensor   # [G, 3] float64
    weights: torch.Tensor  # [G] float64, sum = 4 pi
    exact_degree: int


@functools.lru_cache(maxsize=None)
def sphere_grid(degree: int) -> SphereGrid:
    """Smallest product grid integrating polynomials of degree <= `degree` exactly."""
    n_theta = degree // 2 + 1
    n_phi = degree + 1
    nodes, gl_weights = np.polynomial.legendre.leggauss(n_theta)
    cos_t = torch.from_numpy(nodes)
    sin_t = torch.sqrt(1 - cos_t**2)
    phi = torch.arange(n_phi, dtype=torch.float64) * (2 * math.pi / n_phi)
    points = torch.stack(
        [
            sin_t[:, None] * torch.sin(phi)[None, :],
            cos_t[:, None].expand(n_theta, n_phi),
            sin_t[:, None] * torch.cos(phi)[None, :],
        ],
        dim=-1,
    ).reshape(-1, 3)
    weights = (torch.from_numpy(gl_weights)[:, None] * (2 * math.pi / n_phi)).expand(n_theta, n_phi).reshape(-1)
    return SphereGrid(points=points, weights=weights.contiguous(), exact_degree=degree)


@functools.lru_cache(maxsize=None)
def synthesis_matrix(lmax: int, degree: int) -> torch.Tensor:
    """S [(lmax+1)^2, G]: grid values = coefficients @ S, on sphere_grid(degree)."""
    return real_sh(lmax, sphere_grid(degree).points).T.contiguous()


@functools.lru_cache(maxsize=None)
def analysis_matrix(lmax: int, degree: int) -> torch.Tensor:
    """A [G, (lmax+1)^2]: coefficients = grid values @ A (exact for band-limited integrands)."""
    grid = sphere_grid(degree)
    return (grid.weights[:, None] * real_sh(lmax, grid.points)).contiguous()
