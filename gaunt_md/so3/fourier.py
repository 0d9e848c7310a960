"""Conversion tensors between real SH coefficients and 2D Fourier coefficients on the torus.

On the torus (theta, phi) in [0, 2pi)^2 (see harmonics.angles_to_points) a degree-L spherical
function is f = sum_{|u|,|v|<=L} X_uv exp(i(u theta + v phi)).  Y_lm only has azimuthal
frequencies v = +-m, so the conversion is block-sparse: for each |v| only the 2(L-|v|)+1
coefficients with |m| = |v| contribute.  We store it in that block form, which makes both
conversions O(L^3) instead of the O(L^4) of a dense matrix.

Only v >= 0 is kept (f is real, so X_{-u,-v} = conj X_uv), matching torch.fft.rfft2/irfft2,
and the u axis is laid out for an FFT of length n_u (index u mod n_u).

The projection back to SH uses  out_LM = int_0^pi int_0^2pi h(theta, phi) Y_LM sin(theta):
writing Y_LM sin(theta) as a torus Fourier series Q, the phi integral pairs v with -v and the
theta integral over half the period is  I(k) = int_0^pi exp(ik theta) = pi (k=0), 0 (k even),
2i/k (k odd).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch

from .harmonics import angles_to_points, real_sh
from .indexing import order_of_index, sh_dim


@dataclass(frozen=True)
class BlockSparse:
    """Block form of a conversion: one dense [rows, cols] complex block per azimuthal |v|.

    index[v, j] gives the SH coefficient of slot j in block v (sh_dim(L) marks padding)."""
    index: torch.Tensor   # [V, J] long
    real: torch.Tensor    # [V, J, n_u] or [V, n_u, J] float64
    imag: torch.Tensor


def _torus_fourier(lmax: int, n: int, times_sin_theta: bool) -> torch.Tensor:
    """Fourier coefficients C[u mod n, v mod n, k] of Y_k (optionally * sin theta) on an n x n torus grid."""
    angles = torch.arange(n, dtype=torch.float64) * (2 * math.pi / n)
    theta, phi = angles[:, None], angles[None, :]
    values = real_sh(lmax, angles_to_points(theta, phi))  # [n, n, K]
    if times_sin_theta:
        values = values * torch.sin(theta)[..., None]
    return torch.fft.fft2(values.to(torch.complex128), dim=(0, 1), norm="forward")


def _blocks_by_order(lmax: int):
    m = order_of_index(lmax)
    return [torch.nonzero(m.abs() == v).flatten() for v in range(lmax + 1)]


@functools.lru_cache(maxsize=None)
def sh_to_fourier(lmax: int, n_u: int) -> BlockSparse:
    """X[u mod n_u, v] = sum_j x[index[v, j]] * (real + i imag)[v, j, u mod n_u], v = 0..lmax."""
    if n_u < 2 * lmax + 1:
        raise ValueError("FFT length too short for the degree")
    n = 2 * lmax + 1
    C = _torus_fourier(lmax, n, times_sin_theta=False)  # [n, n, K]
    blocks = _blocks_by_order(lmax)
    J = max(len(b) for b in blocks)
    index = torch.full((lmax + 1, J), sh_dim(lmax), dtype=torch.long)
    out = torch.zeros(lmax + 1, J, n_u, dtype=torch.complex128)
    u = torch.arange(-lmax, lmax + 1)
    for v, members in enumerate(blocks):
        index[v, : len(members)] = members
        out[v, : len(members)][:, u % n_u] = C[u % n][:, v][:, members].T
    _check_block_sparsity(C, blocks, n)
    return BlockSparse(index=index, real=out.real.contiguous(), imag=out.imag.contiguous())


@functools.lru_cache(maxsize=None)
def fourier_to_sh(lmax_out: int, lmax_in: int, n_u: int) -> BlockSparse:
    """out[index[v, j]] = Re sum_u H[u mod n_u, v] (real + i imag)[v, u mod n_u, j], v = 0..lmax_out,
    for H the half spectrum (v >= 0) of a function with |u| <= lmax_in."""
    n = 2 * lmax_out + 3  # Y * sin(theta) has degree lmax_out + 1 in theta
    Q = _torus_fourier(lmax_out, n, times_sin_theta=True)  # [n, n, K]
    blocks = _blocks_by_order(lmax_out)
    J = max(len(b) for b in blocks)
    uq = torch.arange(-(lmax_out + 1), lmax_out + 2)
    u = torch.arange(-lmax_in, lmax_in + 1)
    k = u[:, None] + uq[None, :]
    half_period = torch.where(
        k == 0,
        torch.full(k.shape, math.pi, dtype=torch.complex128),
        torch.where(k % 2 == 1, 2j / k.to(torch.complex128), torch.zeros((), dtype=torch.complex128)),
    )  # [U, Uq]
    index = torch.full((lmax_out + 1, J), sh_dim(lmax_out), dtype=torch.long)
    out = torch.zeros(lmax_out + 1, n_u, J, dtype=torch.complex128)
    for v, members in enumerate(blocks):
        index[v, : len(members)] = members
        q = Q[uq % n][:, (-v) % n][:, members]  # [Uq, J]
        fold = 1.0 if v == 0 else 2.0  # the -v half of the spectrum is the conjugate
        out[v, u % n_u, : len(members)] = fold * 2 * math.pi * (half_period @ q)
    _check_block_sparsity(Q, blocks, n)
    return BlockSparse(index=index, real=out.real.contiguous(), imag=out.imag.contiguous())


@functools.lru_cache(maxsize=None)
def fourier_to_sh_positions(lmax_out: int, lmax_in: int, n_u: int) -> torch.Tensor:
    """For each SH coefficient of degree <= lmax_out, its position in the flattened [V, J]
    block layout that fourier_to_sh produces (inverse of its index)."""
    flat = fourier_to_sh(lmax_out, lmax_in, n_u).index.flatten()
    positions = torch.empty(sh_dim(lmax_out), dtype=torch.long)
    valid = flat < sh_dim(lmax_out)
    positions[flat[valid]] = torch.nonzero(valid).flatten()
    return positions


def _check_block_sparsity(C: torch.Tensor, blocks, n: int) -> None:
    """Y_lm must only carry azimuthal frequencies +-m; anything else means a convention mismatch."""
    mask = torch.zeros(n, C.shape[-1], dtype=torch.bool)
    for v, members in enumerate(blocks):
        mask[v % n, members] = True
        mask[(-v) % n, members] = True
    leak = C.abs().amax(dim=0).masked_fill(mask, 0).max()
    if leak > 1e-10:
        raise RuntimeError(f"SH -> Fourier conversion is not block-sparse (leak {leak:.2e})")
