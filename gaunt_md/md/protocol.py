"""The stability protocol: for each temperature, N independent runs (own seed, Maxwell-Boltzmann
velocities), each checked at every step against the failure criteria until it fails or ends."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, List, Optional, Tuple, Union

from ase import Atoms

from .config import ProtocolConfig
from .engines import Engine, get_engine
from .parallel import run_parallel
from .record import RunRecord
from .run import Task, run_one, trajectory_path


def protocol_tasks(starts: List[Tuple[str, Atoms]], config: ProtocolConfig) -> List[Task]:
    """Every (temperature, run); `starts[r]` is the starting geometry of run r."""
    if len(starts) != config.runs:
        raise ValueError(f"{len(starts)} starting geometries for {config.runs} runs")
    return [Task(float(t), run, label, start) for t in config.temperatures for run, (label, start) in enumerate(starts)]


def run_protocol(engine: Union[str, Engine], starts: List[Tuple[str, Atoms]], config: ProtocolConfig,
                 out: Optional[Path] = None, progress: bool = True, jobs: int = 1,
                 threads: int = 1, stop: Optional[Callable[[], bool]] = None) -> List[RunRecord]:
    """Every run at every temperature, in order; `jobs` > 1 runs them in that many processes
    (each run has its own random streams, so the results do not depend on `jobs`).  Once
    `stop()` is True, the runs in progress end as interrupted and no further run starts: the
    records of the runs that started are returned."""
    tasks = protocol_tasks(starts, config)
    if jobs > 1 and len(tasks) > 1:
        name = engine if isinstance(engine, str) else engine.name
        return run_parallel(name, tasks, config, out, progress, jobs, threads, stop)
    if isinstance(engine, str):
        engine = get_engine(engine)
    records = []
    for t in tasks:
        if stop is not None and stop():
            break
        records.append(run_one(engine, t.start, t.label, config, t.temperature, t.run,
                               trajectory_path(out, t.temperature, t.run), progress, stop=stop))
    return records
