"""Real spherical harmonics (e3nn's convention, orthonormal on the sphere) on point sets.

e3nn puts the polar axis along y: Y_l0 depends on y only.  We parametrise the sphere by the
polar angle theta from +y and an azimuth phi:  s = (sin t sin p, cos t, sin t cos p).
Each Y_lm is a degree-l polynomial in the Cartesian components, hence a trigonometric
polynomial of degree <= l in (theta, phi) on the whole torus [0, 2pi)^2.
"""
from __future__ import annotations

import torch

# e3nn's real spherical harmonics, which define the basis, stop at this degree
MAX_DEGREE = 12


def real_sh(lmax: int, points: torch.Tensor) -> torch.Tensor:
    """Y_lm(points) for l <= lmax: [..., 3] -> [..., (lmax+1)^2], integral normalisation."""
    from e3nn import o3  # deferred: importing e3nn costs seconds (torch._dynamo)

    return o3.spherical_harmonics(
        list(range(lmax + 1)), points, normalize=False, normalization="integral"
    )


def angles_to_points(theta: torch.Tensor, phi: torch.Tensor) -> torch.Tensor:
    """Unit vectors for polar angle theta (from +y) and azimuth phi, broadcast together."""
    theta, phi = torch.broadcast_tensors(theta, phi)
    st = torch.sin(theta)
    return torch.stack([st * torch.sin(phi), torch.cos(theta), st * torch.cos(phi)], dim=-1)
