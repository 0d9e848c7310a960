"""Independent runs in parallel processes (one model per process, `threads` torch threads each).

A 27-atom molecule is far too small to keep two cores busy within one model call, so two runs
side by side use two cores better than one run with two threads.

Stopping: the workers ignore SIGINT (a Ctrl-C in the terminal reaches the whole process group);
the main process turns a stop request into a shared event, which every worker polls before each
step, and cancels the runs not yet started."""
from __future__ import annotations

import multiprocessing
import signal
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Callable, List, Optional

from .config import ProtocolConfig
from .record import RunRecord
from .run import Task, run_one, trajectory_path

_worker = {"engine": None, "name": None, "slot": 0, "stop": None}
POLL_S = 0.2          # how often the main process looks at its stop flag while runs go on


def _init(engine_name: str, threads: int, counter, stop_event) -> None:
    import torch

    signal.signal(signal.SIGINT, signal.SIG_IGN)     # the main process decides; see stop_event
    _worker["stop"] = stop_event.is_set
    torch.set_num_threads(max(1, threads))
    with counter.get_lock():
        _worker["slot"] = counter.value           # the progress-bar line of this process
        counter.value += 1
    _worker["name"] = engine_name


def _run(task: Task, config: ProtocolConfig, out: Optional[Path], progress: bool) -> Optional[RunRecord]:
    if _worker["stop"]():
        return None                 # queued before the stop, started after it: not run
    if _worker["engine"] is None:
        from .engines import get_engine

        _worker["engine"] = get_engine(_worker["name"])
    return run_one(_worker["engine"], task.start, task.label, config, task.temperature, task.run,
                   trajectory_path(out, task.temperature, task.run), progress, position=_worker["slot"],
                   stop=_worker["stop"])


def _start_method() -> str:
    """fork (fast: torch is already imported) unless CUDA is initialised here, which a forked
    child cannot use; spawn then, and where fork does not exist."""
    import torch

    if "fork" in multiprocessing.get_all_start_methods() and not torch.cuda.is_initialized():
        return "fork"
    return "spawn"


def run_parallel(engine_name: str, tasks: List[Task], config: ProtocolConfig, out: Optional[Path],
                 progress: bool, jobs: int, threads: int = 1,
                 stop: Optional[Callable[[], bool]] = None) -> List[RunRecord]:
    """The records of the runs that started, in task order (all of them unless `stop()` turned
    True: then queued runs are cancelled and running ones end as interrupted)."""
    context = multiprocessing.get_context(_start_method())
    counter = context.Value("i", 0)
    stop_event = context.Event()
    workers = min(jobs, len(tasks))
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init,
                             initargs=(engine_name, threads, counter, stop_event)) as pool:
        futures = [pool.submit(_run, task, config, out, progress) for task in tasks]
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
            if pending and stop is not None and stop():
                stop_event.set()
                for future in futures:
                    future.cancel()          # only those not started yet
                wait(futures)                # the running ones stop at their next step
                break
        records = [r for r in (f.result() for f in futures if not f.cancelled()) if r is not None]
    if progress:
        print("\n" * (workers - 1), end="")           # below the bars' lines
    return records
