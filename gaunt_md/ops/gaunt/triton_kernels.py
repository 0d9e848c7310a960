"""Fused Triton kernels of the Gaunt products (the "triton" method of gaunt_md/ops/gaunt).

Each kernel gives one program a block of BLOCK_R rows (batch entries, or (node, channel)
pairs) and walks the G grid points in chunks of BLOCK_G:
    synthesis   f = x @ S[:, chunk]                  (grid values, registers only)
    pointwise   the product / the powers f^nu / the power VJP integrand
    analysis    acc += h @ A[chunk, :]
so grid values never reach global memory.  All contractions are tl.dot with
input_precision="ieee" (no TF32); on sm90 float32 dots lower to FMA and float64 dots to
DMMA (mma.m8n8k4.f64).  Block dims are padded to >= 16 with masked loads.

Public functions (one fused launch each; forward only, no autograd):
    gaunt_product_triton(x, y, S1, S2, A)                         -> [B, Dout]
    many_body_triton(x, weights, species, S, A, degree_out)       -> [N, C, Dout]
    many_body_vjp_triton(x, coeffs, S, S_out, A)                  -> [N, C, D]
"""
from __future__ import annotations

import torch

from ..triton_sphere_grid import BLOCK_R, block, block_g, row_grid
from ..triton_support import (LAUNCH_OPTIONS, TRITON_AVAILABLE, check_float, check_shape, check_usable, check_x,
                              size_generic_jit)

if TRITON_AVAILABLE:
    import triton
    import triton.language as tl

    from ..triton_sphere_grid import analyze, load_tile, row_block, store_tile, synthesize

    @size_generic_jit(sizes=["n_rows"])
    def _gaunt_product_kernel(
        x_ptr, y_ptr, s1_ptr, s2_ptr, a_ptr, out_ptr, n_rows,
        D1: tl.constexpr, D2: tl.constexpr, G: tl.constexpr, DOUT: tl.constexpr,
        BLOCK_R: tl.constexpr, BLOCK_D1: tl.constexpr, BLOCK_D2: tl.constexpr,
        BLOCK_G: tl.constexpr, BLOCK_OUT: tl.constexpr,
    ):
        """out = ((x @ S1) * (y @ S2)) @ A."""
        rows = row_block(BLOCK_R)
        d1 = tl.arange(0, BLOCK_D1)
        d2 = tl.arange(0, BLOCK_D2)
        m = tl.arange(0, BLOCK_OUT)
        x = load_tile(x_ptr, rows, n_rows, D1, d1, D1)
        y = load_tile(y_ptr, rows, n_rows, D2, d2, D2)
        acc = tl.zeros((BLOCK_R, BLOCK_OUT), dtype=x.dtype)
        for g0 in range(0, G, BLOCK_G):
            g = g0 + tl.arange(0, BLOCK_G)
            h = synthesize(x, s1_ptr, d1, D1, g, G) * synthesize(y, s2_ptr, d2, D2, g, G)
            acc = analyze(h, a_ptr, g, G, m, DOUT, acc)
        store_tile(out_ptr, rows, n_rows, DOUT, m, DOUT, acc)

    @size_generic_jit(sizes=["n_rows"])
    def _many_body_kernel(
        x_ptr, w_ptr, species_ptr, s_ptr, a_ptr, degree_ptr, out_ptr, n_rows, C,
        D: tl.constexpr, G: tl.constexpr, DOUT: tl.constexpr, NDEG: tl.constexpr, K: tl.constexpr,
        BLOCK_R: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_G: tl.constexpr, BLOCK_OUT: tl.constexpr,
    ):
        """out[r, M] = sum_nu w[species[r // C], r % C, degree[M], nu-1] * ((x @ S)^nu @ A)[r, M]."""
        rows = row_block(BLOCK_R)
        d = tl.arange(0, BLOCK_D)
        m = tl.arange(0, BLOCK_OUT)
        x = load_tile(x_ptr, rows, n_rows, D, d, D)
        # offsets of w[species, channel, degree(M), 0] for every (row, M) of the tile
        live = rows < n_rows
        spec = tl.load(species_ptr + rows // C, mask=live, other=0)
        deg = tl.load(degree_ptr + m, mask=m < DOUT, other=0)
        w_offset = ((spec * C + rows % C)[:, None] * NDEG + deg[None, :]) * K
        w_mask = live[:, None] & (m[None, :] < DOUT)
        acc = tl.zeros((BLOCK_R, BLOCK_OUT), dtype=x.dtype)
        for g0 in range(0, G, BLOCK_G):
            g = g0 + tl.arange(0, BLOCK_G)
            f = synthesize(x, s_ptr, d, D, g, G)
            a = load_tile(a_ptr, g, G, DOUT, m, DOUT)
            power = f
            for nu in tl.static_range(K):  # power = f^(nu+1)
                w = tl.load(w_ptr + w_offset + nu, mask=w_mask, other=0.0)
                acc += w * tl.dot(power, a, input_precision="ieee")
                if nu + 1 < K:
                    power = power * f
        store_tile(out_ptr, rows, n_rows, DOUT, m, DOUT, acc)

    @size_generic_jit(sizes=["n_rows"])
    def _many_body_vjp_kernel(
        x_ptr, coeffs_ptr, s_ptr, s_out_ptr, a_ptr, out_ptr, n_rows,
        D: tl.constexpr, DC: tl.constexpr, G: tl.constexpr, K: tl.constexpr,
        BLOCK_R: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_G: tl.constexpr,
    ):
        """out = (sum_nu nu f^(nu-1) q_nu) @ A, f = x @ S, q_nu = coeffs[:, nu-1] @ S_out."""
        rows = row_block(BLOCK_R)
        d = tl.arange(0, BLOCK_D)
        c = tl.arange(0, BLOCK_C)
        x = load_tile(x_ptr, rows, n_rows, D, d, D)
        acc = tl.zeros((BLOCK_R, BLOCK_D), dtype=x.dtype)
        for g0 in range(0, G, BLOCK_G):
            g = g0 + tl.arange(0, BLOCK_G)
            f = synthesize(x, s_ptr, d, D, g, G)
            # Horner: h = q_1 + f (2 q_2 + f (3 q_3 + ...))
            h = tl.zeros((BLOCK_R, BLOCK_G), dtype=x.dtype)
            for i in tl.static_range(K):
                nu = K - i
                coeff = load_tile(coeffs_ptr + (nu - 1) * DC, rows, n_rows, K * DC, c, DC)
                h = h * f + nu * synthesize(coeff, s_out_ptr, c, DC, g, G)
            acc = analyze(h, a_ptr, g, G, d, D, acc)
        store_tile(out_ptr, rows, n_rows, D, d, D, acc)



# --- launchers ----------------------------------------------------------------------------

def gaunt_product_triton(x: torch.Tensor, y: torch.Tensor, S1: torch.Tensor, S2: torch.Tensor,
                         A: torch.Tensor) -> torch.Tensor:
    """x [B, D1], y [B, D2], S1 [D1, G], S2 [D2, G], A [G, Dout] -> ((x @ S1) * (y @ S2)) @ A."""
    check_x(x, 2)
    check_float("y", y, x.dtype, x.device, 2)
    for name, t in (("S1", S1), ("S2", S2), ("A", A)):
        check_float(name, t, x.dtype, x.device, 2)
    (B, D1), D2, G, Dout = x.shape, y.shape[1], S1.shape[1], A.shape[1]
    check_shape("y", y, (B, D2))
    check_shape("S1", S1, (D1, G))
    check_shape("S2", S2, (D2, G))
    check_shape("A", A, (G, Dout))
    check_usable(x.device)
    out = torch.empty((B, Dout), dtype=x.dtype, device=x.device)
    if B == 0 or Dout == 0:
        return out
    _gaunt_product_kernel[row_grid(B)](
        x.contiguous(), y.contiguous(), S1.contiguous(), S2.contiguous(), A.contiguous(), out, B,
        D1=D1, D2=D2, G=G, DOUT=Dout,
        BLOCK_R=BLOCK_R, BLOCK_D1=block(D1), BLOCK_D2=block(D2), BLOCK_G=block_g(G),
        BLOCK_OUT=block(Dout), **LAUNCH_OPTIONS,
    )
    return out


def many_body_triton(x: torch.Tensor, weights: torch.Tensor, species: torch.Tensor, S: torch.Tensor,
                     A: torch.Tensor, degree_out: torch.Tensor) -> torch.Tensor:
    """x [N, C, D], weights [S_species, C, Lout+1, K], species [N], S [D, G], A [G, Dout],
    degree_out [Dout] (degree of each output coefficient) -> [N, C, Dout]:
    out[n, c, M] = sum_nu weights[species[n], c, degree_out[M], nu-1] * ((x[n, c] @ S)^nu @ A)[M].
    Indices in species and degree_out are not range-checked here (that would synchronize)."""
    check_x(x, 3)
    for name, t, dim in (("weights", weights, 4), ("S", S, 2), ("A", A, 2)):
        check_float(name, t, x.dtype, x.device, dim)
    (N, C, D), G, Dout = x.shape, S.shape[1], A.shape[1]
    n_species, _, n_degrees, K = weights.shape
    check_shape("weights", weights, (n_species, C, n_degrees, K))
    check_shape("S", S, (D, G))
    check_shape("A", A, (G, Dout))
    if K < 1:
        raise ValueError(f"correlation order weights.shape[-1] must be at least 1, got {K}")
    if Dout != n_degrees ** 2:
        raise ValueError(
            f"A has {Dout} output coefficients but weights cover {n_degrees} degrees "
            f"(expected (Lout+1)^2 = {n_degrees ** 2})"
        )
    for name, t, size in (("species", species, N), ("degree_out", degree_out, Dout)):
        if not isinstance(t, torch.Tensor) or t.dtype != torch.int64 or tuple(t.shape) != (size,):
            got = f"{t.dtype} {tuple(t.shape)}" if isinstance(t, torch.Tensor) else type(t).__name__
            raise ValueError(f"{name} must be an int64 tensor of shape ({size},), got {got}")
        if t.device != x.device:
            raise ValueError(f"{name} is on {t.device}, expected {x.device} (the device of x)")
    check_usable(x.device)
    out = torch.empty((N, C, Dout), dtype=x.dtype, device=x.device)
    n_rows = N * C
    if n_rows == 0:
        return out
    _many_body_kernel[row_grid(n_rows)](
        x.contiguous(), weights.contiguous(), species.contiguous(), S.contiguous(), A.contiguous(),
        degree_out.contiguous(), out, n_rows, C,
        D=D, G=G, DOUT=Dout, NDEG=n_degrees, K=K,
        BLOCK_R=BLOCK_R, BLOCK_D=block(D), BLOCK_G=block_g(G), BLOCK_OUT=block(Dout),
        **LAUNCH_OPTIONS,
    )
    return out


def many_body_vjp_triton(x: torch.Tensor, coeffs: torch.Tensor, S: torch.Tensor, S_out: torch.Tensor,
                         A: torch.Tensor) -> torch.Tensor:
    """x [N, C, D], coeffs [N, C, K, Dout], S [D, G], S_out [Dout, G], A [G, D] -> [N, C, D]:
    (sum_nu nu * f^(nu-1) * (coeffs[:, :, nu-1] @ S_out)) @ A with f = x @ S."""
    check_x(x, 3)
    check_float("coeffs", coeffs, x.dtype, x.device, 4)
    for name, t in (("S", S), ("S_out", S_out), ("A", A)):
        check_float(name, t, x.dtype, x.device, 2)
    (N, C, D), (K, Dout), G = x.shape, coeffs.shape[2:], S.shape[1]
    check_shape("coeffs", coeffs, (N, C, K, Dout))
    check_shape("S", S, (D, G))
    check_shape("S_out", S_out, (Dout, G))
    check_shape("A", A, (G, D))
    check_usable(x.device)
    n_rows = N * C
    if n_rows == 0 or K == 0:
        return torch.zeros_like(x)
    out = torch.empty((N, C, D), dtype=x.dtype, device=x.device)
    _many_body_vjp_kernel[row_grid(n_rows)](
        x.contiguous(), coeffs.contiguous(), S.contiguous(), S_out.contiguous(), A.contiguous(), out,
        n_rows, D=D, DC=Dout, G=G, K=K,
        BLOCK_R=BLOCK_R, BLOCK_D=block(D), BLOCK_C=block(Dout), BLOCK_G=block_g(G),
        **LAUNCH_OPTIONS,
    )
    return out


__all__ = ["gaunt_product_triton", "many_body_triton", "many_body_vjp_triton"]
