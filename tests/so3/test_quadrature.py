"""sphere_grid exactness, SH orthonormality on it, synthesis/analysis round trips."""
from __future__ import annotations

import itertools
import math

import pytest
import torch

from gaunt_md.so3 import analysis_matrix, sh_dim, sphere_grid, synthesis_matrix


def _monomial_integral(a: int, b: int, c: int) -> float:
    """Integral of x^a y^b z^c over the unit sphere (closed form)."""
    if a % 2 or b % 2 or c % 2:
        return 0.0
    return 2 * math.exp(
        math.lgamma((a + 1) / 2) + math.lgamma((b + 1) / 2) + math.lgamma((c + 1) / 2) - math.lgamma((a + b + c + 3) / 2)
    )


@pytest.mark.parametrize("degree", [0, 1, 2, 3, 6, 9, 16, 24])
def test_grid_integrates_polynomials_exactly(degree):
    grid = sphere_grid(degree)
    assert grid.exact_degree == degree
    assert grid.points.dtype == grid.weights.dtype == torch.float64
    torch.testing.assert_close(grid.points.norm(dim=-1), torch.ones(len(grid.points), dtype=torch.float64))
    assert (grid.weights > 0).all()
    x, y, z = grid.points.unbind(-1)
    for a, b in itertools.product(range(degree + 1), repeat=2):
        for c in range(degree + 1 - a - b):
            value = (grid.weights * x**a * y**b * z**c).sum().item()
            assert value == pytest.approx(_monomial_integral(a, b, c), abs=1e-12), (a, b, c)


@pytest.mark.parametrize("lmax", [0, 1, 2, 5, 8, 12])
def test_sh_orthonormal_on_grid(lmax):
    S = synthesis_matrix(lmax, 2 * lmax)
    A = analysis_matrix(lmax, 2 * lmax)
    assert S.shape == (sh_dim(lmax), len(sphere_grid(2 * lmax).points))
    assert A.shape == S.T.shape
    torch.testing.assert_close(S @ A, torch.eye(sh_dim(lmax), dtype=torch.float64), atol=1e-12, rtol=0)


@pytest.mark.parametrize("lmax, lmax_out, extra", [(3, 3, 0), (4, 2, 1), (2, 5, 3), (8, 8, 4)])
def test_synthesis_analysis_round_trip(lmax, lmax_out, extra, gen, sh):
    degree = lmax + lmax_out + extra
    x = torch.randn(4, sh_dim(lmax), generator=gen, dtype=torch.float64)
    values = x @ synthesis_matrix(lmax, degree)
    # synthesis really evaluates f = x . Y on the grid points
    torch.testing.assert_close(values, x @ sh(lmax, sphere_grid(degree).points).T, atol=1e-12, rtol=0)
    back = values @ analysis_matrix(lmax_out, degree)
    expected = torch.nn.functional.pad(x, (0, max(0, sh_dim(lmax_out) - sh_dim(lmax))))[:, : sh_dim(lmax_out)]
    torch.testing.assert_close(back, expected, atol=1e-12, rtol=0)
