"""The "triton" method: the ops' inputs and constant matrices handed to the fused kernels
(triton_kernels.py), imported only when this method runs."""
from __future__ import annotations

from torch import Tensor

from ...so3 import degree_from_dim
from .constants import constant, degree_index


def _kernels():
    from . import triton_kernels
    return triton_kernels


def product(x: Tensor, y: Tensor, lmax_out: int) -> Tensor:
    l1, l2 = degree_from_dim(x.shape[-1]), degree_from_dim(y.shape[-1])
    degree = l1 + l2 + lmax_out
    return _kernels().gaunt_product_triton(
        x.contiguous(), y.contiguous(),
        constant("synthesis_matrix", l1, degree, like=x),
        constant("synthesis_matrix", l2, degree, like=x),
        constant("analysis_matrix", lmax_out, degree, like=x),
    )


def vjp(x: Tensor, coeffs: Tensor) -> Tensor:
    lmax, lmax_c = degree_from_dim(x.shape[-1]), degree_from_dim(coeffs.shape[-1])
    degree = coeffs.shape[1] * lmax + lmax_c
    return _kernels().many_body_vjp_triton(
        x.unsqueeze(1).contiguous(), coeffs.unsqueeze(1).contiguous(),
        constant("synthesis_matrix", lmax, degree, like=x),
        constant("synthesis_matrix", lmax_c, degree, like=x),
        constant("analysis_matrix", lmax, degree, like=x),
    ).squeeze(1)


def many_body(x: Tensor, weights: Tensor, species: Tensor, lmax_out: int) -> Tensor:
    lmax = degree_from_dim(x.shape[-1])
    degree = weights.shape[-1] * lmax + lmax_out
    return _kernels().many_body_triton(
        x.contiguous(), weights.contiguous(), species.contiguous(),
        constant("synthesis_matrix", lmax, degree, like=x),
        constant("analysis_matrix", lmax_out, degree, like=x),
        degree_index(lmax_out, x.device),
    )
