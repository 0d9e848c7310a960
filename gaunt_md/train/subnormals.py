"""Subnormal floats computed as zero on CPU, for a training process.

Weights that get no gradient (a factor-basis weight of a coupling no frame excites) are pulled
towards 0 by weight decay through Adam's normalised step, and the activations they touch end up
subnormal (below 1.2e-38 in float32): every op on them then takes the CPU's slow path (3BPA
epochs went from 27 to 55 s within 30 epochs).  The CPU's flush-to-zero mode is per thread and a
new thread copies it from the one that starts it, so it must be set before torch starts its
threads; `flush_subnormals` says whether that worked for all of them."""
from __future__ import annotations

import torch

from ..ops.conv.workers import workers

_GRAIN = 32768  # elements below which torch runs an elementwise op on one thread


def all_threads_flush() -> bool:
    """True when every thread of torch's intra-op pool computes subnormal products as zero:
    a parallel multiply whose products are all subnormal comes back all zero."""
    products = torch.full((2 * _GRAIN * max(1, torch.get_num_threads()),), 1e-30, dtype=torch.float32) * 1e-9
    return bool((products == 0).all())


def flush_subnormals() -> bool:
    """Turn flushing on for this thread and every thread started from now on (the conv workers
    are started again); True when torch's intra-op threads all flush, False when some started
    before this call (they keep computing subnormals) or the CPU cannot flush."""
    if not torch.set_flush_denormal(True):
        return False
    workers.reset()
    return all_threads_flush()


def keep_subnormals() -> None:
    """Back to the CPU's default for this thread and threads started from now on."""
    torch.set_flush_denormal(False)
    workers.reset()


__all__ = ["all_threads_flush", "flush_subnormals", "keep_subnormals"]
