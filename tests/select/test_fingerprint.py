import numpy as np
import pytest
from ase import Atoms
from ase.build import molecule
from scipy.spatial.transform import Rotation

from gaunt_md.select import PairDistances


def test_invariant_to_rotation_translation_and_atom_order():
    mol = molecule("CH3CH2OH")
    moved = mol.copy()
    moved.positions = Rotation.random(random_state=3).apply(mol.positions) + [1.0, -2.0, 0.5]
    order = np.random.default_rng(0).permutation(len(mol))
    shuffled = moved[order]
    assert PairDistances(mol).distance(PairDistances(shuffled)) < 1e-12


def test_distortion_is_measured_in_angstrom():
    mol = molecule("CH3CH2OH")
    bent = mol.copy()
    bent.positions[0] += [0.3, 0.0, 0.0]
    d = PairDistances(mol).distance(PairDistances(bent))
    assert 0.01 < d < 0.3


def test_other_composition_is_infinitely_far():
    assert PairDistances(molecule("H2O")).distance(PairDistances(molecule("NH3"))) == float("inf")


def test_periodic_frames_use_the_minimum_image():
    a = Atoms("H2", positions=[[0.1, 0, 0], [0.9, 0, 0]], cell=[10.0, 10.0, 10.0], pbc=True)
    b = Atoms("H2", positions=[[0.1, 0, 0], [9.9, 0, 0]], cell=[10.0, 10.0, 10.0], pbc=True)
    assert PairDistances(a).vector == pytest.approx([0.8])
    assert PairDistances(b).vector == pytest.approx([0.2])
