"""The "how" of the Gaunt products: interchangeable implementations of the three primitive
computations, one module per method.

Every method provides, on 2D inputs ([rows, coefficients]):
  product(x, y, lmax_out)          projection of f*g onto degrees <= lmax_out
  powers(x, correlation, lmax_out) [rows, correlation, (lmax_out+1)^2]: projections of f^nu
  vjp(x, coeffs)                   sum_nu d/dx <coeffs_nu, projection of f^nu>
dense is the reference; all methods are exact and agree to rounding.  triton (triton_route.py)
has fused kernels for product, many_body and vjp, and takes grid for the powers.
"""
from __future__ import annotations

import torch

from ..routes import GAUNT_METHODS, triton_usable
from . import dense, fourier, grid

BACKENDS = {
    "dense": dense,
    "fourier": fourier,
    "grid": grid.GRID,
    "sht": grid.SEPARABLE,
}
METHODS = GAUNT_METHODS


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
