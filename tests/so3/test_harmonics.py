"""Real SH conventions and coefficient-index bookkeeping."""
from __future__ import annotations

import math

import pytest
import torch

from gaunt_md.so3 import angles_to_points, degree_from_dim, degree_of_index, order_of_index, real_sh, sh_dim


def test_angles_to_points(gen):
    theta = torch.rand(20, generator=gen, dtype=torch.float64) * 2 * math.pi
    phi = torch.rand(20, generator=gen, dtype=torch.float64) * 2 * math.pi
    p = angles_to_points(theta, phi)
    torch.testing.assert_close(p.norm(dim=-1), torch.ones(20, dtype=torch.float64))
    st = torch.sin(theta)  # polar axis +y, azimuth measured from +z towards +x
    expected = torch.stack([st * torch.sin(phi), torch.cos(theta), st * torch.cos(phi)], dim=-1)
    torch.testing.assert_close(p, expected, atol=1e-15, rtol=0)
    # broadcasting
    assert angles_to_points(theta[:, None], phi[None, :5]).shape == (20, 5, 3)


@pytest.mark.parametrize("lmax", [0, 2, 7])
def test_real_sh_is_e3nn_integral_normalised(lmax, gen, unit_vectors, sh, quadrature):
    r = unit_vectors(10, gen)
    torch.testing.assert_close(real_sh(lmax, r), sh(lmax, r), atol=1e-14, rtol=0)
    points, weights = quadrature(2 * lmax)
    Y = real_sh(lmax, points)
    torch.testing.assert_close(Y.T @ (weights[:, None] * Y), torch.eye(sh_dim(lmax), dtype=torch.float64),
                               atol=1e-12, rtol=0)
    # the m = 0 harmonics depend on the polar (y) coordinate only
    spun = r @ torch.tensor([[0.0, 0, 1], [0, 1, 0], [-1, 0, 0]], dtype=torch.float64)
    m0 = [l * l + l for l in range(lmax + 1)]
    torch.testing.assert_close(real_sh(lmax, spun)[:, m0], real_sh(lmax, r)[:, m0], atol=1e-12, rtol=0)


@pytest.mark.parametrize("lmax", [0, 1, 4, 12])
def test_indexing(lmax):
    d = sh_dim(lmax)
    assert d == (lmax + 1) ** 2
    assert degree_from_dim(d) == lmax
    l, m = degree_of_index(lmax), order_of_index(lmax)
    assert l.shape == m.shape == (d,)
    torch.testing.assert_close(l * l + l + m, torch.arange(d))
    assert (m.abs() <= l).all()


@pytest.mark.parametrize("dim", [0, 2, 3, 5, 8, 15, 17])
def test_degree_from_dim_rejects_non_squares(dim):
    with pytest.raises(ValueError, match=r"coeffs has .* expected a square number"):
        degree_from_dim(dim, "coeffs")
