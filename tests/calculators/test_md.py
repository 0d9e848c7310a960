"""A short NVE run with the tiny random model: velocity Verlet conserves the total energy,
which needs forces that are the exact gradient of a smooth energy."""
from __future__ import annotations

import numpy as np
from ase import units
from ase.build import molecule
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary, ZeroRotation
from ase.md.verlet import VelocityVerlet

# the tiny random model's energy is rough (forces of ~1 eV/A, scale 30): Verlet's energy error
# (~dt^2) needs a step well below the 0.5 fs of a trained potential
TIMESTEP_FS = 0.1
STEPS = 100


def test_nve_conserves_energy(calculators):
    atoms = molecule("CH4")
    atoms.rattle(0.03, seed=1)
    MaxwellBoltzmannDistribution(atoms, temperature_K=50, rng=np.random.default_rng(0))
    Stationary(atoms)
    ZeroRotation(atoms)
    atoms.calc = calculators("float64")
    dynamics = VelocityVerlet(atoms, timestep=TIMESTEP_FS * units.fs)
    kinetic, total = [], []

    def record():
        kinetic.append(atoms.get_kinetic_energy())
        total.append(atoms.get_potential_energy() + kinetic[-1])

    dynamics.attach(record, interval=1)
    dynamics.run(STEPS)
    total, kinetic = np.array(total), np.array(kinetic)
    time_ps = np.arange(len(total)) * TIMESTEP_FS * 1e-3
    drift = np.polyfit(time_ps, total, 1)[0] / len(atoms) * 1e3  # meV/atom/ps
    spread = np.ptp(total)
    print(f"\nNVE {STEPS} x {TIMESTEP_FS} fs: total energy drift {drift:+.3f} meV/atom/ps, "
          f"max-min {spread * 1e3:.4f} meV, mean kinetic {kinetic.mean() * 1e3:.2f} meV")
    assert np.ptp(kinetic) > 0.1 * kinetic.mean(), "the molecule should exchange kinetic and potential energy"
    assert spread < 2e-3 * kinetic.mean()
