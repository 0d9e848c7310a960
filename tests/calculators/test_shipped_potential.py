"""The potentials shipped in potentials/: they load, know 3BPA's elements and conserve energy
in NVE near the shipped start geometry, which the 300 K potential holds at a minimum (it was
relaxed with that potential; the active-learned one has its minimum nearby)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ase import units
from ase.io import read
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary, ZeroRotation
from ase.md.verlet import VelocityVerlet

from gaunt_md import GauntCalculator

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "potentials" / "gaunt_mace_3bpa.pt"
ACTIVE_LEARNED = ROOT / "potentials" / "gaunt_mace_3bpa_al.pt"
START = ROOT / "examples" / "data" / "3bpa_start.xyz"


@pytest.fixture(scope="module", params=[MODEL, ACTIVE_LEARNED], ids=lambda p: p.stem)
def calc(request):
    return GauntCalculator(str(request.param))


def test_metadata(calc):
    assert calc.models[0].atomic_numbers == [1, 6, 7, 8]
    assert calc.r_max == pytest.approx(5.0)
    assert str(calc.dtype) == "torch.float64"


def test_start_geometry_is_relaxed():
    atoms = read(START)
    atoms.calc = GauntCalculator(str(MODEL))
    assert np.linalg.norm(atoms.get_forces(), axis=1).max() < 0.02   # relaxed to fmax 0.01 eV/A


def test_nve_near_the_minimum_conserves_energy(calc):
    """100 K velocities: the molecule stays in the basin this potential was trained on."""
    atoms = read(START)
    MaxwellBoltzmannDistribution(atoms, temperature_K=100, rng=np.random.default_rng(0))
    Stationary(atoms)
    ZeroRotation(atoms)
    atoms.calc = calc
    dynamics = VelocityVerlet(atoms, timestep=0.5 * units.fs)
    kinetic, total = [], []

    def record():
        kinetic.append(atoms.get_kinetic_energy())
        total.append(atoms.get_potential_energy() + kinetic[-1])

    dynamics.attach(record, interval=1)
    dynamics.run(100)
    kinetic, total = np.array(kinetic), np.array(total)
    assert np.ptp(kinetic) > 0.1 * kinetic.mean(), "kinetic and potential energy should exchange"
    # Verlet's bounded fluctuation of the total energy (~(omega dt)^2 of the kinetic energy): 1.4 %
    # for the issue-16 potential at 0.5 fs (the one before it: < 1 %); a force that is not the
    # energy's gradient gives a drift of the order of the kinetic energy instead
    assert np.ptp(total) < 2e-2 * kinetic.mean()
