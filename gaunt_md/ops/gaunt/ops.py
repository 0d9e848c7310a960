"""torch.library registration of the Gaunt operations (namespace gaunt_md).

Ops (callable as torch.ops.gaunt_md.* from eager code and TorchScript):
  gaunt_product(x, y, lmax_out, method)              x [..., D1], y [..., D2] same leading dims
  many_body(x, weights, species, lmax_out, method)   x [N, C, D], weights [S, C, lmax_out+1, K]
  power_projections(x, correlation, lmax_out, method) x [..., D] -> [..., K, Dout]
  power_vjp(x, coeffs, method)                       x [..., D], coeffs [..., K, Dout] -> [..., D]
Autograd is closed under differentiation: every backward is written with these ops or plain
torch ops, so second derivatives (training on forces) work.
"""
from __future__ import annotations

import torch
from torch import Tensor

from ...so3 import degree_from_dim, sh_dim
from .. import routes
from . import autotune, triton_route, validation
from .constants import degree_index
from .grid import GRID, SEPARABLE
from .methods import backend, check_method


def _resolve(method: str, kind: str, rows: int, sizes: tuple, like: Tensor, runners) -> str:
    """The method to run: the one named, the one chosen for 'auto' (routes.py), else the
    fastest of the runners."""
    method = routes.gaunt_method(method)
    if method != "auto":
        return method
    return autotune.choose((kind,) + sizes, rows, like.device, like.dtype, runners)


# --- gaunt_product ------------------------------------------------------------------------

def _product_2d(x: Tensor, y: Tensor, lmax_out: int, method: str) -> Tensor:
    if method == "triton":
        return triton_route.product(x, y, lmax_out)
    return backend(method, x.device).product(x, y, lmax_out)


@torch.library.custom_op("gaunt_md::gaunt_product", mutates_args=())
def gaunt_product_op(x: Tensor, y: Tensor, lmax_out: int, method: str) -> Tensor:
    validation.product_inputs(x, y, lmax_out, method)
    if x.shape[:-1] != y.shape[:-1]:
        raise ValueError(f"x and y leading shapes differ: {tuple(x.shape)} vs {tuple(y.shape)}")
    lead = x.shape[:-1]
    x2, y2 = x.reshape(-1, x.shape[-1]), y.reshape(-1, y.shape[-1])
    if x2.shape[0] == 0:
        return x.new_zeros(lead + (sh_dim(lmax_out),))
    runners = {
        m: (lambda m=m: _product_2d(x2, y2, lmax_out, m))
        for m in autotune.candidates(x.device, x.shape[-1] * y.shape[-1] * sh_dim(lmax_out), True)
    }
    chosen = _resolve(method, "product", x2.shape[0], (x.shape[-1], y.shape[-1], lmax_out), x, runners)
    return _product_2d(x2, y2, lmax_out, chosen).reshape(lead + (sh_dim(lmax_out),))


@gaunt_product_op.register_fake
def _(x, y, lmax_out, method):
    return x.new_empty(x.shape[:-1] + (sh_dim(lmax_out),))


def _product_setup(ctx, inputs, output):
    x, y, _, method = inputs
    ctx.save_for_backward(x, y)
    ctx.method = method


def _product_backward(ctx, grad):
    x, y = ctx.saved_tensors
    # G is symmetric in its three slots, so each adjoint is again a Gaunt product.
    gx = gy = None
    if ctx.needs_input_grad[0]:
        gx = torch.ops.gaunt_md.gaunt_product(grad, y, degree_from_dim(x.shape[-1]), ctx.method)
    if ctx.needs_input_grad[1]:
        gy = torch.ops.gaunt_md.gaunt_product(grad, x, degree_from_dim(y.shape[-1]), ctx.method)
    return gx, gy, None, None


gaunt_product_op.register_autograd(_product_backward, setup_context=_product_setup)


# --- power_projections ----------------------------------------------------------------------

def _powers_2d(x: Tensor, correlation: int, lmax_out: int, method: str) -> Tensor:
    return backend(method, x.device).powers(x, correlation, lmax_out)


@torch.library.custom_op("gaunt_md::power_projections", mutates_args=())
def power_projections_op(x: Tensor, correlation: int, lmax_out: int, method: str) -> Tensor:
    validation.floating(x, "x")
    validation.lmax_out(lmax_out)
    validation.correlation(correlation)
    check_method(method)
    lmax = degree_from_dim(x.shape[-1], "x")
    lead = x.shape[:-1]
    x2 = x.reshape(-1, x.shape[-1])
    out_shape = lead + (correlation, sh_dim(lmax_out))
    if x2.shape[0] == 0:
        return x.new_zeros(out_shape)
    power_degree = lmax * max(correlation - 1, 1)  # highest power the dense route expands
    dense_size = sh_dim(power_degree) * x.shape[-1] * sh_dim(max(lmax_out, lmax * correlation))
    runners = {
        m: (lambda m=m: _powers_2d(x2, correlation, lmax_out, m))
        for m in autotune.candidates(x.device, dense_size, False, power_degree)
    }
    chosen = _resolve(method, "powers", x2.shape[0], (x.shape[-1], correlation, lmax_out), x, runners)
    return _powers_2d(x2, correlation, lmax_out, chosen).reshape(out_shape)


@power_projections_op.register_fake
def _(x, correlation, lmax_out, method):
    return x.new_empty(x.shape[:-1] + (correlation, sh_dim(lmax_out)))


def _powers_setup(ctx, inputs, output):
    ctx.save_for_backward(inputs[0])
    ctx.method = inputs[3]


def _powers_backward(ctx, grad):
    (x,) = ctx.saved_tensors
    return torch.ops.gaunt_md.power_vjp(x, grad, ctx.method), None, None, None


power_projections_op.register_autograd(_powers_backward, setup_context=_powers_setup)


# --- power_vjp ------------------------------------------------------------------------------

def _vjp_2d(x: Tensor, coeffs: Tensor, method: str) -> Tensor:
    if method == "triton":
        return triton_route.vjp(x, coeffs)
    return backend(method, x.device).vjp(x, coeffs)


@torch.library.custom_op("gaunt_md::power_vjp", mutates_args=())
def power_vjp_op(x: Tensor, coeffs: Tensor, method: str) -> Tensor:
    validation.floating(x, "x")
    validation.floating(coeffs, "coeffs")
    validation.same_kind(x, coeffs, "x and coeffs")
    check_method(method)
    lmax = degree_from_dim(x.shape[-1], "x")
    lmax_c = degree_from_dim(coeffs.shape[-1], "coeffs")
    if coeffs.dim() < 2 or coeffs.shape[:-2] != x.shape[:-1]:
        raise ValueError(f"coeffs must be [..., K, Dout] with x's leading shape, got {tuple(coeffs.shape)}")
    x2 = x.reshape(-1, x.shape[-1])
    c2 = coeffs.reshape(-1, coeffs.shape[-2], coeffs.shape[-1])
    if x2.shape[0] == 0:
        return torch.zeros_like(x)
    correlation = coeffs.shape[-2]
    power_degree = lmax * max(correlation - 1, 1)  # highest power the dense route expands
    dense_size = sh_dim(power_degree) * coeffs.shape[-1] * x.shape[-1]
    runners = {
        m: (lambda m=m: _vjp_2d(x2, c2, m))
        for m in autotune.candidates(x.device, dense_size, True, power_degree)
    }
    chosen = _resolve(method, "vjp", x2.shape[0], (x.shape[-1], correlation, lmax_c), x, runners)
    return _vjp_2d(x2, c2, chosen).reshape(x.shape)


@power_vjp_op.register_fake
def _(x, coeffs, method):
    return torch.empty_like(x)


def _vjp_setup(ctx, inputs, output):
    ctx.save_for_backward(inputs[0], inputs[1])
    ctx.method = inputs[2]


def _vjp_backward(ctx, grad):
    """Second derivatives (force training) by a grid route: the separable one where asked for
    or, under 'auto', where it is the faster of the two."""
    x, coeffs = ctx.saved_tensors
    x2 = x.reshape(-1, x.shape[-1])
    if x2.shape[0] == 0:
        return torch.zeros_like(x), torch.zeros_like(coeffs), None
    c2 = coeffs.reshape(-1, coeffs.shape[-2], coeffs.shape[-1])
    g2 = grad.reshape(x2.shape)
    grid_methods = {"grid": GRID, "sht": SEPARABLE}
    runners = {m: (lambda r=r: r.vjp_backward(x2, c2, g2)) for m, r in grid_methods.items()}
    chosen = _resolve(ctx.method, "vjp_backward", x2.shape[0], (x.shape[-1],) + tuple(coeffs.shape[-2:]), x,
                      runners)
    gx, gc = grid_methods.get(chosen, GRID).vjp_backward(x2, c2, g2)
    return gx.reshape(x.shape), gc.reshape(coeffs.shape), None


power_vjp_op.register_autograd(_vjp_backward, setup_context=_vjp_setup)


# --- many_body ------------------------------------------------------------------------------

def _gathered_weights(weights: Tensor, species: Tensor, lmax_out: int) -> Tensor:
    """[N, C, Dout, K]: each node's weights, expanded from degrees to coefficients."""
    per_node = torch.index_select(weights, 0, species)
    return torch.index_select(per_node, 2, degree_index(lmax_out, weights.device))


def _many_body(x: Tensor, weights: Tensor, species: Tensor, lmax_out: int, method: str) -> Tensor:
    if method == "triton":
        return triton_route.many_body(x, weights, species, lmax_out)
    n, c, d = x.shape
    correlation = weights.shape[-1]
    projections = _powers_2d(x.reshape(n * c, d), correlation, lmax_out, method).reshape(n, c, correlation, -1)
    return torch.einsum("nckm,ncmk->ncm", projections, _gathered_weights(weights, species, lmax_out))


@torch.library.custom_op("gaunt_md::many_body", mutates_args=())
def many_body_op(x: Tensor, weights: Tensor, species: Tensor, lmax_out: int, method: str) -> Tensor:
    validation.many_body_inputs(x, weights, species, lmax_out, method)
    if x.shape[0] * x.shape[1] == 0:
        return x.new_zeros(x.shape[:2] + (sh_dim(lmax_out),))
    lmax = degree_from_dim(x.shape[-1])
    correlation = weights.shape[-1]
    power_degree = lmax * max(correlation - 1, 1)  # highest power the dense route expands
    dense_size = sh_dim(power_degree) * x.shape[-1] * sh_dim(max(lmax_out, lmax * correlation))
    runners = {
        m: (lambda m=m: _many_body(x, weights, species, lmax_out, m))
        for m in autotune.candidates(x.device, dense_size, True, power_degree)
    }
    chosen = _resolve(method, "many_body", x.shape[0] * x.shape[1],
                      (x.shape[-1], correlation, lmax_out), x, runners)
    return _many_body(x, weights, species, lmax_out, chosen)


@many_body_op.register_fake
def _(x, weights, species, lmax_out, method):
    return x.new_empty(x.shape[:2] + (sh_dim(lmax_out),))


def _many_body_setup(ctx, inputs, output):
    x, weights, species, lmax_out, method = inputs
    ctx.save_for_backward(x, weights, species)
    ctx.lmax_out = lmax_out
    ctx.method = method


def _many_body_backward(ctx, grad):
    x, weights, species = ctx.saved_tensors
    correlation = weights.shape[-1]
    gx = gw = None
    if ctx.needs_input_grad[0]:
        coeffs = (_gathered_weights(weights, species, ctx.lmax_out) * grad[..., None]).transpose(-1, -2)
        gx = torch.ops.gaunt_md.power_vjp(x, coeffs, ctx.method)
    if ctx.needs_input_grad[1]:
        projections = torch.ops.gaunt_md.power_projections(x, correlation, ctx.lmax_out, ctx.method)
        per_coefficient = grad[:, :, None, :] * projections  # [N, C, K, Dout]
        deg = degree_index(ctx.lmax_out, x.device)
        per_degree = per_coefficient.new_zeros(x.shape[:2] + (correlation, ctx.lmax_out + 1)).index_add(
            3, deg, per_coefficient
        )
        gw = weights.new_zeros(weights.shape).index_add(0, species, per_degree.transpose(-1, -2))
    return gx, gw, None, None, None


many_body_op.register_autograd(_many_body_backward, setup_context=_many_body_setup)

__all__ = ["gaunt_product_op", "many_body_op", "power_projections_op", "power_vjp_op"]
