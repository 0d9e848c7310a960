"""Fused Triton kernels for gaunt_md::factor_products (the factor product basis).

One program takes BLOCK_R rows, a row being one (node, channel) pair with its F factors
[F, D], and walks the G sphere-grid points in chunks of BLOCK_G, as the kernels of
triton_kernels.py do; the grid values of the factors never reach global memory.

    forward  out[r, nu-1] = (prod_{i in body order nu} x[r, i] @ S) @ A
    vjp      out[r, i]    = (grad[r, nu-1] @ A^T  *  prod_{j in nu, j != i} x[r, j] @ S) @ S^T

Body order nu takes the factors nu(nu-1)/2 .. nu(nu+1)/2 - 1.  The VJP recomputes the other
factors' grid values for each factor (nu - 1 extra dots per factor, cheaper than storing them).
Forward and VJP only (no autograd): the op in factor_products.py wires them in, and keeps
its differentiable PyTorch VJP for second derivatives.
"""
from __future__ import annotations

import torch

from .triton_kernels import TRITON_AVAILABLE, _check_float, _check_shape, _check_usable, _check_x

if TRITON_AVAILABLE:
    import triton
    import triton.language as tl

    from .triton_kernels import (BLOCK_R, LAUNCH_OPTIONS, _analyze, _block, _block_g, _grid, _load_tile,
                                 _row_block, _store_tile, _synthesize)

    @triton.jit
    def _factor_grid(x_ptr, rows, n_rows, factor, F: tl.constexpr, d, D: tl.constexpr, s_ptr, g,
                     G: tl.constexpr):
        """Grid values x[rows, factor] @ S[:, g] of one factor, x laid out [rows, F, D]."""
        x = _load_tile(x_ptr + factor * D, rows, n_rows, F * D, d, D)
        return _synthesize(x, s_ptr, d, D, g, G)

    @triton.jit
    def _row_tiles(BLOCK_R: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_OUT: tl.constexpr):
        return _row_block(BLOCK_R), tl.arange(0, BLOCK_D), tl.arange(0, BLOCK_OUT)

    @triton.jit
    def _load_transposed(ptr, rows, n_rows, cols, n_cols, col_stride):
        """[len(rows), len(cols)] tile of M^T for a row-major M with col_stride columns."""
        mask = (rows[:, None] < n_rows) & (cols[None, :] < n_cols)
        return tl.load(ptr + cols[None, :] * col_stride + rows[:, None], mask=mask, other=0.0)

    @triton.jit
    def _factor_products_kernel(
        x_ptr, s_ptr, a_ptr, out_ptr, n_rows,
        F: tl.constexpr, D: tl.constexpr, G: tl.constexpr, DOUT: tl.constexpr, K: tl.constexpr,
        BLOCK_R: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_G: tl.constexpr, BLOCK_OUT: tl.constexpr,
    ):
        rows, d, m = _row_tiles(BLOCK_R, BLOCK_D, BLOCK_OUT)
        for nu in tl.static_range(1, K + 1):
            first = nu * (nu - 1) // 2
            acc = tl.zeros((BLOCK_R, BLOCK_OUT), dtype=x_ptr.dtype.element_ty)
            for g0 in range(0, G, BLOCK_G):
                g = g0 + tl.arange(0, BLOCK_G)
                h = _factor_grid(x_ptr, rows, n_rows, first, F, d, D, s_ptr, g, G)
                for j in tl.static_range(1, nu):
                    h = h * _factor_grid(x_ptr, rows, n_rows, first + j, F, d, D, s_ptr, g, G)
                acc = _analyze(h, a_ptr, g, G, m, DOUT, acc)
            _store_tile(out_ptr + (nu - 1) * DOUT, rows, n_rows, K * DOUT, m, DOUT, acc)

    @triton.jit
    def _factor_products_vjp_kernel(
        x_ptr, grad_ptr, s_ptr, a_ptr, out_ptr, n_rows,
        F: tl.constexpr, D: tl.constexpr, G: tl.constexpr, DOUT: tl.constexpr, K: tl.constexpr,
        BLOCK_R: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_G: tl.constexpr, BLOCK_OUT: tl.constexpr,
    ):
        rows, d, m = _row_tiles(BLOCK_R, BLOCK_D, BLOCK_OUT)
        for nu in tl.static_range(1, K + 1):
            first = nu * (nu - 1) // 2
            grad = _load_tile(grad_ptr + (nu - 1) * DOUT, rows, n_rows, K * DOUT, m, DOUT)
            for i in tl.static_range(nu):
                acc = tl.zeros((BLOCK_R, BLOCK_D), dtype=x_ptr.dtype.element_ty)
                for g0 in range(0, G, BLOCK_G):
                    g = g0 + tl.arange(0, BLOCK_G)
                    a_t = _load_transposed(a_ptr, m, DOUT, g, G, DOUT)              # A^T [m, g]
                    h = tl.dot(grad, a_t, input_precision="ieee")
                    for j in tl.static_range(nu):
                        if j != i:
                            h = h * _factor_grid(x_ptr, rows, n_rows, first + j, F, d, D, s_ptr, g, G)
                    s_t = _load_transposed(s_ptr, g, G, d, D, G)                    # S^T [g, d]
                    acc = tl.dot(h, s_t, acc, input_precision="ieee", out_dtype=acc.dtype)
                _store_tile(out_ptr + (first + i) * D, rows, n_rows, F * D, d, D, acc)


def _check(factors, synthesis, analysis, correlation: int) -> None:
    _check_x(factors, 4)
    for name, t in (("synthesis", synthesis), ("analysis", analysis)):
        _check_float(name, t, factors.dtype, factors.device, 2)
    N, F, C, D = factors.shape
    if F != correlation * (correlation + 1) // 2:
        raise ValueError(f"factors must be [N, {correlation * (correlation + 1) // 2}, C, D] for correlation "
                         f"{correlation}, got {tuple(factors.shape)}")
    G = synthesis.shape[1]
    _check_shape("synthesis", synthesis, (D, G))
    _check_shape("analysis", analysis, (G, analysis.shape[1]))
    _check_usable(factors.device)


def _rows(t: torch.Tensor) -> torch.Tensor:
    """[N, X, C, Y] -> [N * C, X, Y] contiguous: one row per (node, channel)."""
    n, x, c, y = t.shape
    return t.transpose(1, 2).reshape(n * c, x, y).contiguous()


def _unrows(t: torch.Tensor, n: int, c: int) -> torch.Tensor:
    return t.view(n, c, t.shape[1], t.shape[2]).transpose(1, 2).contiguous()


def _sizes(D: int, G: int, Dout: int) -> dict:
    return dict(BLOCK_R=BLOCK_R, BLOCK_D=_block(D), BLOCK_G=_block_g(G), BLOCK_OUT=_block(Dout))


def factor_products_triton(factors: torch.Tensor, synthesis: torch.Tensor, analysis: torch.Tensor,
                           correlation: int) -> torch.Tensor:
    """factors [N, F, C, D], synthesis [D, G], analysis [G, Dout] -> [N, K, C, Dout]
    (the forward of gaunt_md::factor_products in one launch)."""
    _check(factors, synthesis, analysis, correlation)
    N, F, C, D = factors.shape
    G, Dout = analysis.shape
    out = torch.empty((N * C, correlation, Dout), dtype=factors.dtype, device=factors.device)
    if N * C and Dout:
        _factor_products_kernel[_grid(N * C)](
            _rows(factors), synthesis.contiguous(), analysis.contiguous(), out, N * C,
            F=F, D=D, G=G, DOUT=Dout, K=correlation, **_sizes(D, G, Dout), **LAUNCH_OPTIONS,
        )
    return _unrows(out, N, C)


def factor_products_vjp_triton(factors: torch.Tensor, grad: torch.Tensor, synthesis: torch.Tensor,
                               analysis: torch.Tensor, correlation: int) -> torch.Tensor:
    """d<grad, factor_products(factors)>/d factors: factors [N, F, C, D], grad [N, K, C, Dout]
    -> [N, F, C, D] (one launch; not differentiable again)."""
    _check(factors, synthesis, analysis, correlation)
    N, F, C, D = factors.shape
    G, Dout = analysis.shape
    _check_float("grad", grad, factors.dtype, factors.device, 4)
    _check_shape("grad", grad, (N, correlation, C, Dout))
    out = torch.empty((N * C, F, D), dtype=factors.dtype, device=factors.device)
    if N * C == 0 or Dout == 0:
        return torch.zeros_like(factors)
    _factor_products_vjp_kernel[_grid(N * C)](
        _rows(factors), _rows(grad), synthesis.contiguous(), analysis.contiguous(), out, N * C,
        F=F, D=D, G=G, DOUT=Dout, K=correlation, **_sizes(D, G, Dout), **LAUNCH_OPTIONS,
    )
    return _unrows(out, N, C)


__all__ = ["factor_products_triton", "factor_products_vjp_triton"]
