"""Independent runs in parallel processes (one model per process, `threads` torch threads each).

A 27-atom molecule is far too small to keep two cores busy within one model call, so two runs
side by side use two cores better than one run with two threads."""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import List, Optional

from .protocol import ProtocolConfig, Task, run_one, trajectory_path
from .record import RunRecord

_worker = {"engine": None, "name": None, "slot": 0}


def _init(engine_name: str, threads: int, counter) -> None:
    import torch

    torch.set_num_threads(max(1, threads))
    with counter.get_lock():
        _worker["slot"] = counter.value           # the progress-bar line of this process
        counter.value += 1
    _worker["name"] = engine_name


def _run(task: Task, config: ProtocolConfig, out: Optional[Path], progress: bool) -> RunRecord:
    if _worker["engine"] is None:
        from .engines import get_engine

        _worker["engine"] = get_engine(_worker["name"])
    return run_one(_worker["engine"], task.start, task.label, config, task.temperature, task.run,
                   trajectory_path(out, task.temperature, task.run), progress, position=_worker["slot"])


def _start_method() -> str:
    """fork (fast: torch is already imported) unless CUDA is initialised here, which a forked
    child cannot use; spawn then, and where fork does not exist."""
    import torch

    if "fork" in multiprocessing.get_all_start_methods() and not torch.cuda.is_initialized():
        return "fork"
    return "spawn"


def run_parallel(engine_name: str, tasks: List[Task], config: ProtocolConfig, out: Optional[Path],
                 progress: bool, jobs: int, threads: int = 1) -> List[RunRecord]:
    context = multiprocessing.get_context(_start_method())
    counter = context.Value("i", 0)
    workers = min(jobs, len(tasks))
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init,
                             initargs=(engine_name, threads, counter)) as pool:
        futures = [pool.submit(_run, task, config, out, progress) for task in tasks]
        records = [f.result() for f in futures]
    if progress:
        print("\n" * (workers - 1), end="")           # below the bars' lines
    return records
