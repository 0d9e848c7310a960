"""Optional timing counters of the bridge (benchmarks/lammps.py).

With GAUNT_MD_BRIDGE_TIMING=<prefix> set, `bridge.load` wraps its model in `TimedModel`:
every compute() call records its wall time inside Python, the time of the model call alone
and the graph size, and each rank writes them to <prefix>.<rank>.json when the pair style is
deleted (or at interpreter exit; a later model in the same process overwrites the file), with
"dgemm_": the library torch's dgemm_ calls resolve to (blas_blas_binding.resolved_library).
Unset, the bridge runs without any of this."""
from __future__ import annotations

import atexit
import json
import os
import time
from typing import List

import torch

from .blas_binding import resolved_library

TIMING_ENV = "GAUNT_MD_BRIDGE_TIMING"
_RANK_ENV = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "MV2_COMM_WORLD_RANK", "SLURM_PROCID")
COLUMNS = ["bridge_s", "model_s", "nodes", "nlocal", "edges"]


class RankTimings:
    """Per-call (bridge seconds, model seconds, nodes, owned atoms, edges) of one rank."""

    def __init__(self, prefix: str, nprocs: int):
        rank = next((os.environ[k] for k in _RANK_ENV if k in os.environ), "0")
        self.path = f"{prefix}.{rank}.json"
        self.meta = {"rank": int(rank), "pid": os.getpid(), "nprocs": nprocs,
                     "torch_threads": torch.get_num_threads(),
                     "cpu_affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None}
        self.calls: List[tuple] = []
        self.model_seconds = 0.0       # of the current call, set by _TimedModule
        self.written = False
        atexit.register(self.write)

    def write(self) -> None:
        if self.written:
            return
        self.written = True
        with open(self.path, "w") as f:
            json.dump({**self.meta, "dgemm_": resolved_library(), "columns": COLUMNS, "calls": self.calls}, f)


class _TimedModule:
    """The TorchScript module with every call through it (whatever the method) timed into
    `timings.model_seconds`, CUDA synchronised on both sides."""

    def __init__(self, module, device: torch.device, timings: RankTimings):
        self._module, self._device, self._timings = module, device, timings

    def _timed(self, fn, *args, **kwargs):
        if self._device.type == "cuda":
            torch.cuda.synchronize(self._device)
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        if self._device.type == "cuda":
            torch.cuda.synchronize(self._device)
        self._timings.model_seconds = time.perf_counter() - start
        return out

    def __call__(self, *args, **kwargs):
        return self._timed(self._module, *args, **kwargs)

    def __getattr__(self, name):
        value = getattr(self._module, name)
        if not callable(value):
            return value
        return lambda *args, **kwargs: self._timed(value, *args, **kwargs)


class TimedModel:
    """A bridge.LammpsModel whose compute() calls are timed; everything else is the model's."""

    def __init__(self, model, prefix: str, nprocs: int):
        self._model = model
        self.timings = RankTimings(prefix, nprocs)
        model.module = _TimedModule(model.module, model.device, self.timings)

    def __getattr__(self, name):
        return getattr(self._model, name)

    def compute(self, n: int, nlocal: int, nedges: int, *args) -> float:
        start = time.perf_counter()
        self.timings.model_seconds = 0.0
        energy = self._model.compute(n, nlocal, nedges, *args)
        self.timings.calls.append((time.perf_counter() - start, self.timings.model_seconds, n, nlocal, nedges))
        return energy

    def __del__(self):
        timings = self.__dict__.get("timings")
        if timings is not None:
            timings.write()
