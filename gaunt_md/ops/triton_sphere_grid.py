"""@triton.jit helpers shared by the sphere-grid kernels (the Gaunt products and the factor
products): tiles of row-major matrices, synthesis onto and analysis from grid-point chunks.

Each kernel gives one program a block of BLOCK_R rows and walks the G grid points in chunks of
BLOCK_G; block dims are padded to >= 16 (tl.dot's minimum) with masked loads.  All
contractions are tl.dot with input_precision="ieee" (no TF32).
"""
from __future__ import annotations

from .triton_support import TRITON_AVAILABLE

BLOCK_R = 32          # rows per program
MAX_BLOCK_G = 32      # grid points per chunk (keeps sm90 register use well under 255)

if TRITON_AVAILABLE:
    import triton
    import triton.language as tl

    @triton.jit
    def load_tile(ptr, rows, n_rows, row_stride, cols, n_cols):
        """[len(rows), len(cols)] tile of a row-major matrix, zero outside n_rows x n_cols."""
        mask = (rows[:, None] < n_rows) & (cols[None, :] < n_cols)
        return tl.load(ptr + rows[:, None] * row_stride + cols[None, :], mask=mask, other=0.0)

    @triton.jit
    def store_tile(ptr, rows, n_rows, row_stride, cols, n_cols, value):
        mask = (rows[:, None] < n_rows) & (cols[None, :] < n_cols)
        tl.store(ptr + rows[:, None] * row_stride + cols[None, :], value, mask=mask)

    @triton.jit
    def synthesize(x, s_ptr, d, D: tl.constexpr, g, G: tl.constexpr):
        """Grid values x @ S[:, g] of the coefficient tile x [BLOCK_R, BLOCK_D]."""
        s = load_tile(s_ptr, d, D, G, g, G)
        return tl.dot(x, s, input_precision="ieee")

    @triton.jit
    def analyze(h, a_ptr, g, G: tl.constexpr, m, DOUT: tl.constexpr, acc):
        """acc + h @ A[g, :] for grid values h [BLOCK_R, BLOCK_G]."""
        a = load_tile(a_ptr, g, G, DOUT, m, DOUT)
        return tl.dot(h, a, acc, input_precision="ieee", out_dtype=acc.dtype)

    @triton.jit
    def row_block(BLOCK_R: tl.constexpr):
        return tl.program_id(0).to(tl.int64) * BLOCK_R + tl.arange(0, BLOCK_R)


def block(n: int) -> int:
    """Padded block size for a dimension of n: a power of two, at least 16 (tl.dot minimum)."""
    return max(16, triton.next_power_of_2(n))


def block_g(G: int) -> int:
    return min(block(G), MAX_BLOCK_G)


def row_grid(n_rows: int):
    """The launch grid: one program per BLOCK_R rows."""
    return (triton.cdiv(n_rows, BLOCK_R),)
