"""torch.ops.gaunt_md.factor_products: Gaunt products of distinct factors, a few nodes at a time.

factor_products(factors, synthesis, analysis, correlation, chunk)
    factors [N, F, C, D] (F = K(K+1)/2: body order nu takes the next nu of them),
    synthesis [D, G] (coefficients -> values on a sphere grid exact for the whole product),
    analysis [G, Dout] (grid values -> coefficients of degree <= lmax_out)
    -> [N, K, C, Dout], entry nu-1 = projection of the pointwise product of body order nu's factors.

The grid values ([N, F, C, G], ~4x the factors at L = 3) are never kept: the forward and the
backward work on `chunk` nodes at a time, so the peak memory and the working set stay small
whatever the system size, and only the factors are saved for the backward. The backward is plain
PyTorch ops, so autograd differentiates it again (second derivatives: training on forces).

Routes (environment variable GAUNT_MD_FACTOR_PRODUCTS = auto | torch | triton, see routes.py):
the Triton route runs the fused kernels of triton_factor_products.py for the forward and for a
backward that is not differentiated again (energy + forces); a differentiated backward
(training on forces) always takes the PyTorch VJP.  The PyTorch route on CUDA works on chunks
of ~2^25 grid values, not the CPU's cache-sized ones.
"""
from __future__ import annotations

from typing import List

import torch
from torch import Tensor

from .library import _check_correlation
from .routes import call_kernel, kernel_route

ROUTE_VARIABLE = "GAUNT_MD_FACTOR_PRODUCTS"
CUDA_CHUNK_GRID_VALUES = 1 << 25


def _check(factors: Tensor, synthesis: Tensor, analysis: Tensor, correlation: int, chunk: int) -> None:
    _check_correlation(correlation)
    if not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
    num_factors = correlation * (correlation + 1) // 2
    if factors.dim() != 4 or factors.shape[1] != num_factors:
        raise ValueError(f"factors must be [N, {num_factors}, C, D] for correlation {correlation}, "
                         f"got {tuple(factors.shape)}")
    if synthesis.dim() != 2 or synthesis.shape[0] != factors.shape[-1]:
        raise ValueError(f"synthesis must be [{factors.shape[-1]}, G], got {tuple(synthesis.shape)}")
    if analysis.dim() != 2 or analysis.shape[0] != synthesis.shape[1]:
        raise ValueError(f"analysis must be [{synthesis.shape[1]}, Dout], got {tuple(analysis.shape)}")
    for name, t in (("synthesis", synthesis), ("analysis", analysis)):
        if t.dtype != factors.dtype or t.device != factors.device:
            raise ValueError(f"{name} must have the factors' dtype and device ({factors.dtype}, {factors.device}), "
                             f"got {t.dtype}, {t.device}")


def device_chunk(chunk: int, device: torch.device, grid_values_per_node: int) -> int:
    """Nodes per step of the PyTorch route: the caller's cache-sized chunk on CPU; on CUDA
    enough nodes for ~2^25 grid values, so that a large system is a few launches per op, not
    thousands."""
    if device.type != "cuda":
        return chunk
    return max(chunk, CUDA_CHUNK_GRID_VALUES // max(1, grid_values_per_node))


def _grid_values_per_node(factors: Tensor, synthesis: Tensor) -> int:
    return factors.shape[1] * factors.shape[2] * synthesis.shape[1]


def _triton():
    from . import triton_factor_products
    return triton_factor_products


def _body_orders(correlation: int) -> List[List[int]]:
    """The factor indices of each body order: [[0], [1, 2], [3, 4, 5], ...]."""
    groups, first = [], 0
    for nu in range(1, correlation + 1):
        groups.append(list(range(first, first + nu)))
        first += nu
    return groups


def products_reference(factors: Tensor, synthesis: Tensor, analysis: Tensor, correlation: int) -> Tensor:
    """All nodes at once, plain autograd-differentiable ops: the forward of one chunk."""
    grids = torch.matmul(factors, synthesis)                                  # [n, F, C, G]
    products: List[Tensor] = []
    for group in _body_orders(correlation):
        product = grids[:, group[0]]
        for i in group[1:]:
            product = product * grids[:, i]
        products.append(product)
    return torch.matmul(torch.stack(products, dim=1), analysis)              # [n, K, C, Dout]


def products_vjp(factors: Tensor, grad: Tensor, synthesis: Tensor, analysis: Tensor, correlation: int,
                 chunk: int) -> Tensor:
    """d<grad, factor_products(factors)>/d factors, chunk by chunk, in differentiable ops."""
    groups = _body_orders(correlation)
    parts: List[Tensor] = []
    # split, not slices: differentiated again, one split gathers all chunks' gradients at once,
    # where each slice would write its chunk into a zero tensor of the whole size (O(N^2 / chunk))
    for factors_c, grad_c in zip(factors.split(chunk), grad.split(chunk)):
        grids = torch.matmul(factors_c, synthesis)                          # [n, F, C, G]
        grad_grids = torch.matmul(grad_c, analysis.t())                     # [n, K, C, G]
        per_factor: List[Tensor] = []
        for k, group in enumerate(groups):
            for i in group:
                g = grad_grids[:, k]
                for j in group:
                    if j != i:
                        g = g * grids[:, j]
                per_factor.append(g)
        parts.append(torch.matmul(torch.stack(per_factor, dim=1), synthesis.t()))
    return torch.cat(parts, dim=0) if parts else torch.zeros_like(factors)


@torch.library.custom_op("gaunt_md::factor_products", mutates_args=())
def factor_products_op(factors: Tensor, synthesis: Tensor, analysis: Tensor, correlation: int,
                       chunk: int) -> Tensor:
    _check(factors, synthesis, analysis, correlation, chunk)
    if kernel_route(ROUTE_VARIABLE, factors.device) == "triton":
        return call_kernel(ROUTE_VARIABLE,
                           lambda: _triton().factor_products_triton(factors, synthesis, analysis, correlation),
                           lambda: _products_torch(factors, synthesis, analysis, correlation, chunk))
    return _products_torch(factors, synthesis, analysis, correlation, chunk)


def _products_torch(factors: Tensor, synthesis: Tensor, analysis: Tensor, correlation: int, chunk: int) -> Tensor:
    n, _, c, _ = factors.shape
    out = factors.new_empty((n, correlation, c, analysis.shape[1]))
    chunk = device_chunk(chunk, factors.device, _grid_values_per_node(factors, synthesis))
    for start in range(0, n, chunk):
        out[start:start + chunk] = products_reference(factors[start:start + chunk], synthesis, analysis, correlation)
    return out


@factor_products_op.register_fake
def _(factors, synthesis, analysis, correlation, chunk):
    return factors.new_empty((factors.shape[0], correlation, factors.shape[2], analysis.shape[1]))


def _setup(ctx, inputs, output):
    factors, synthesis, analysis, correlation, chunk = inputs
    ctx.save_for_backward(factors, synthesis, analysis)
    ctx.correlation, ctx.chunk = correlation, chunk


def _backward(ctx, grad):
    factors, synthesis, analysis = ctx.saved_tensors
    gf = None
    if ctx.needs_input_grad[0]:
        # grad mode is on here only when this backward is differentiated again (create_graph)
        chunk = device_chunk(ctx.chunk, factors.device, _grid_values_per_node(factors, synthesis))
        differentiable = lambda: products_vjp(factors, grad, synthesis, analysis, ctx.correlation, chunk)
        if not torch.is_grad_enabled() and kernel_route(ROUTE_VARIABLE, factors.device) == "triton":
            gf = call_kernel(ROUTE_VARIABLE,
                             lambda: _triton().factor_products_vjp_triton(factors, grad, synthesis, analysis,
                                                                          ctx.correlation),
                             differentiable)
        else:
            gf = differentiable()
    return gf, None, None, None, None


factor_products_op.register_autograd(_backward, setup_context=_setup)

__all__ = ["factor_products_op", "products_reference", "products_vjp", "device_chunk"]
