"""Whether Triton kernels can run here, and what every kernel file shares: the size-generic
jit, the launch options and the argument checks of the launchers.

@triton.jit picks interpreted or compiled kernels when it runs, i.e. when a kernel file is
imported.  The kernel files import this module first, so INTERPRETED records the mode their
kernels were built in: TRITON_INTERPRET=1 must be set before the first of them is imported.
"""
from __future__ import annotations

import inspect
import os

import torch

try:
    import triton
except Exception:  # triton missing or broken: the PyTorch routes remain
    triton = None

TRITON_AVAILABLE: bool = triton is not None
INTERPRETED: bool = os.environ.get("TRITON_INTERPRET") == "1"

NUM_WARPS = 4
# explicit FMA contraction (also silences triton 3.9's warning about the changing default)
LAUNCH_OPTIONS = {"num_warps": NUM_WARPS, "enable_fp_fusion": True}


def triton_usable(device: torch.device) -> bool:
    """True when the kernels can run on tensors of this device: CUDA with triton installed,
    or CPU in Triton's interpreter (TRITON_INTERPRET=1, set before this module was imported)."""
    if not TRITON_AVAILABLE:
        return False
    device = torch.device(device)
    if device.type == "cuda":
        return True
    if device.type == "cpu":
        return INTERPRETED and os.environ.get("TRITON_INTERPRET") == "1"
    return False


def check_usable(device: torch.device) -> None:
    if not triton_usable(device):
        raise RuntimeError(
            f"the Triton kernels cannot run on {device}: they need triton installed and a CUDA "
            "device, or CPU tensors with TRITON_INTERPRET=1 set before gaunt_md.ops.triton_support "
            f"is imported (triton available: {TRITON_AVAILABLE})"
        )


def size_generic_jit(sizes=(), pointers=()):
    """triton.jit that compiles one kernel for every value of the integer arguments `sizes`
    (row and edge counts) and every address alignment of `pointers` (index slices), instead of
    specialising on their divisibility by 16 / alignment to 16 bytes.  Measured on an H200
    (benchmarks/README.md, GPU section): with the default specialisation, MD on 3BPA compiled
    new variants (~1-3 s each) whenever the edge count changed its divisibility by 16, which
    made the Triton route 2-3x slower per MD step than the PyTorch route.  The counts only
    bound masks, so nothing is lost.  Options this triton does not know are left out.
    GAUNT_MD_TRITON_SPECIALIZE=1 (read at import) restores triton's default, for comparisons."""
    if os.environ.get("GAUNT_MD_TRITON_SPECIALIZE") == "1":
        return triton.jit
    known = inspect.signature(triton.jit).parameters
    options = {}
    if sizes and "do_not_specialize" in known:
        options["do_not_specialize"] = list(sizes)
    if pointers and "do_not_specialize_on_alignment" in known:
        options["do_not_specialize_on_alignment"] = list(pointers)
    return triton.jit(**options) if options else triton.jit


def check_float(name: str, t, dtype: torch.dtype, device: torch.device, dim: int) -> None:
    if not isinstance(t, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if t.dtype != dtype:
        raise ValueError(f"{name} has dtype {t.dtype}, expected {dtype} (the dtype of x)")
    if t.device != device:
        raise ValueError(f"{name} is on {t.device}, expected {device} (the device of x)")
    if t.dim() != dim:
        raise ValueError(f"{name} must be {dim}-dimensional, got shape {tuple(t.shape)}")


def check_x(x, dim: int) -> None:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if x.dtype not in (torch.float32, torch.float64):
        raise ValueError(f"x must be float32 or float64, got {x.dtype}")
    check_float("x", x, x.dtype, x.device, dim)


def check_shape(name: str, t: torch.Tensor, expected: tuple) -> None:
    if tuple(t.shape) != expected:
        raise ValueError(f"{name} must have shape {expected}, got {tuple(t.shape)}")


__all__ = ["INTERPRETED", "LAUNCH_OPTIONS", "TRITON_AVAILABLE", "check_float", "check_shape", "check_usable",
           "check_x", "size_generic_jit", "triton_usable"]
