"""Gaunt tensor products as differentiable, TorchScript-callable custom ops.

gaunt_product(x, y, lmax_out)    projection onto degrees <= lmax_out of the pointwise product of
                                 the spherical functions with real-SH coefficients x and y
many_body_product(x, weights, species, lmax_out)
                                 sum_nu w[species, channel, l, nu] * (f^nu)_lm, nu = 1..K
power_projections(x, correlation, lmax_out)
                                 the projections of f^nu themselves
factor_products(factors, synthesis, analysis, correlation, chunk)
                                 projections of products of distinct factors (factor_products.py)
method: "auto" (measured fastest), "dense" (reference), "fourier" (the paper's 2D-FFT route),
"grid" (sphere quadrature, dense transforms), "sht" (sphere quadrature, separable O(L^3)
transforms), "triton" (fused GPU kernels).
"""
from __future__ import annotations

import torch

from . import conv as _conv  # registers torch.ops.gaunt_md.conv (the fused convolution)
from . import factor_products as _factor_products  # registers torch.ops.gaunt_md.factor_products
from . import library as _library  # registers torch.ops.gaunt_md.*
from . import validation as _validation
from .autotune import chosen as autotune_choices
from .backends import METHODS, triton_usable


def gaunt_product(x: torch.Tensor, y: torch.Tensor, lmax_out: int, method: str = "auto") -> torch.Tensor:
    """x [..., (L1+1)^2], y [..., (L2+1)^2] (broadcast) -> [..., (lmax_out+1)^2]."""
    _validation.product_inputs(x, y, lmax_out, method)
    try:
        lead = torch.broadcast_shapes(x.shape[:-1], y.shape[:-1])
    except RuntimeError as err:
        raise ValueError(
            f"leading dimensions of x {tuple(x.shape)} and y {tuple(y.shape)} do not broadcast"
        ) from err
    x = x.expand(lead + x.shape[-1:])
    y = y.expand(lead + y.shape[-1:])
    return torch.ops.gaunt_md.gaunt_product(x, y, lmax_out, method)


def many_body_product(x: torch.Tensor, weights: torch.Tensor, species: torch.Tensor,
                      lmax_out: int, method: str = "auto") -> torch.Tensor:
    """x [N, C, (L+1)^2], weights [S, C, lmax_out+1, K], species [N] -> [N, C, (lmax_out+1)^2]."""
    _validation.many_body_inputs(x, weights, species, lmax_out, method)
    return torch.ops.gaunt_md.many_body(x, weights, species, lmax_out, method)


def power_projections(x: torch.Tensor, correlation: int, lmax_out: int, method: str = "auto") -> torch.Tensor:
    """x [..., (L+1)^2] -> [..., correlation, (lmax_out+1)^2], entry nu-1 = projection of f^nu."""
    _validation.floating(x, "x")
    _library._check_correlation(correlation)
    _validation.lmax_out(lmax_out)
    _validation.check_method(method)
    return torch.ops.gaunt_md.power_projections(x, correlation, lmax_out, method)


__all__ = ["METHODS", "autotune_choices", "gaunt_product", "many_body_product", "power_projections", "triton_usable"]
