"""Subnormal floats computed as zero on CPU: for training, and for float32 models at inference.

A trained model's float32 activations and gradients underflow into subnormals (below 1.2e-38),
and every op on them takes the CPU's slow path: 3BPA training epochs went from 27 to 55 s within
30 epochs (weights without gradient, pulled towards 0 by weight decay through Adam's normalised
step), and a float32 export of the shipped potential took 72 instead of 26 ms per force call.
Float64 is not affected at these magnitudes.  The CPU's flush-to-zero mode is per thread and a
new thread copies it from the one that starts it, so it must be set before torch starts its
threads; `flush_subnormals` says when that did not work for all of them."""
from __future__ import annotations

from typing import Optional

import torch

from .conv.workers import workers

_GRAIN = 32768  # elements below which torch runs an elementwise op on one thread


def all_threads_flush() -> bool:
    """True when every thread of torch's intra-op pool computes subnormal products as zero:
    a parallel multiply whose products are all subnormal comes back all zero."""
    products = torch.full((2 * _GRAIN * max(1, torch.get_num_threads()),), 1e-30, dtype=torch.float32) * 1e-9
    return bool((products == 0).all())


def flush_subnormals() -> Optional[str]:
    """Turn flushing on for this thread and every thread started from now on (the conv workers
    are started again).  None when torch's intra-op threads all flush; else what is wrong (the
    CPU cannot flush, or threads started before this call keep computing subnormals)."""
    if not torch.set_flush_denormal(True):
        return "this CPU cannot flush subnormal floats to zero: ops on them stay slow"
    workers.reset()
    if all_threads_flush():
        return None
    return ("some of torch's CPU threads started before flush-to-zero was set and still compute "
            "subnormal floats, slowly; call torch.set_flush_denormal(True) before any torch work "
            "(gaunt_md/ops/subnormals.py)")


def keep_subnormals() -> None:
    """Back to the CPU's default for this thread and threads started from now on."""
    torch.set_flush_denormal(False)
    workers.reset()


__all__ = ["all_threads_flush", "flush_subnormals", "keep_subnormals"]
