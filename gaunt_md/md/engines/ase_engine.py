"""The 'ase' engine: GauntCalculator (or any ASE calculator, see external.py) with
ase.md.langevin.Langevin (nvt) or VelocityVerlet (nve)."""
from __future__ import annotations

from typing import Dict, Tuple

import numpy as np
from ase import Atoms, units
from ase.md.langevin import Langevin
from ase.md.verlet import VelocityVerlet

from .base import Engine, MDSettings, MDState, Simulation

ENGINE_ERRORS = (ValueError, RuntimeError, FloatingPointError, OverflowError)


def _nan_state(step: int, n: int, message: str) -> MDState:
    nan = np.full((n, 3), np.nan)
    return MDState(step, nan, None, float("nan"), float("nan"), float("nan"), nan, error=message)


class AseSimulation(Simulation):
    def __init__(self, atoms: Atoms, calculator, settings: MDSettings):
        self.atoms = atoms
        atoms.calc = calculator
        dt = settings.timestep_fs * units.fs
        if settings.ensemble == "nvt":
            rng = np.random.default_rng(settings.seed)
            self.dyn = Langevin(atoms, timestep=dt, temperature_K=settings.temperature_K,
                                friction=settings.friction_per_fs / units.fs, fixcm=False, rng=rng)
        else:
            self.dyn = VelocityVerlet(atoms, timestep=dt)
        self.n_steps = 0
        self.failed = None

    def _read(self) -> MDState:
        a = self.atoms
        try:
            energy = float(a.get_potential_energy())
            forces = a.get_forces().copy()
        except ENGINE_ERRORS as err:
            self.failed = f"{type(err).__name__}: {err}".splitlines()[0]
            return _nan_state(self.n_steps, len(a), self.failed)
        return MDState(self.n_steps, a.get_positions(), a.get_velocities(), energy,
                       float(a.get_kinetic_energy()), float(a.get_temperature()), forces)

    def state(self) -> MDState:
        if self.failed:
            return _nan_state(self.n_steps, len(self.atoms), self.failed)
        return self._read()

    def step(self) -> MDState:
        self.n_steps += 1
        if self.failed:
            return _nan_state(self.n_steps, len(self.atoms), self.failed)
        try:
            with np.errstate(all="ignore"):
                self.dyn.step()
        except ENGINE_ERRORS as err:
            self.failed = f"{type(err).__name__}: {err}".splitlines()[0]
            return _nan_state(self.n_steps, len(self.atoms), self.failed)
        return self._read()

    def close(self) -> None:
        self.atoms.calc = None


class AseEngine(Engine):
    """Keeps one calculator per (model, device, dtype): loading and the first call (which picks
    the fastest Gaunt-product route) happen once, not once per run."""

    name = "ase"

    def __init__(self):
        self._calculators: Dict[Tuple[str, str, str], object] = {}

    def calculator(self, settings: MDSettings):
        from .external import build_calculator

        key = (str(settings.model), settings.device, str(settings.dtype), str(settings.calculator))
        if key not in self._calculators:
            self._calculators[key] = build_calculator(settings.model, settings.calculator or None,
                                                      device=settings.device, dtype=settings.dtype)
        return self._calculators[key]

    def start(self, atoms: Atoms, settings: MDSettings) -> Simulation:
        calc = self.calculator(settings)
        calc.reset()
        return AseSimulation(atoms.copy(), calc, settings)
