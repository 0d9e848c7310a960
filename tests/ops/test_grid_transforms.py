"""The separable (Legendre x Fourier) sphere transforms against the dense synthesis and analysis
matrices: the four maps the grid routes use, on grids finer and coarser than 2L."""
from __future__ import annotations

import pytest
import torch

from gaunt_md.ops.gaunt.grid import DenseTransform, SeparableTransform
from gaunt_md.so3 import analysis_matrix, separable_synthesis, sh_dim, synthesis_matrix

CASES = [(0, 0), (1, 1), (1, 4), (2, 2), (2, 7), (3, 10), (4, 12), (6, 24), (8, 33)]


@pytest.mark.parametrize("lmax, degree", CASES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_separable_maps_equal_the_dense_matrices(lmax, degree, dtype):
    like = torch.zeros((), dtype=dtype)
    dense, separable = DenseTransform(lmax, degree, like), SeparableTransform(lmax, degree, like)
    generator = torch.Generator().manual_seed(lmax * 100 + degree)
    x = torch.randn(5, 2, sh_dim(lmax), generator=generator, dtype=torch.float64).to(dtype)
    g = torch.randn(5, 2, synthesis_matrix(lmax, degree).shape[1], generator=generator,
                    dtype=torch.float64).to(dtype)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == torch.float32 else dict(rtol=1e-11, atol=1e-11)
    for name, arg in [("synthesis", x), ("analysis", g), ("synthesis_adjoint", g), ("analysis_adjoint", x)]:
        torch.testing.assert_close(getattr(separable, name)(arg), getattr(dense, name)(arg), **tol, msg=name)


def test_factors_are_independent_of_the_dense_matrix():
    """Rebuild S and A from the factors by hand (no transform code involved)."""
    lmax, degree = 3, 9
    t = separable_synthesis(lmax, degree)
    full = torch.einsum("alt,ap->altp", t.legendre, t.azimuth).reshape(-1, t.legendre.shape[2] * t.azimuth.shape[1])
    torch.testing.assert_close(full[t.scatter], synthesis_matrix(lmax, degree), rtol=0, atol=1e-12)
    weighted = torch.einsum("alt,ap->altp", t.weighted_legendre, t.azimuth).reshape(full.shape)
    torch.testing.assert_close(weighted[t.scatter].T, analysis_matrix(lmax, degree), rtol=0, atol=1e-12)
    assert sorted(t.gather[t.legendre.abs().sum(-1) > 0].tolist()) == list(range(sh_dim(lmax)))
