"""Which implementation an op with a Triton kernel takes: chosen per call from an environment
variable, so that exported models (whose op schemas are fixed) can be switched without
re-exporting, in ASE and inside LAMMPS alike.

    auto (default)  the Triton kernels for CUDA tensors when triton is installed, else PyTorch
    torch           always the PyTorch implementation
    triton          the Triton kernels wherever they can run (CPU only in Triton's interpreter)
"""
from __future__ import annotations

import os

import torch

from .backends import triton_usable

ROUTES = ("auto", "torch", "triton")


def kernel_route(variable: str, device: torch.device) -> str:
    """'triton' or 'torch' for tensors on this device, as the environment variable says."""
    chosen = os.environ.get(variable, "auto") or "auto"
    if chosen not in ROUTES:
        raise ValueError(f"{variable}={chosen!r}: choose one of {', '.join(ROUTES)}")
    if chosen == "auto":
        return "triton" if device.type == "cuda" and triton_usable(device) else "torch"
    if chosen == "triton" and not triton_usable(device):
        raise RuntimeError(f"{variable}=triton needs triton and a CUDA device "
                           f"(or TRITON_INTERPRET=1 for CPU tensors); the tensors are on {device}")
    return chosen


__all__ = ["ROUTES", "kernel_route"]
