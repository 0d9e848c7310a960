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
from typing import Dict, Iterable, List, Optional

import ase.io
import numpy as np
from ase import Atoms


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


def _frames(path: Path) -> List[Atoms]:
    try:
        return ase.io.read(str(path), ":")
    except Exception as err:  # ase raises many kinds for a corrupt file
        raise ValueError(f"{path}: cannot read frames ({type(err).__name__}: {err})") from None


def _failures(protocol_dir: Path) -> Dict[str, float]:
    """Trajectory file name -> time of failure (ps) for every failed run of a protocol output."""
    summary = json.loads((protocol_dir / "summary.json").read_text())
    failed = {}
    for temperature in summary.get("temperatures", []):
        kelvin = temperature["temperature_K"]
        for run in temperature.get("run_details", []):
            if not run.get("stable", True) and not run.get("interrupted", False):
                failed[f"T{kelvin:g}K_run{run['run']}.extxyz"] = float(run["time_to_failure_ps"])
    return failed


def _from_file(path: Path, failure_ps: Optional[float], precursor_ps: float, skip_ps: float) -> List[Candidate]:
    out = []
    for index, atoms in enumerate(_frames(path)):
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


def _target_temperature(path: Path) -> Optional[float]:
    name = path.name
    if name.startswith("T") and "K_run" in name:
        try:
            return float(name[1:name.index("K_run")])
        except ValueError:
            return None
    return None


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
            failures = _failures(path)
            files = sorted((path / "trajectories").glob("*.extxyz"))
            if not files:
                raise FileNotFoundError(f"{path}/trajectories: no *.extxyz trajectories (was traj_every 0?)")
            for file in files:
                found = _from_file(file, failures.get(file.name), precursor_ps, skip_ps)
                target = _target_temperature(file)
                for candidate in found:
                    candidate.temperature_K = target if target is not None else candidate.temperature_K
                candidates += found
        elif path.is_file():
            candidates += _from_file(path, None, precursor_ps, skip_ps)
        else:
            raise FileNotFoundError(f"{path}: no such file or directory")
    for candidate in candidates:
        if not np.all(np.isfinite(candidate.atoms.positions)):
            raise ValueError(f"{candidate.source} frame {candidate.index}: positions contain NaN or infinite values")
    return candidates
