"""One run of the protocol: its own seeds, Maxwell-Boltzmann velocities, every step checked
against the failure criteria until it fails or ends (used in-process by protocol.py and in
worker processes by parallel.py)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Tuple

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write
from ase.md import velocitydistribution
from ase.md.velocitydistribution import Stationary, ZeroRotation
from tqdm.auto import tqdm

from .config import ProtocolConfig
from .criteria import StabilityMonitor
from .engines import Engine, MDSettings, MDState
from .record import RunRecord


@dataclass
class Task:
    """Run number `run` at `temperature`, from `start` (named `label` in the records)."""

    temperature: float
    run: int
    label: str
    start: Atoms


def run_seeds(seed: int, temperature: float, run: int) -> Tuple[np.random.Generator, int]:
    """Independent streams per (seed, temperature, run): velocities, thermostat noise."""
    velocities, thermostat = np.random.SeedSequence([seed, int(round(temperature)), run]).spawn(2)
    return np.random.default_rng(velocities), int(thermostat.generate_state(1)[0])


def initial_velocities(atoms: Atoms, temperature: float, rng: np.random.Generator) -> Atoms:
    """Maxwell-Boltzmann momenta at `temperature`, then no centre-of-mass motion or rotation
    (both removed with the temperature preserved)."""
    atoms = atoms.copy()
    if hasattr(velocitydistribution, "thermalize_momenta"):          # newer ase
        velocitydistribution.thermalize_momenta(atoms, temperature_K=temperature, rng=rng)
    else:
        velocitydistribution.MaxwellBoltzmannDistribution(atoms, temperature_K=temperature, rng=rng)
    Stationary(atoms)           # no drift of the centre of mass
    ZeroRotation(atoms)         # no overall rotation
    return atoms


def _frame(atoms: Atoms, state: MDState, timestep_fs: float) -> Atoms:
    frame = Atoms(numbers=atoms.numbers, positions=state.positions)
    if state.velocities is not None:
        frame.set_velocities(state.velocities)
    frame.info.update(step=state.step, time_ps=state.step * timestep_fs / 1000.0, temperature_K=state.temperature)
    frame.calc = SinglePointCalculator(frame, energy=state.potential_energy, forces=state.forces)
    return frame


def run_one(engine: Engine, start: Atoms, label: str, config: ProtocolConfig, temperature: float,
            run: int, traj_path: Optional[Path] = None, progress: bool = True, position: Optional[int] = None,
            stop: Optional[Callable[[], bool]] = None) -> RunRecord:
    """One run; `stop()` is polled before every step: when it turns True the run ends there,
    marked interrupted (what it reached is kept)."""
    rng, thermostat_seed = run_seeds(config.seed, temperature, run)
    atoms = initial_velocities(start, temperature, rng)
    monitor = StabilityMonitor(start, config.criteria)
    conn = monitor.connectivity
    settings = MDSettings(
        model=str(config.model), temperature_K=temperature, timestep_fs=config.timestep_fs,
        ensemble=config.ensemble, friction_per_fs=config.friction_per_fs, seed=thermostat_seed,
        device=config.device, dtype=config.dtype, calculator=config.calculator,
    )
    record = RunRecord(
        temperature_K=temperature, run=run, seed=thermostat_seed, start=label, n_atoms=len(start),
        timestep_fs=config.timestep_fs, n_steps=config.n_steps, ensemble=config.ensemble,
        bond_types=conn.bond_types(), ref_lengths=conn.ref_lengths.copy(),
    )
    traj = None
    if traj_path is not None and config.traj_every > 0:
        traj_path.parent.mkdir(parents=True, exist_ok=True)
        traj = open(traj_path, "w")
        record.trajectory = str(traj_path)
    bar = tqdm(total=config.n_steps, desc=f"{temperature:g} K run {run + 1}/{config.runs}", unit="step",
               disable=not progress, leave=position is None, position=position, dynamic_ncols=True)
    t0 = time.perf_counter()
    try:
        with engine.start(atoms, settings) as sim:
            state = sim.state()
            for step in range(config.n_steps + 1):
                if step > 0 and stop is not None and stop():
                    record.interrupted = True
                    bar.set_postfix_str(f"interrupted at {(step - 1) * config.timestep_fs / 1000:.3f} ps")
                    break
                if step > 0:
                    state = sim.step()
                check = monitor.check(step, state.positions, state.potential_energy, state.forces, state.error)
                record.failure = check.failure
                finite = check.failure is None or check.failure.kind != "non_finite"
                record.add(step, state.temperature, state.potential_energy, state.total_energy,
                           check.max_bond_deviation, conn.bond_lengths(state.positions) if finite else None)
                last = check.failure is not None or step == config.n_steps
                if traj is not None and finite and (step % config.traj_every == 0 or last):
                    write(traj, _frame(atoms, state, config.timestep_fs), format="extxyz")
                if step > 0:
                    bar.update(1)
                if step % 10 == 0 or last:
                    bar.set_postfix_str(f"T={state.temperature:.0f}K dmax={check.max_bond_deviation:.2f}A", refresh=False)
                if check.failure is not None:
                    bar.set_postfix_str(f"FAILED at {step * config.timestep_fs / 1000:.3f} ps: {check.failure.kind}")
                    break
    finally:
        record.wall_s = time.perf_counter() - t0
        bar.close()
        if traj is not None:
            traj.close()
    if progress and position is not None:      # parallel bars vanish when done: say how it went
        outcome = ("stable" if record.stable else
                   f"interrupted at {record.time_to_failure_ps:.3f} ps" if record.interrupted else
                   f"FAILED at {record.time_to_failure_ps:.3f} ps ({record.failure.kind}: {record.failure.detail})")
        tqdm.write(f"{temperature:g} K run {run + 1}/{config.runs}: {outcome}")
    return record


def trajectory_path(out: Optional[Path], temperature: float, run: int) -> Optional[Path]:
    return None if out is None else Path(out) / "trajectories" / f"T{temperature:g}K_run{run}.extxyz"
