"""Clear ValueErrors for bad inputs, raised before any computation."""
from __future__ import annotations

import torch

from ...so3 import MAX_DEGREE, degree_from_dim
from .methods import check_method


def floating(t: torch.Tensor, name: str) -> None:
    if not isinstance(t, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if t.dtype not in (torch.float32, torch.float64):
        raise ValueError(f"{name} must be float32 or float64, got {t.dtype}")
    if t.dim() < 1:
        raise ValueError(f"{name} must have a last dimension of spherical-harmonic coefficients")


def same_kind(a: torch.Tensor, b: torch.Tensor, names: str) -> None:
    if a.dtype != b.dtype:
        raise ValueError(f"{names} have different dtypes ({a.dtype} and {b.dtype})")
    if a.device != b.device:
        raise ValueError(f"{names} are on different devices ({a.device} and {b.device})")


def lmax_out(value: int) -> None:
    if not isinstance(value, int) or value < 0:
        raise ValueError(f"lmax_out must be a non-negative integer, got {value!r}")
    supported(value, "lmax_out")


def correlation(value: int) -> None:
    if not isinstance(value, int) or value < 1:
        raise ValueError(f"correlation must be a positive integer, got {value!r}")


def supported(degree: int, name: str) -> None:
    if degree > MAX_DEGREE:
        raise ValueError(f"{name} is degree {degree}; degrees above {MAX_DEGREE} are not supported "
                         "(e3nn's spherical harmonics stop there)")


def product_inputs(x, y, lmax: int, method: str) -> None:
    floating(x, "x")
    floating(y, "y")
    same_kind(x, y, "x and y")
    supported(degree_from_dim(x.shape[-1], "x"), "x")
    supported(degree_from_dim(y.shape[-1], "y"), "y")
    lmax_out(lmax)
    check_method(method)


def many_body_inputs(x, weights, species, lmax: int, method: str) -> None:
    floating(x, "x")
    floating(weights, "weights")
    same_kind(x, weights, "x and weights")
    lmax_out(lmax)
    check_method(method)
    if x.dim() != 3:
        raise ValueError(f"x must be [nodes, channels, (L+1)^2], got shape {tuple(x.shape)}")
    supported(degree_from_dim(x.shape[-1], "x"), "x")
    if weights.dim() != 4 or weights.shape[1] != x.shape[1] or weights.shape[2] != lmax + 1:
        raise ValueError(
            "weights must be [species, channels, lmax_out+1, correlation] = "
            f"[S, {x.shape[1]}, {lmax + 1}, K], got shape {tuple(weights.shape)}"
        )
    if weights.shape[3] < 1:
        raise ValueError("correlation (weights.shape[-1]) must be at least 1")
    if species.dtype != torch.long or species.shape != x.shape[:1]:
        raise ValueError(
            f"species must be int64 of shape [{x.shape[0]}], got {species.dtype} {tuple(species.shape)}"
        )
    if species.device.type == "cpu" and species.numel() and (
        int(species.min()) < 0 or int(species.max()) >= weights.shape[0]
    ):
        raise ValueError(f"species indices must lie in [0, {weights.shape[0]})")
