"""Candidate frames for labelling, read from MD trajectories or from stability-protocol outputs.

A protocol output directory (the one holding summary.json) says which runs failed and when; the
frames of a failed run from its last `precursor_ps` picoseconds before the failure are marked as
precursors (the geometry that led into the failure), frames after the failure are never candidates
(they are the broken molecule, not a state worth learning).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import numpy as np
from ase import Atoms

from ..data.extxyz import read_extxyz_frames
from ..md.run import trajectory_path


@dataclass
class Candidate:
    atoms: Atoms
    source: str                         # file it came from
    index: int                          # frame index in that file
    time_ps: Optional[float] = None
    temperature_K: Optional[float] = None
    precursor: bool = False             # within precursor_ps before a run's failure
    ps_before_failure: Optional[float] = None
    scores: Dict[str, float] = field(default_factory=dict)


def _bare(atoms: Atoms) -> Atoms:
    """Species, positions, cell and pbc only: the model's predictions in the trajectory must not
    look like labels to the trainer."""
    return Atoms(atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)


def _protocol_runs(protocol_dir: Path) -> List[Tuple[Path, float, Optional[float]]]:
    """(trajectory, target temperature, time of failure or None) for every run of a protocol
    output whose trajectory was written."""
    summary = json.loads((protocol_dir / "summary.json").read_text())
    runs = []
    for temperature in summary.get("temperatures", []):
        kelvin = float(temperature["temperature_K"])
        for run in temperature.get("run_details", []):
            path = trajectory_path(protocol_dir, kelvin, run["run"])
            if not path.is_file():
                continue
            failed = not run.get("stable", True) and not run.get("interrupted", False)
            runs.append((path, kelvin, float(run["time_to_failure_ps"]) if failed else None))
    return runs


def _from_file(path: Path, failure_ps: Optional[float], precursor_ps: float, skip_ps: float) -> List[Candidate]:
    out = []
    for index, atoms in enumerate(read_extxyz_frames(path)):
        time = atoms.info.get("time_ps")
        time = None if time is None else float(time)
        if time is not None and time < skip_ps:
            continue
        if failure_ps is not None and time is not None and time > failure_ps:
            break
        before = None if failure_ps is None or time is None else failure_ps - time
        kelvin = atoms.info.get("temperature_K")
        out.append(Candidate(
            atoms=_bare(atoms), source=str(path), index=index, time_ps=time,
            temperature_K=None if kelvin is None else float(kelvin),
            precursor=before is not None and before <= precursor_ps + 1e-9, ps_before_failure=before,
        ))
    return out


def read_candidates(paths: Iterable[str], precursor_ps: float = 0.1, skip_ps: float = 0.0) -> List[Candidate]:
    """Every frame of the given trajectory files and protocol output directories (their
    trajectories/*.extxyz), frames before `skip_ps` (the thermalisation) left out."""
    if precursor_ps < 0 or skip_ps < 0:
        raise ValueError(f"precursor_ps and skip_ps must be >= 0, got {precursor_ps} and {skip_ps}")
    candidates: List[Candidate] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            if not (path / "summary.json").is_file():
                raise FileNotFoundError(f"{path}: a directory must be a stability-protocol output "
                                        "(with summary.json and trajectories/)")
            runs = _protocol_runs(path)
            if not runs:
                raise FileNotFoundError(f"{path}/trajectories: no trajectories of its runs (was traj_every 0?)")
            for file, kelvin, failure_ps in runs:
                found = _from_file(file, failure_ps, precursor_ps, skip_ps)
                for candidate in found:
                    candidate.temperature_K = kelvin
                candidates += found
        elif path.is_file():
            candidates += _from_file(path, None, precursor_ps, skip_ps)
        else:
            raise FileNotFoundError(f"{path}: no such file or directory")
    for candidate in candidates:
        if not np.all(np.isfinite(candidate.atoms.positions)):
            raise ValueError(f"{candidate.source} frame {candidate.index}: positions contain NaN or infinite values")
    return candidates
