"""Worker threads for the blocked PyTorch route of gaunt_md::conv on CPU."""
from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import List, Tuple

import torch
from torch import Tensor
from torch.profiler import record_function


class WorkerPool:
    """Threads that run ranges of edge blocks side by side on CPU, each with single-threaded
    torch ops.  Intra-op threading of the many small block ops does not pay, and with the cores
    shared (another process busy) its spinning OpenMP barriers made a call many times slower.
    The pool is made once per process (again after a fork) with torch.get_num_threads() workers."""

    def __init__(self):
        self._executor = None
        self._key = None

    def reset(self) -> None:
        """Stop the workers; the next call starts new ones, which copy the calling thread's
        float mode (e.g. flush-to-zero set since the old ones started)."""
        if self._executor is not None and self._key[1] == os.getpid():
            self._executor.shutdown(wait=True)
        self._executor, self._key = None, None

    def size(self) -> int:
        return torch.get_num_threads()

    def _get(self, n: int):
        key = (n, os.getpid())
        if self._key != key:
            self.reset()
            main_threads = torch.get_num_threads()
            barrier = threading.Barrier(n)

            def init(_):
                torch.get_num_threads()  # this thread's lazy thread-count set-up happens now ...
                torch.set_num_threads(1)  # ... so that this sticks: its ops run single-threaded
                barrier.wait()  # n tasks held together: n distinct threads

            executor = ThreadPoolExecutor(max_workers=n, thread_name_prefix="gaunt_md_conv")
            list(executor.map(init, range(n)))
            torch.set_num_threads(main_threads)  # the global default, for every other thread
            self._executor, self._key = executor, key
        return self._executor

    def map(self, fn, items):
        """[fn(item) for item in items], the items on different workers (len(items) <= size()),
        without autograd recording (grad mode is per thread)."""
        def run(item):
            with torch.no_grad():
                return fn(item)
        return list(self._get(self.size()).map(run, items))


workers = WorkerPool()


def edge_ranges(edges: int, block_size: int, like: Tensor, profiling: bool) -> List[Tuple[int, int]]:
    """Edge ranges (whole blocks) for the workers: one range off CPU, under the profiler (which
    records this thread), when torch.compile traces (its tensor subclasses and modes live in
    this thread) or when there are fewer blocks than threads."""
    blocks = -(-edges // block_size)
    tracing = type(like) is not torch.Tensor and not isinstance(like, torch.nn.Parameter)
    n = 1 if like.device.type != "cpu" or profiling or tracing else min(workers.size(), blocks)
    if n <= 1:
        return [(0, edges)]
    bounds = [min(edges, (blocks * k // n) * block_size) for k in range(n + 1)]
    return [(bounds[k], bounds[k + 1]) for k in range(n)]


def profiler_scope(enabled: bool, name: str):
    return record_function(name) if enabled else contextlib.nullcontext()


__all__ = ["WorkerPool", "edge_ranges", "profiler_scope", "workers"]
