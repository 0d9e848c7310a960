"""What one run leaves behind: down-sampled time series, bond-length samples, running statistics
over every step, and the failure (if any)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from .criteria import Failure

MAX_SERIES_POINTS = 5000     # time-series points kept per run (every step of a short run)
MAX_BOND_SAMPLES = 400       # configurations whose bond lengths are kept per run


class LinearFit:
    """Running least-squares slope of y(t), exact over every point added."""

    def __init__(self):
        self.n = 0
        self.st = self.sy = self.stt = self.sty = 0.0
        self.y0: Optional[float] = None

    def add(self, t: float, y: float) -> None:
        if self.y0 is None:
            self.y0 = y          # offset keeps the sums well conditioned (E ~ -1e4 eV)
        y -= self.y0
        self.n += 1
        self.st += t
        self.sy += y
        self.stt += t * t
        self.sty += t * y

    def slope(self) -> Optional[float]:
        if self.n < 3:
            return None
        denominator = self.n * self.stt - self.st ** 2
        if denominator <= 0:
            return None
        return (self.n * self.sty - self.st * self.sy) / denominator


@dataclass
class RunRecord:
    temperature_K: float
    run: int
    seed: int
    start: str                       # where the starting geometry came from
    n_atoms: int
    timestep_fs: float
    n_steps: int                     # planned
    ensemble: str
    bond_types: List[str]
    ref_lengths: np.ndarray
    series_every: int = 1
    bond_every: int = 1
    time_ps: List[float] = field(default_factory=list)
    temperature: List[float] = field(default_factory=list)
    potential_energy: List[float] = field(default_factory=list)
    total_energy: List[float] = field(default_factory=list)
    max_bond_deviation: List[float] = field(default_factory=list)
    bond_samples: List[np.ndarray] = field(default_factory=list)
    failure: Optional[Failure] = None
    interrupted: bool = False        # stopped by Ctrl-C before its end: neither stable nor failed
    steps_done: int = 0
    wall_s: float = 0.0
    trajectory: Optional[str] = None
    # running statistics over every finite step
    _n: int = 0
    _sum_t: float = 0.0
    _sum_dev: float = 0.0
    _max_dev: float = 0.0
    _drift: LinearFit = field(default_factory=LinearFit)

    def __post_init__(self):
        self.series_every = max(1, math.ceil((self.n_steps + 1) / MAX_SERIES_POINTS))
        self.bond_every = max(1, math.ceil((self.n_steps + 1) / MAX_BOND_SAMPLES))

    def add(self, step: int, temperature: float, potential: float, total: float, max_dev: float,
            bond_lengths: Optional[np.ndarray]) -> None:
        t_ps = step * self.timestep_fs / 1000.0
        self.steps_done = step
        if step % self.series_every == 0 or self.failure is not None:
            self.time_ps.append(t_ps)
            self.temperature.append(temperature)
            self.potential_energy.append(potential)
            self.total_energy.append(total)
            self.max_bond_deviation.append(max_dev)
        if bond_lengths is not None and step % self.bond_every == 0:
            self.bond_samples.append(np.asarray(bond_lengths, dtype=float))
        if all(map(math.isfinite, (temperature, potential, total, max_dev))):
            self._n += 1
            self._sum_t += temperature
            self._sum_dev += max_dev
            self._max_dev = max(self._max_dev, max_dev)
            self._drift.add(t_ps, total)

    # ---- derived numbers -------------------------------------------------------------------
    @property
    def stable(self) -> bool:
        """Ran its full length without failing (an interrupted run is not known to be stable)."""
        return self.failure is None and not self.interrupted

    @property
    def length_ps(self) -> float:
        return self.n_steps * self.timestep_fs / 1000.0

    @property
    def time_to_failure_ps(self) -> float:
        """Time of the failing step; a stable run counts with its full length, an interrupted one
        with the time it reached (lower bounds)."""
        if self.failure is not None:
            return self.failure.step * self.timestep_fs / 1000.0
        if self.interrupted:
            return self.steps_done * self.timestep_fs / 1000.0
        return self.length_ps

    @property
    def temperature_mean_K(self) -> Optional[float]:
        return self._sum_t / self._n if self._n else None

    @property
    def bond_deviation_mean_A(self) -> Optional[float]:
        return self._sum_dev / self._n if self._n else None

    @property
    def bond_deviation_max_A(self) -> Optional[float]:
        return self._max_dev if self._n else None

    @property
    def energy_drift_mev_atom_ps(self) -> Optional[float]:
        """Slope of the total energy (NVE only; Langevin does not conserve it)."""
        if self.ensemble != "nve":
            return None
        slope = self._drift.slope()          # eV / ps
        return None if slope is None else 1000.0 * slope / self.n_atoms

    @property
    def ms_per_step(self) -> Optional[float]:
        return 1000.0 * self.wall_s / self.steps_done if self.steps_done else None

    def to_dict(self) -> dict:
        return {
            "run": self.run,
            "seed": self.seed,
            "start": self.start,
            "stable": self.stable,
            "interrupted": self.interrupted,
            "steps": self.steps_done,
            "time_to_failure_ps": self.time_to_failure_ps,
            "failure": None if self.failure is None else self.failure.to_dict(self.timestep_fs),
            "temperature_mean_K": self.temperature_mean_K,
            "bond_deviation_mean_A": self.bond_deviation_mean_A,
            "bond_deviation_max_A": self.bond_deviation_max_A,
            "energy_drift_mev_atom_ps": self.energy_drift_mev_atom_ps,
            "wall_s": self.wall_s,
            "ms_per_step": self.ms_per_step,
            "trajectory": self.trajectory,
        }
