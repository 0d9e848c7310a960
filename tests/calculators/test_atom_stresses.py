"""Issue 20, point 9: the committee variance of the stress, and per-atom stresses
(`get_stresses`) that sum to the stress; a clear error without a periodic cell."""
from __future__ import annotations

import numpy as np
import pytest
from ase.calculators.calculator import PropertyNotImplementedError

from fixtures import assert_close, random_cluster, random_periodic, tolerance


def test_per_atom_stresses_sum_to_the_stress(calculators, dtype):
    atoms = random_periodic(seed=21, n=6)
    atoms.calc = calculators(dtype)
    stresses = atoms.get_stresses()
    assert stresses.shape == (6, 6)
    stress = atoms.get_stress()
    assert np.abs(stress).max() > 1e-3, "a stress of zero would prove nothing"
    assert_close(stresses.sum(axis=0), stress, 10 * tolerance(dtype, "stress"), "sum of per-atom stresses")
    # atoms differ: the split is per atom, not the stress over N
    assert np.abs(stresses - stress / len(atoms)).max() > 1e-4


def test_stresses_need_a_periodic_cell(calculators):
    atoms = random_cluster(seed=4, n=3)
    atoms.calc = calculators("float64")
    with pytest.raises(PropertyNotImplementedError, match="periodic cell"):
        atoms.get_stresses()


def test_committee_stress_variance(calculators, dtype):
    atoms = random_periodic(seed=22, n=5)
    members = []
    for seed in (0, 1):
        atoms.calc = calculators(dtype, (seed,))
        members.append(atoms.get_stress())
    committee = calculators(dtype, (0, 1))
    atoms.calc = committee
    assert_close(atoms.get_stress(), np.mean(members, axis=0), tolerance(dtype, "stress"), "committee stress")
    variance = committee.get_property("stress_var", atoms)
    expected = np.var(members, axis=0)
    assert variance.shape == (6,) and expected.max() > 1e-8, "members should differ"
    assert_close(variance, expected, 10 * tolerance(dtype, "forces"), "stress_var")
