"""method='auto' (when no method is chosen for it, see ops/routes.py): time every applicable
method on the actual inputs the first time a problem size is seen (per device, dtype and
power-of-two row bucket), then reuse the winner."""
from __future__ import annotations

import time
from typing import Callable, Dict, Sequence, Tuple

import torch

from ...so3 import MAX_DEGREE
from ..routes import triton_usable

_choices: Dict[Tuple, str] = {}
_DENSE_LIMIT = 4_000_000  # Gaunt tensor entries beyond which the O(L^6) route is not tried


def candidates(device: torch.device, dense_size: int, has_triton_kernel: bool,
               dense_degree: int = 0) -> Sequence[str]:
    """dense_degree: the highest degree of the Gaunt coefficients the dense route would need."""
    methods = ["grid", "sht", "fourier"]
    if dense_size <= _DENSE_LIMIT and dense_degree <= MAX_DEGREE:
        methods.append("dense")
    if has_triton_kernel and device.type == "cuda" and triton_usable(device):
        methods.append("triton")
    return methods


def _time(fn: Callable[[], torch.Tensor], device: torch.device, repeats: int = 3) -> float:
    fn()  # warm-up: caches, kernel compilation
    best = float("inf")
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        best = min(best, time.perf_counter() - start)
    return best


def choose(key: Tuple, rows: int, device: torch.device, dtype: torch.dtype,
           runners: Dict[str, Callable[[], torch.Tensor]]) -> str:
    """Pick the fastest of `runners` (method -> zero-argument call) for this problem."""
    full_key = key + (device.type, dtype, max(rows, 1).bit_length())
    if full_key not in _choices:
        with torch.no_grad():
            timings = {m: _time(run, device) for m, run in runners.items()}
        _choices[full_key] = min(timings, key=timings.get)
    return _choices[full_key]


def chosen() -> Dict[Tuple, str]:
    """The decisions taken so far (for benchmarks and reports)."""
    return dict(_choices)
