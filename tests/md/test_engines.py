"""The engines behind the protocol: the same NVE trajectory from ASE and from LAMMPS."""
from __future__ import annotations

import numpy as np
import pytest

from gaunt_md.md import EngineUnavailable, MDSettings, get_engine
from gaunt_md.md.run import initial_velocities, run_seeds


def trajectory(engine, atoms, settings, steps):
    with engine.start(atoms, settings) as sim:
        states = [sim.state()] + [sim.step() for _ in range(steps)]
    return states


def test_ase_and_lammps_nve_agree(tiny_model_path, start_3bpa):
    try:
        lammps = get_engine("lammps")
    except EngineUnavailable as err:
        pytest.skip(str(err))
    rng, _ = run_seeds(0, 300.0, 0)
    atoms = initial_velocities(start_3bpa, 300.0, rng)
    settings = MDSettings(model=str(tiny_model_path), temperature_K=300.0, ensemble="nve", device="cpu")
    ase_states = trajectory(get_engine("ase"), atoms, settings, 3)
    lmp_states = trajectory(lammps, atoms, settings, 3)
    for a, b in zip(ase_states, lmp_states):
        assert a.error is None and b.error is None
        assert np.abs(a.positions - b.positions).max() < 1e-8
        assert np.abs(a.velocities - b.velocities).max() < 1e-8
        assert np.abs(a.forces - b.forces).max() < 1e-6
        assert a.potential_energy == pytest.approx(b.potential_energy, abs=1e-6)
        assert a.temperature == pytest.approx(b.temperature, rel=1e-8)


def test_ase_engine_reports_nan_positions_as_an_error(tiny_model_path, start_3bpa):
    settings = MDSettings(model=str(tiny_model_path), temperature_K=300.0, ensemble="nve", device="cpu")
    with get_engine("ase").start(start_3bpa, settings) as sim:
        sim.atoms.positions[3] = np.nan
        state = sim.step()
        assert state.error is not None and np.isnan(state.potential_energy)
        assert sim.step().error == state.error            # stays failed


def test_settings_are_checked():
    with pytest.raises(ValueError, match="ensemble"):
        MDSettings(model="m.pt", temperature_K=300.0, ensemble="npt")
    with pytest.raises(ValueError, match="unknown engine"):
        get_engine("gromacs")
