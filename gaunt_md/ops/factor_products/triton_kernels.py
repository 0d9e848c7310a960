"""Fused Triton kernels for gaunt_md::factor_products (the factor product basis).

One program takes BLOCK_R rows, a row being one (node, channel) pair with its F factors
[F, D], and walks the G sphere-grid points in chunks of BLOCK_G, as the kernels of
gaunt/triton_kernels.py do; the grid values of the factors never reach global memory.  The kernels
read and write the op's own layouts ([N, F, C, D] factors, [N, K, C, Dout] products and their
gradients) in place: row r = n C + c starts at n F C D + c D (no transposed copies).

    forward  out[r, nu-1] = (prod_{i in body order nu} x[r, i] @ S) @ A
    vjp      out[r, i]    = (grad[r, nu-1] @ A^T  *  prod_{j in nu, j != i} x[r, j] @ S) @ S^T

Body order nu takes the factors nu(nu-1)/2 .. nu(nu+1)/2 - 1.  The VJP recomputes the other
factors' grid values for each factor (nu - 1 extra dots per factor, cheaper than storing them).
Forward and VJP only (no autograd): the op (op.py) wires them in, and keeps
its differentiable PyTorch VJP for second derivatives.
"""
from __future__ import annotations

import torch

from ..triton_sphere_grid import BLOCK_R, block, block_g, row_grid
from ..triton_support import (LAUNCH_OPTIONS, TRITON_AVAILABLE, check_float, check_shape, check_usable, check_x,
                              size_generic_jit)

if TRITON_AVAILABLE:
    import triton
    import triton.language as tl

    from ..triton_sphere_grid import analyze, row_block, synthesize

    @triton.jit
    def _row_offsets(rows, C, SLOTS: tl.constexpr, WIDTH: tl.constexpr):
        """Offsets of t[n, 0, c, 0] in a [N, SLOTS, C, WIDTH] tensor t for the rows r = n C + c."""
        return (rows // C) * (SLOTS * C * WIDTH) + (rows % C) * WIDTH

    @triton.jit
    def _slot_pointers(ptr, offsets, rows, n_rows, slot, C, cols, WIDTH: tl.constexpr):
        """Pointers to t[n, slot, c, cols] for the rows (see _row_offsets), and their mask."""
        mask = (rows[:, None] < n_rows) & (cols[None, :] < WIDTH)
        return ptr + (offsets + slot * C * WIDTH)[:, None] + cols[None, :], mask

    @triton.jit
    def _load_slot(ptr, offsets, rows, n_rows, slot, C, cols, WIDTH: tl.constexpr):
        pointers, mask = _slot_pointers(ptr, offsets, rows, n_rows, slot, C, cols, WIDTH)
        return tl.load(pointers, mask=mask, other=0.0)

    @triton.jit
    def _store_slot(ptr, offsets, rows, n_rows, slot, C, cols, WIDTH: tl.constexpr, value):
        pointers, mask = _slot_pointers(ptr, offsets, rows, n_rows, slot, C, cols, WIDTH)
        tl.store(pointers, value, mask=mask)

    @triton.jit
    def _factorrow_grid(x_ptr, x_offsets, rows, n_rows, factor, C, d, D: tl.constexpr, s_ptr, g, G: tl.constexpr):
        """Grid values x[n, factor, c] @ S[:, g] of one factor for the rows."""
        x = _load_slot(x_ptr, x_offsets, rows, n_rows, factor, C, d, D)
        return synthesize(x, s_ptr, d, D, g, G)

    @triton.jit
    def _row_tiles(C, F: tl.constexpr, D: tl.constexpr, K: tl.constexpr, DOUT: tl.constexpr,
                   BLOCK_R: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_OUT: tl.constexpr):
        """This program's rows, coefficient and output indices, and the rows' offsets in the
        [N, F, C, D] factor layout and in the [N, K, C, Dout] product layout."""
        rows = row_block(BLOCK_R)
        return (rows, tl.arange(0, BLOCK_D), tl.arange(0, BLOCK_OUT), _row_offsets(rows, C, F, D),
                _row_offsets(rows, C, K, DOUT))

    @triton.jit
    def _load_transposed(ptr, rows, n_rows, cols, n_cols, col_stride):
        """[len(rows), len(cols)] tile of M^T for a row-major M with col_stride columns."""
        mask = (rows[:, None] < n_rows) & (cols[None, :] < n_cols)
        return tl.load(ptr + cols[None, :] * col_stride + rows[:, None], mask=mask, other=0.0)

    @size_generic_jit(sizes=["n_rows"])
    def _factor_products_kernel(
        x_ptr, s_ptr, a_ptr, out_ptr, n_rows, C,
        F: tl.constexpr, D: tl.constexpr, G: tl.constexpr, DOUT: tl.constexpr, K: tl.constexpr,
        BLOCK_R: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_G: tl.constexpr, BLOCK_OUT: tl.constexpr,
    ):
        rows, d, m, x_offsets, out_offsets = _row_tiles(C, F, D, K, DOUT, BLOCK_R, BLOCK_D, BLOCK_OUT)
        for nu in tl.static_range(1, K + 1):
            first = nu * (nu - 1) // 2
            acc = tl.zeros((BLOCK_R, BLOCK_OUT), dtype=x_ptr.dtype.element_ty)
            for g0 in range(0, G, BLOCK_G):
                g = g0 + tl.arange(0, BLOCK_G)
                h = _factorrow_grid(x_ptr, x_offsets, rows, n_rows, first, C, d, D, s_ptr, g, G)
                for j in tl.static_range(1, nu):
                    h = h * _factorrow_grid(x_ptr, x_offsets, rows, n_rows, first + j, C, d, D, s_ptr, g, G)
                acc = analyze(h, a_ptr, g, G, m, DOUT, acc)
            _store_slot(out_ptr, out_offsets, rows, n_rows, nu - 1, C, m, DOUT, acc)

    @size_generic_jit(sizes=["n_rows"])
    def _factor_products_vjp_kernel(
        x_ptr, grad_ptr, s_ptr, a_ptr, out_ptr, n_rows, C,
        F: tl.constexpr, D: tl.constexpr, G: tl.constexpr, DOUT: tl.constexpr, K: tl.constexpr,
        BLOCK_R: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_G: tl.constexpr, BLOCK_OUT: tl.constexpr,
    ):
        rows, d, m, x_offsets, grad_offsets = _row_tiles(C, F, D, K, DOUT, BLOCK_R, BLOCK_D, BLOCK_OUT)
        for nu in tl.static_range(1, K + 1):
            first = nu * (nu - 1) // 2
            grad = _load_slot(grad_ptr, grad_offsets, rows, n_rows, nu - 1, C, m, DOUT)
            for i in tl.static_range(nu):
                acc = tl.zeros((BLOCK_R, BLOCK_D), dtype=x_ptr.dtype.element_ty)
                for g0 in range(0, G, BLOCK_G):
                    g = g0 + tl.arange(0, BLOCK_G)
                    a_t = _load_transposed(a_ptr, m, DOUT, g, G, DOUT)              # A^T [m, g]
                    h = tl.dot(grad, a_t, input_precision="ieee")
                    for j in tl.static_range(nu):
                        if j != i:
                            h = h * _factorrow_grid(x_ptr, x_offsets, rows, n_rows, first + j, C, d, D, s_ptr, g, G)
                    s_t = _load_transposed(s_ptr, g, G, d, D, G)                    # S^T [g, d]
                    acc = tl.dot(h, s_t, acc, input_precision="ieee", out_dtype=acc.dtype)
                _store_slot(out_ptr, x_offsets, rows, n_rows, first + i, C, d, D, acc)


def _check(factors, synthesis, analysis, correlation: int) -> None:
    check_x(factors, 4)
    for name, t in (("synthesis", synthesis), ("analysis", analysis)):
        check_float(name, t, factors.dtype, factors.device, 2)
    N, F, C, D = factors.shape
    if F != correlation * (correlation + 1) // 2:
        raise ValueError(f"factors must be [N, {correlation * (correlation + 1) // 2}, C, D] for correlation "
                         f"{correlation}, got {tuple(factors.shape)}")
    G = synthesis.shape[1]
    check_shape("synthesis", synthesis, (D, G))
    check_shape("analysis", analysis, (G, analysis.shape[1]))
    check_usable(factors.device)


def _sizes(D: int, G: int, Dout: int) -> dict:
    return dict(BLOCK_R=BLOCK_R, BLOCK_D=block(D), BLOCK_G=block_g(G), BLOCK_OUT=block(Dout))


def factor_products_triton(factors: torch.Tensor, synthesis: torch.Tensor, analysis: torch.Tensor,
                           correlation: int) -> torch.Tensor:
    """factors [N, F, C, D], synthesis [D, G], analysis [G, Dout] -> [N, K, C, Dout]
    (the forward of gaunt_md::factor_products in one launch)."""
    _check(factors, synthesis, analysis, correlation)
    N, F, C, D = factors.shape
    G, Dout = analysis.shape
    out = torch.empty((N, correlation, C, Dout), dtype=factors.dtype, device=factors.device)
    if N * C and Dout:
        _factor_products_kernel[row_grid(N * C)](
            factors.contiguous(), synthesis.contiguous(), analysis.contiguous(), out, N * C, C,
            F=F, D=D, G=G, DOUT=Dout, K=correlation, **_sizes(D, G, Dout), **LAUNCH_OPTIONS,
        )
    return out


def factor_products_vjp_triton(factors: torch.Tensor, grad: torch.Tensor, synthesis: torch.Tensor,
                               analysis: torch.Tensor, correlation: int) -> torch.Tensor:
    """d<grad, factor_products(factors)>/d factors: factors [N, F, C, D], grad [N, K, C, Dout]
    -> [N, F, C, D] (one launch; not differentiable again)."""
    _check(factors, synthesis, analysis, correlation)
    N, F, C, D = factors.shape
    G, Dout = analysis.shape
    check_float("grad", grad, factors.dtype, factors.device, 4)
    check_shape("grad", grad, (N, correlation, C, Dout))
    if N * C == 0 or Dout == 0:
        return torch.zeros_like(factors)
    out = torch.empty((N, F, C, D), dtype=factors.dtype, device=factors.device)
    _factor_products_vjp_kernel[row_grid(N * C)](
        factors.contiguous(), grad.contiguous(), synthesis.contiguous(), analysis.contiguous(), out, N * C, C,
        F=F, D=D, G=G, DOUT=Dout, K=correlation, **_sizes(D, G, Dout), **LAUNCH_OPTIONS,
    )
    return out


__all__ = ["factor_products_triton", "factor_products_vjp_triton"]
