"""The paper's route (Luo et al. 2024): SH -> 2D Fourier coefficients on the (theta, phi) torus
(block-sparse, O(L^3)), products as FFT convolutions, projection back to SH (O(L^3))."""
from __future__ import annotations

import torch

from ...so3 import degree_from_dim, sh_dim
from .constants import constant


def _to_grid(x: torch.Tensor, lmax: int, n_u: int, n_v: int) -> torch.Tensor:
    """[B, (L+1)^2] -> real values on the n_u x n_v torus grid, via the Fourier coefficients."""
    conv = constant("sh_to_fourier", lmax, n_u, like=x)
    padded = torch.nn.functional.pad(x, (0, 1))
    gathered = padded[..., conv.index]  # [B, V, J]
    spectrum = torch.complex(
        torch.einsum("bvj,vju->buv", gathered, conv.real),
        torch.einsum("bvj,vju->buv", gathered, conv.imag),
    )
    spectrum = torch.nn.functional.pad(spectrum, (0, n_v // 2 + 1 - (lmax + 1)))
    return torch.fft.irfft2(spectrum, s=(n_u, n_v), norm="forward")


def _to_sh(values: torch.Tensor, lmax_out: int, lmax_in: int) -> torch.Tensor:
    """Real torus-grid values [..., n_u, n_v] of a function with |u| <= lmax_in -> SH coefficients."""
    n_u = values.shape[-2]
    conv = constant("fourier_to_sh", lmax_out, lmax_in, n_u, like=values)
    spectrum = torch.fft.rfft2(values, norm="forward")[..., : lmax_out + 1]  # [..., n_u, V]
    blocks = torch.einsum("...uv,vuj->...vj", spectrum.real, conv.real) - torch.einsum(
        "...uv,vuj->...vj", spectrum.imag, conv.imag
    )
    flat = blocks.flatten(-2)
    return flat[..., constant("fourier_to_sh_positions", lmax_out, lmax_in, n_u, like=values)]


def _grid_sizes(lmax_product: int, lmax_out: int, lmax_inputs: int):
    """FFT lengths: exact in theta; in phi only the |v| <= lmax_out outputs must be alias-free."""
    n_u = 2 * lmax_product + 1
    n_v = max(lmax_product + lmax_out + 1, 2 * lmax_inputs + 1)
    return n_u, n_v


def _pad_out(out: torch.Tensor, lmax_out: int) -> torch.Tensor:
    return torch.nn.functional.pad(out, (0, sh_dim(lmax_out) - out.shape[-1]))


def product(x: torch.Tensor, y: torch.Tensor, lmax_out: int) -> torch.Tensor:
    l1, l2 = degree_from_dim(x.shape[-1]), degree_from_dim(y.shape[-1])
    lp = l1 + l2
    lo = min(lmax_out, lp)
    n_u, n_v = _grid_sizes(lp, lo, max(l1, l2))
    h = _to_grid(x, l1, n_u, n_v) * _to_grid(y, l2, n_u, n_v)
    return _pad_out(_to_sh(h, lo, lp), lmax_out)


def powers(x: torch.Tensor, correlation: int, lmax_out: int) -> torch.Tensor:
    lmax = degree_from_dim(x.shape[-1])
    lp = correlation * lmax
    lo = min(lmax_out, lp)
    n_u, n_v = _grid_sizes(lp, lo, lmax)
    f = _to_grid(x, lmax, n_u, n_v)
    power = [f]
    for _ in range(correlation - 1):
        power.append(power[-1] * f)
    return _pad_out(_to_sh(torch.stack(power, dim=1), lo, lp), lmax_out)


def vjp(x: torch.Tensor, coeffs: torch.Tensor) -> torch.Tensor:
    lmax = degree_from_dim(x.shape[-1])
    lmax_c = degree_from_dim(coeffs.shape[-1])
    correlation = coeffs.shape[1]
    lp = (correlation - 1) * lmax + lmax_c
    n_u, n_v = _grid_sizes(lp, lmax, max(lmax, lmax_c))
    f = _to_grid(x, lmax, n_u, n_v)
    q = _to_grid(coeffs.flatten(0, 1), lmax_c, n_u, n_v).unflatten(0, coeffs.shape[:2])
    h = q[:, 0]
    power = torch.ones_like(f)
    for nu in range(2, correlation + 1):
        power = power * f
        h = h + nu * power * q[:, nu - 1]
    return _pad_out(_to_sh(h, min(lmax, lp), lp), lmax)
