"""The potential shipped in potentials/: it loads, knows 3BPA's elements and holds the
shipped start geometry at a minimum.  (No NVE test here: from seed-0 300 K velocities the
molecule falls into a hole of this potential within 30 fs; see potentials/gaunt_mace_3bpa.md.)"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ase.io import read

from gaunt_md import GauntCalculator

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "potentials" / "gaunt_mace_3bpa.pt"
START = ROOT / "examples" / "data" / "3bpa_start.xyz"


@pytest.fixture(scope="module")
def calc():
    return GauntCalculator(str(MODEL))


def test_metadata(calc):
    assert calc.models[0].atomic_numbers == [1, 6, 7, 8]
    assert calc.r_max == pytest.approx(5.0)
    assert str(calc.dtype) == "torch.float64"


def test_start_geometry_is_relaxed(calc):
    atoms = read(START)
    atoms.calc = calc
    assert np.linalg.norm(atoms.get_forces(), axis=1).max() < 0.02   # relaxed to fmax 0.01 eV/A
