"""Timing: synchronised calls, warm-up, repeated samples, scaling exponents."""
from __future__ import annotations

import os
import statistics
import time
from typing import Callable, Dict, List, Optional

import numpy as np
import torch

from .memory import peak_rss_mb, reset_peak_rss, rss_mb, settle_memory


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(fn: Callable[[], object], device: torch.device, repeats: int, min_sample: float,
            warmup: int = 2, once: Optional[float] = None) -> dict:
    """Per-call seconds: `warmup` calls, then `repeats` samples of enough calls to last
    min_sample (one call per sample once a call is that slow); min and median of the samples.
    'once' is the duration of the last warm-up call (pass it, with warmup=0, when the caller
    has warmed up already)."""
    for _ in range(warmup if once is not None else max(1, warmup)):
        start = time.perf_counter()
        fn()
        sync(device)
        once = time.perf_counter() - start
    inner = int(min(1000, max(1, min_sample / max(once, 1e-9))))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        sync(device)
        samples.append((time.perf_counter() - start) / inner)
    return {"min": min(samples), "median": statistics.median(samples), "once": once,
            "samples": samples, "calls_per_sample": inner}


def forward_backward(fn: Callable, inputs: List[torch.Tensor], grad: torch.Tensor) -> Callable[[], object]:
    def run():
        out = fn(*inputs)
        return torch.autograd.grad(out, inputs, grad)
    return run


def exponent(times: Dict[int, dict], fit_from: int = 3, key: str = "median") -> float:
    """Slope of log(time) against log(L) over L >= fit_from (nan with fewer than two points)."""
    ls = [l for l in sorted(times) if l >= fit_from]
    if len(ls) < 2:
        return float("nan")
    slope, _ = np.polyfit(np.log(ls), np.log([times[l][key] for l in ls]), 1)
    return float(slope)



def call_times(fn: Callable[[], object], device: torch.device, calls: int = 3, min_time: float = 0.0,
               max_calls: Optional[int] = None) -> List[float]:
    """Seconds of single synchronised calls: `calls` of them, more while less than `min_time`
    seconds have passed in all (never more than `max_calls`)."""
    times: List[float] = []
    start_all = time.perf_counter()
    while len(times) < calls or (time.perf_counter() - start_all < min_time
                                 and (max_calls is None or len(times) < max_calls)):
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return times


def timed_with_memory(fn: Callable[[], object], device: torch.device, repeats: int, min_sample: float,
                      warmup: int = 2, budget: Optional[float] = None, slow_call: float = 5.0) -> dict:
    """measure(fn) plus the memory of the calls.  Warm-up: `warmup` calls, only one if a call
    takes longer than slow_call seconds; with `budget` (s), slow calls get fewer samples (never
    fewer than 3).  After the warm-up (first-call set-up such as autotuning is not counted) the
    allocator is trimmed, the resident set taken as the baseline and the high-water mark reset;
    'peak_extra_mb' is the highest resident set during the timed calls above that baseline
    (CUDA: 'cuda_peak_extra_mb', torch's peak allocated above the allocated)."""
    once = float("nan")
    for i in range(max(1, warmup)):
        start = time.perf_counter()
        fn()
        sync(device)
        once = time.perf_counter() - start
        if once > slow_call:
            break
    if budget is not None:
        repeats = max(3, min(repeats, int(budget / max(once, min_sample))))
    settle_memory()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device) / 2 ** 20
    base_rss = rss_mb()
    resettable = reset_peak_rss()
    cpu0, wall0, load0 = time.process_time(), time.perf_counter(), os.getloadavg()[0]
    out = measure(fn, device, max(1, repeats), min_sample, warmup=0, once=once)
    # cores this process kept busy during the timed calls, and the 1-minute load average
    # before and after them: a busy machine shows up as fewer cores or a higher load
    out["cores_used"] = (time.process_time() - cpu0) / max(time.perf_counter() - wall0, 1e-9)
    out["load_before"], out["load_after"] = load0, os.getloadavg()[0]
    out["rss_before_mb"] = base_rss
    out["peak_rss_mb"] = peak_rss_mb()
    out["peak_extra_mb"] = out["peak_rss_mb"] - base_rss if resettable else float("nan")
    if device.type == "cuda":
        out["cuda_peak_extra_mb"] = torch.cuda.max_memory_allocated(device) / 2 ** 20 - base
    return out
