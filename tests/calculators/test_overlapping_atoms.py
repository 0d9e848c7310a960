"""Two atoms on top of each other: a clear error naming them, never a silent NaN; and a
result that is not finite is never returned, whatever caused it."""
from __future__ import annotations

import numpy as np
import pytest

from gaunt_md.deploy import guards

from fixtures import random_cluster, random_periodic


def test_overlapping_atoms_are_named(calculators):
    atoms = random_cluster(seed=0, n=6)
    atoms.positions[4] = atoms.positions[1]
    atoms.calc = calculators()
    symbols = atoms.get_chemical_symbols()
    with pytest.raises(ValueError, match=rf"overlapping atoms.*atoms 1 \({symbols[1]}\) and 4 \({symbols[4]}\) 0 A apart"):
        atoms.get_potential_energy()
    with pytest.raises(ValueError, match="overlapping atoms"):
        atoms.get_forces()


def test_overlap_with_a_periodic_image(calculators):
    atoms = random_periodic(seed=1, n=4)
    atoms.positions[3] = atoms.positions[0] + atoms.cell[1]
    atoms.calc = calculators()
    with pytest.raises(ValueError, match=r"atoms 0 \(.\) and 3 \(.\)"):
        atoms.get_potential_energy()


def test_nearly_overlapping_atoms_still_work(calculators):
    atoms = random_cluster(seed=0, n=6)
    atoms.positions[4] = atoms.positions[1] + [0.0, 0.0, 10 * guards.OVERLAP_DISTANCE]
    atoms.calc = calculators()
    assert np.isfinite(atoms.get_potential_energy()) and np.isfinite(atoms.get_forces()).all()


def test_non_finite_results_are_never_returned(calculators, monkeypatch):
    """With the overlap check off, the model itself gives NaN there: the calculator must not
    pass it on."""
    monkeypatch.setattr(guards, "OVERLAP_DISTANCE", 0.0)
    atoms = random_cluster(seed=0, n=6)
    atoms.positions[4] = atoms.positions[1]
    atoms.calc = calculators()
    with pytest.raises(FloatingPointError, match="non-finite energy"):
        atoms.get_potential_energy()
    assert "energy" not in atoms.calc.results
