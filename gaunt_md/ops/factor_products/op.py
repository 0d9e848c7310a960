"""torch.library registration of gaunt_md::factor_products: its schema, checks, fake tensor
and autograd, and the dispatch to the route chosen for "factor_products" (ops/routes.py).

Routes: reference (reference.py, all nodes at once), torch (chunked.py), triton (the kernels
of triton_kernels.py, for the forward and for a backward that is not differentiated again).
The backward is plain PyTorch ops (products_vjp), so autograd differentiates it again (second
derivatives: training on forces); only the factors are saved for it.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .. import routes
from ..gaunt import validation
from . import chunked
from .reference import products_reference, products_vjp

OP = "factor_products"


def _kernels():
    from . import triton_kernels
    return triton_kernels


def _check(factors: Tensor, synthesis: Tensor, analysis: Tensor, correlation: int, chunk: int) -> None:
    validation.correlation(correlation)
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


@torch.library.custom_op("gaunt_md::factor_products", mutates_args=())
def factor_products_op(factors: Tensor, synthesis: Tensor, analysis: Tensor, correlation: int,
                       chunk: int) -> Tensor:
    _check(factors, synthesis, analysis, correlation, chunk)
    route = routes.kernel_route(OP, factors.device)
    if route == "triton":
        return routes.call_kernel(OP,
                                  lambda: _kernels().factor_products_triton(factors, synthesis, analysis, correlation),
                                  lambda: chunked.products(factors, synthesis, analysis, correlation, chunk))
    if route == "reference":
        return products_reference(factors, synthesis, analysis, correlation)
    return chunked.products(factors, synthesis, analysis, correlation, chunk)


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
        route = routes.kernel_route(OP, factors.device)
        if route == "reference":
            chunk = max(1, factors.shape[0])
        else:
            chunk = chunked.device_chunk(ctx.chunk, factors.device, chunked.grid_values_per_node(factors, synthesis))
        differentiable = lambda: products_vjp(factors, grad, synthesis, analysis, ctx.correlation, chunk)
        # grad mode is on here only when this backward is differentiated again (create_graph)
        if not torch.is_grad_enabled() and route == "triton":
            gf = routes.call_kernel(OP,
                                    lambda: _kernels().factor_products_vjp_triton(factors, grad, synthesis, analysis,
                                                                                  ctx.correlation),
                                    differentiable)
        else:
            gf = differentiable()
    return gf, None, None, None, None


factor_products_op.register_autograd(_backward, setup_context=_setup)

__all__ = ["factor_products_op"]
