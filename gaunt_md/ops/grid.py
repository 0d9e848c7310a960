"""Sphere-grid route: synthesis on a Gauss-Legendre x uniform-phi grid, pointwise work,
exact quadrature back.  Dense matmuls, O(L^4) per product; exact for band-limited inputs."""
from __future__ import annotations

import torch

from ..so3 import degree_from_dim
from .constants import constant


def product(x: torch.Tensor, y: torch.Tensor, lmax_out: int) -> torch.Tensor:
    l1, l2 = degree_from_dim(x.shape[-1]), degree_from_dim(y.shape[-1])
    degree = l1 + l2 + lmax_out
    fx = x @ constant("synthesis_matrix", l1, degree, like=x)
    fy = y @ constant("synthesis_matrix", l2, degree, like=x)
    return (fx * fy) @ constant("analysis_matrix", lmax_out, degree, like=x)


def powers(x: torch.Tensor, correlation: int, lmax_out: int) -> torch.Tensor:
    lmax = degree_from_dim(x.shape[-1])
    degree = correlation * lmax + lmax_out
    f = x @ constant("synthesis_matrix", lmax, degree, like=x)
    power = [f]
    for _ in range(correlation - 1):
        power.append(power[-1] * f)
    return torch.stack(power, dim=1) @ constant("analysis_matrix", lmax_out, degree, like=x)


def _vjp_tensors(x: torch.Tensor, coeffs: torch.Tensor):
    lmax = degree_from_dim(x.shape[-1])
    lmax_out = degree_from_dim(coeffs.shape[-1])
    degree = coeffs.shape[1] * lmax + lmax_out
    S = constant("synthesis_matrix", lmax, degree, like=x)
    S_out = constant("synthesis_matrix", lmax_out, degree, like=x)
    A = constant("analysis_matrix", lmax, degree, like=x)
    return S, S_out, A


def _lower_powers(f: torch.Tensor, count: int) -> list:
    """[f^0, f^1, ..., f^(count-1)] on the grid."""
    out = [torch.ones_like(f)]
    for _ in range(count - 1):
        out.append(out[-1] * f)
    return out


def vjp(x: torch.Tensor, coeffs: torch.Tensor) -> torch.Tensor:
    """(sum_nu nu f^(nu-1) q_nu) projected onto degree L, q_nu = grid values of coeffs[:, nu-1]."""
    S, S_out, A = _vjp_tensors(x, coeffs)
    f = x @ S
    q = coeffs @ S_out
    lower = _lower_powers(f, coeffs.shape[1])
    h = sum((nu + 1) * lower[nu] * q[:, nu] for nu in range(coeffs.shape[1]))
    return h @ A


def vjp_backward(x: torch.Tensor, coeffs: torch.Tensor, grad: torch.Tensor):
    """Gradients of <grad, vjp(x, coeffs)> w.r.t. x and coeffs, in differentiable torch ops."""
    S, S_out, A = _vjp_tensors(x, coeffs)
    correlation = coeffs.shape[1]
    f = x @ S
    q = coeffs @ S_out
    r = grad @ A.T
    lower = _lower_powers(f, correlation)
    grad_coeffs = torch.stack([(nu + 1) * lower[nu] * r for nu in range(correlation)], dim=1) @ S_out.T
    grad_f = sum((nu + 1) * nu * lower[nu - 1] * q[:, nu] for nu in range(1, correlation))
    grad_x = (grad_f * r) @ S.T if correlation > 1 else torch.zeros_like(x)
    return grad_x, grad_coeffs
