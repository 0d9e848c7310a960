"""Which implementation an op with a Triton kernel takes: chosen per call from an environment
variable, so that exported models (whose op schemas are fixed) can be switched without
re-exporting, in ASE and inside LAMMPS alike.

    auto (default)  the Triton kernels for CUDA tensors when triton is installed, else PyTorch;
                    if a kernel fails (e.g. does not compile for this GPU), a warning says so
                    once and that op takes the PyTorch route for the rest of the process
    torch           always the PyTorch implementation
    triton          the Triton kernels wherever they can run (CPU only in Triton's interpreter);
                    their errors are raised

auto has no size threshold: on an H200 (4 Dec 2026, benchmarks/README.md "GPU (NVIDIA H200)")
the Triton routes were never slower than the PyTorch routes beyond run-to-run noise, from the
27-atom 3BPA molecule (launch-bound, ~10-17 ms per call on both) to 50k atoms (0.69x the
PyTorch route's time in float32, 0.84x in float64), for one call and in MD.
"""
from __future__ import annotations

import os
import warnings
from typing import Callable, Set, TypeVar

import torch

from .backends import triton_usable

ROUTES = ("auto", "torch", "triton")
T = TypeVar("T")
_failed: Set[str] = set()  # variables whose Triton kernels failed under auto


def _chosen(variable: str) -> str:
    chosen = os.environ.get(variable, "auto") or "auto"
    if chosen not in ROUTES:
        raise ValueError(f"{variable}={chosen!r}: choose one of {', '.join(ROUTES)}")
    return chosen


def kernel_route(variable: str, device: torch.device) -> str:
    """'triton' or 'torch' for tensors on this device, as the environment variable says."""
    chosen = _chosen(variable)
    if chosen == "auto":
        return "triton" if device.type == "cuda" and variable not in _failed and triton_usable(device) else "torch"
    if chosen == "triton" and not triton_usable(device):
        raise RuntimeError(f"{variable}=triton needs triton and a CUDA device "
                           f"(or TRITON_INTERPRET=1 for CPU tensors); the tensors are on {device}")
    return chosen


def call_kernel(variable: str, kernel: Callable[[], T], fallback: Callable[[], T]) -> T:
    """kernel() on the Triton route.  Under auto an exception from it is not fatal: a warning
    names it, fallback() (the PyTorch route, computing the result afresh) runs instead, and
    kernel_route answers 'torch' for this variable from then on."""
    try:
        return kernel()
    except Exception as error:
        if _chosen(variable) != "auto":
            raise
        _failed.add(variable)
        warnings.warn(f"{variable}: the Triton kernels failed ({type(error).__name__}: {error}); this op takes "
                      f"the PyTorch route from now on (set {variable}=triton to raise the error instead, "
                      f"{variable}=torch to skip the kernels)", RuntimeWarning, stacklevel=2)
        return fallback()


__all__ = ["ROUTES", "call_kernel", "kernel_route"]
