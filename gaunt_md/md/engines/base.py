"""The engine interface: anything that can integrate a molecule with a model file.

A run of the protocol (gaunt_md.md.run) gives an engine the starting atoms (positions and velocities
already set) and an `MDSettings`; the engine returns a `Simulation` that advances one step at a
time and reports an `MDState`.  The protocol checks every state against the failure criteria, so
an engine knows nothing about them.  Engines: 'ase' (GauntCalculator + ASE integrators) and
'lammps' (LAMMPS with pair_style gaunt of gaunt_md.lammps); a new one subclasses Engine and
Simulation and is added to engines.get_engine."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Optional

import numpy as np
from ase import Atoms

ENSEMBLES = ("nvt", "nve")


class EngineUnavailable(NotImplementedError):
    """The requested engine cannot run here (not implemented or not installed)."""


@dataclass(frozen=True)
class MDSettings:
    model: str                      # exported model file
    temperature_K: float            # thermostat target (nvt); initial velocities are drawn by the protocol
    timestep_fs: float = 0.5
    ensemble: str = "nvt"           # 'nvt' (Langevin) or 'nve' (velocity Verlet)
    friction_per_fs: float = 0.01   # Langevin friction
    seed: int = 0                   # thermostat noise
    device: str = "cpu"
    dtype: Optional[str] = None     # None: the model's own
    calculator: Optional[str] = None  # factory of another ASE calculator (see external.py); None: GauntCalculator

    def __post_init__(self):
        if self.ensemble not in ENSEMBLES:
            raise ValueError(f"ensemble must be one of {ENSEMBLES}, got {self.ensemble!r}")
        if self.timestep_fs <= 0:
            raise ValueError("timestep_fs must be positive")


@dataclass
class MDState:
    step: int
    positions: np.ndarray           # [N, 3] Angstrom
    velocities: Optional[np.ndarray]  # [N, 3] ASE units (Angstrom per ASE time unit); None if unknown
    potential_energy: float         # eV
    kinetic_energy: float           # eV
    temperature: float              # K, instantaneous
    forces: Optional[np.ndarray]    # [N, 3] eV/Angstrom
    error: Optional[str] = None     # the engine could not produce this step (counts as non-finite)

    @property
    def total_energy(self) -> float:
        return self.potential_energy + self.kinetic_energy


class Simulation(ABC):
    """One MD run in progress."""

    @abstractmethod
    def state(self) -> MDState:
        """The current state (step 0: the starting configuration)."""

    @abstractmethod
    def step(self) -> MDState:
        """Advance one time step and return the new state.  An engine failure (e.g. NaN
        positions) is reported through `MDState.error`, not raised."""

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Engine(ABC):
    name: str = "?"

    @abstractmethod
    def start(self, atoms: Atoms, settings: MDSettings) -> Simulation:
        """A simulation starting from `atoms` (positions and velocities as given)."""

    def describe(self) -> str:
        return self.name
