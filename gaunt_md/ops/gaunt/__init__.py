"""The Gaunt products: projections of pointwise products of spherical functions.

gaunt_product(x, y, lmax_out)    projection onto degrees <= lmax_out of the pointwise product of
                                 the spherical functions with real-SH coefficients x and y
many_body_product(x, weights, species, lmax_out)
                                 sum_nu w[species, channel, l, nu] * (f^nu)_lm, nu = 1..K
power_projections(x, correlation, lmax_out)
                                 the projections of f^nu themselves

Files: ops.py registers the torch.library ops (gaunt_md::gaunt_product, many_body,
power_projections, power_vjp) with their autograd; methods.py maps the `method` names to one
module each (dense.py the reference, fourier.py, grid.py for grid and sht, triton_route.py with
the kernels of triton_kernels.py); autotune.py times them for method="auto"; validation.py
checks inputs; constants.py caches the so3 matrices per dtype and device.
"""
from __future__ import annotations

import torch

from . import ops as _registers_ops  # noqa: F401  (torch.ops.gaunt_md.gaunt_product, many_body, ...)
from . import validation
from .autotune import chosen as autotune_choices
from .methods import METHODS


def gaunt_product(x: torch.Tensor, y: torch.Tensor, lmax_out: int, method: str = "auto") -> torch.Tensor:
    """x [..., (L1+1)^2], y [..., (L2+1)^2] (broadcast) -> [..., (lmax_out+1)^2]."""
    validation.product_inputs(x, y, lmax_out, method)
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
    validation.many_body_inputs(x, weights, species, lmax_out, method)
    return torch.ops.gaunt_md.many_body(x, weights, species, lmax_out, method)


def power_projections(x: torch.Tensor, correlation: int, lmax_out: int, method: str = "auto") -> torch.Tensor:
    """x [..., (L+1)^2] -> [..., correlation, (lmax_out+1)^2], entry nu-1 = projection of f^nu."""
    validation.floating(x, "x")
    validation.correlation(correlation)
    validation.lmax_out(lmax_out)
    validation.check_method(method)
    return torch.ops.gaunt_md.power_projections(x, correlation, lmax_out, method)


__all__ = ["METHODS", "autotune_choices", "gaunt_product", "many_body_product", "power_projections"]
