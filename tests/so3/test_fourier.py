"""SH <-> 2D Fourier (torus) conversions: values at random torus points, projections of
products against an independent sphere quadrature, block layout."""
from __future__ import annotations

import math

import pytest
import torch

from gaunt_md.so3 import fourier_to_sh, order_of_index, sh_dim, sh_to_fourier


def _torus_points(theta: torch.Tensor, phi: torch.Tensor) -> torch.Tensor:
    """The documented parametrisation: polar angle theta from +y, azimuth phi about y."""
    theta, phi = torch.broadcast_tensors(theta, phi)
    st = torch.sin(theta)
    return torch.stack([st * torch.sin(phi), torch.cos(theta), st * torch.cos(phi)], dim=-1)


def _spectrum(x: torch.Tensor, lmax: int, n_u: int) -> torch.Tensor:
    """Half spectrum X[..., u mod n_u, v], v = 0..lmax, from the block-sparse conversion."""
    conv = sh_to_fourier(lmax, n_u)
    gathered = torch.nn.functional.pad(x, (0, 1))[..., conv.index]  # [..., V, J]
    return torch.einsum("...vj,vju->...uv", gathered.to(torch.complex128), torch.complex(conv.real, conv.imag))


@pytest.mark.parametrize("lmax, pad", [(0, 0), (1, 0), (3, 0), (3, 4), (6, 1), (10, 0)])
def test_fourier_series_reproduces_sh_values(lmax, pad, gen, sh):
    n_u = 2 * lmax + 1 + pad
    x = torch.eye(sh_dim(lmax), dtype=torch.float64)  # every Y_lm separately
    X = _spectrum(x, lmax, n_u)  # [K, n_u, V]
    assert X.shape == (sh_dim(lmax), n_u, lmax + 1)
    u = torch.arange(-lmax, lmax + 1)
    if pad:  # frequencies beyond |u| <= lmax are not populated
        outside = torch.ones(n_u, dtype=torch.bool)
        outside[u % n_u] = False
        assert not X[:, outside].abs().max() > 0

    theta = torch.rand(200, generator=gen, dtype=torch.float64) * 2 * math.pi  # the whole torus
    phi = torch.rand(200, generator=gen, dtype=torch.float64) * 2 * math.pi
    v = torch.arange(lmax + 1)
    phase = torch.exp(1j * (u[None, :, None] * theta[:, None, None] + v[None, None, :] * phi[:, None, None]))
    terms = torch.einsum("kuv,puv->pkv", X[:, u % n_u], phase)
    # f real: X_{-u,-v} = conj X_{u,v}, so the v = 0 column sums to a real number and each v > 0
    # column stands for itself plus its conjugate
    torch.testing.assert_close(terms[..., 0].imag, torch.zeros_like(terms[..., 0].real), atol=1e-12, rtol=0)
    values = terms[..., 0].real + 2 * terms[..., 1:].real.sum(-1)
    torch.testing.assert_close(values, sh(lmax, _torus_points(theta, phi)), atol=1e-11, rtol=0)


def test_blocks_group_coefficients_by_order():
    lmax = 5
    conv = sh_to_fourier(lmax, 2 * lmax + 1)
    m = order_of_index(lmax)
    seen = []
    for v in range(lmax + 1):
        members = conv.index[v][conv.index[v] < sh_dim(lmax)]
        assert (m[members].abs() == v).all()
        seen += members.tolist()
    assert sorted(seen) == list(range(sh_dim(lmax)))


@pytest.mark.parametrize("l1, l2, lmax_out, pad", [(0, 0, 0, 0), (1, 2, 3, 0), (3, 3, 2, 0), (2, 4, 6, 3), (5, 4, 9, 0)])
def test_projection_of_torus_samples(l1, l2, lmax_out, pad, gen, quadrature, sh):
    """fourier_to_sh applied to the FFT of f*g sampled on the torus = projection of f*g by an
    independent sphere quadrature."""
    lmax_in = l1 + l2
    x = torch.randn(3, sh_dim(l1), generator=gen, dtype=torch.float64)
    y = torch.randn(3, sh_dim(l2), generator=gen, dtype=torch.float64)

    n_u, n_v = 2 * lmax_in + 1 + pad, 2 * lmax_in + 1
    theta = torch.arange(n_u, dtype=torch.float64) * (2 * math.pi / n_u)
    phi = torch.arange(n_v, dtype=torch.float64) * (2 * math.pi / n_v)
    points = _torus_points(theta[:, None], phi[None, :])  # [n_u, n_v, 3]
    h = (sh(l1, points) @ x.T) * (sh(l2, points) @ y.T)  # [n_u, n_v, batch]
    H = torch.fft.rfft2(h.permute(2, 0, 1), norm="forward")[..., : lmax_out + 1]  # [batch, n_u, V]

    conv = fourier_to_sh(lmax_out, lmax_in, n_u)
    blocks = torch.einsum("buv,vuj->bvj", H, torch.complex(conv.real, conv.imag)).real.flatten(1)
    out = torch.zeros(3, sh_dim(lmax_out) + 1, dtype=torch.float64)
    out[:, conv.index.flatten()] = blocks
    out = out[:, :-1]

    qp, qw = quadrature(lmax_in + lmax_out)
    expected = torch.einsum("g,gb,gc->bc", qw, (sh(l1, qp) @ x.T) * (sh(l2, qp) @ y.T), sh(lmax_out, qp))
    torch.testing.assert_close(out, expected, atol=1e-11, rtol=0)


def test_short_fft_rejected():
    with pytest.raises(ValueError, match="too short"):
        sh_to_fourier(3, 6)
