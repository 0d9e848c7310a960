"""The "how": interchangeable implementations of the three primitive Gaunt computations.

Every backend provides, on 2D inputs ([rows, coefficients]):
  product(x, y, lmax_out)          projection of f*g onto degrees <= lmax_out
  powers(x, correlation, lmax_out) [rows, correlation, (lmax_out+1)^2]: projections of f^nu
  vjp(x, coeffs)                   sum_nu d/dx <coeffs_nu, projection of f^nu>
The dense route is the reference; all routes are exact and agree to rounding.
"""
from __future__ import annotations

import torch

from . import dense, fourier, grid

BACKENDS = {
    "dense": dense,
    "fourier": fourier,
    "grid": grid.GRID,
    "sht": grid.SEPARABLE,
}
METHODS = ("auto", "dense", "fourier", "grid", "sht", "triton")


def triton_usable(device: torch.device) -> bool:
    try:
        from . import triton_kernels
    except Exception:  # triton missing or broken: the PyTorch routes remain
        return False
    return triton_kernels.triton_usable(device)


def check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")


def backend(method: str, device: torch.device):
    """PyTorch backend module for a resolved method ('triton' falls back to 'grid' for the
    computations it has no kernel for)."""
    if method == "triton":
        if not triton_usable(device):
            raise RuntimeError(
                "method='triton' needs a CUDA device with triton installed "
                "(or TRITON_INTERPRET=1 for CPU tensors)"
            )
        return grid.GRID
    return BACKENDS[method]
