"""neighbour_list against a brute-force search over periodic images."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from gaunt_md.data import neighbour_list


def brute_force_pairs(positions, cell, pbc, cutoff):
    """{(i, j, S1, S2, S3)} with |r_j - r_i + S @ cell| < cutoff, excluding i == j at S = 0.
    Image ranges are wide enough for atoms anywhere (outside the cell too)."""
    positions = np.asarray(positions, dtype=np.float64)
    ranges = []
    for d in range(3):
        if not pbc[d]:
            ranges.append([0])
            continue
        other = np.cross(cell[(d + 1) % 3], cell[(d + 2) % 3])
        height = abs(np.linalg.det(cell)) / np.linalg.norm(other)
        fractional = positions @ np.linalg.inv(cell)[:, d]
        reach = int(np.ceil(cutoff / height + np.ptp(fractional))) + 1
        ranges.append(range(-reach, reach + 1))
    pairs = set()
    for S in itertools.product(*ranges):
        vectors = positions[None, :, :] - positions[:, None, :] + np.array(S, dtype=float) @ cell
        for i, j in zip(*np.nonzero(np.linalg.norm(vectors, axis=-1) < cutoff)):
            if i != j or any(S):
                pairs.add((int(i), int(j)) + tuple(S))
    return pairs


def computed_pairs(positions, cell, pbc, cutoff):
    edge_index, shifts = neighbour_list(positions, cell, pbc, cutoff)
    assert edge_index.shape == (2, shifts.shape[0]) and edge_index.dtype == np.int64
    vectors = positions[edge_index[1]] - positions[edge_index[0]] + shifts
    lengths = np.linalg.norm(vectors, axis=-1)
    assert np.all(lengths < cutoff)
    assert np.all(lengths > 0)
    # shifts are integer combinations of the cell vectors (zero along open directions)
    S = np.zeros_like(shifts)
    periodic = np.asarray(pbc, dtype=bool)
    if periodic.any():
        S[:, periodic] = np.linalg.lstsq(cell[periodic].T, shifts.T, rcond=None)[0].T
    np.testing.assert_allclose(S @ cell, shifts, atol=1e-9)
    np.testing.assert_allclose(S, np.round(S), atol=1e-9)
    return {(int(i), int(j)) + tuple(int(s) for s in np.round(row)) for i, j, row in zip(*edge_index, S)}


SKEWED_CELL = np.array([[2.6, 0.3, 0.1], [0.2, 2.9, 0.0], [0.4, -0.3, 2.2]])


@pytest.mark.parametrize("pbc", [(True, True, True), (True, True, False), (False, True, False)])
def test_cell_smaller_than_cutoff_matches_brute_force(pbc):
    rng = np.random.default_rng(1)
    positions = rng.uniform(0, 1, size=(6, 3)) @ SKEWED_CELL
    cutoff = 4.0  # more than one image in every periodic direction
    reference = brute_force_pairs(positions, SKEWED_CELL, pbc, cutoff)
    assert len(reference) > 50
    assert computed_pairs(positions, SKEWED_CELL, pbc, cutoff) == reference


def test_atoms_outside_the_cell_are_not_wrapped():
    rng = np.random.default_rng(2)
    inside = rng.uniform(0, 1, size=(5, 3)) @ SKEWED_CELL
    outside = inside + np.array([7, -3, 12]) @ SKEWED_CELL + rng.normal(scale=0.5, size=(5, 3))
    pbc = (True, True, True)
    reference = brute_force_pairs(outside, SKEWED_CELL, pbc, 3.5)
    assert computed_pairs(outside, SKEWED_CELL, pbc, 3.5) == reference


def test_non_periodic_molecule_with_any_cell():
    rng = np.random.default_rng(3)
    positions = rng.uniform(-3, 3, size=(12, 3)) + 40.0  # far from any cell origin
    pbc = (False, False, False)
    reference = brute_force_pairs(positions, np.eye(3), pbc, 3.0)
    for cell in (np.zeros((3, 3)), np.eye(3) * 50.0, SKEWED_CELL):
        edge_index, shifts = neighbour_list(positions, cell, pbc, 3.0)
        assert not shifts.any()
        assert computed_pairs(positions, cell, pbc, 3.0) == reference


def test_mixed_pbc_with_zero_vector_along_the_open_direction():
    rng = np.random.default_rng(4)
    cell = np.array([[3.0, 0.0, 0.0], [1.0, 2.5, 0.0], [0.0, 0.0, 0.0]])
    positions = rng.uniform(0, 3, size=(6, 3))
    pbc = (True, True, False)
    stand_in = cell.copy()
    stand_in[2, 2] = 1.0  # never used along z: only to let the reference invert the cell
    assert computed_pairs(positions, cell, pbc, 3.2) == brute_force_pairs(positions, stand_in, pbc, 3.2)


def test_single_atom_in_a_small_cell_sees_only_its_images():
    edge_index, shifts = neighbour_list(np.zeros((1, 3)), np.eye(3) * 1.5, (True, True, True), 2.2)
    assert np.all(edge_index == 0)
    assert np.all(np.linalg.norm(shifts, axis=1) > 0)
    # images at distance 1.5 (6 of them) and 1.5 * sqrt(2) (12)
    assert edge_index.shape[1] == 18


def test_full_list_is_symmetric():
    rng = np.random.default_rng(5)
    positions = rng.uniform(0, 1, size=(4, 3)) @ SKEWED_CELL
    pairs = computed_pairs(positions, SKEWED_CELL, (True, True, True), 3.0)
    assert {(j, i, -a, -b, -c) for i, j, a, b, c in pairs} == pairs


def test_nan_positions_are_rejected():
    positions = np.zeros((3, 3))
    positions[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite.*atoms \\[1\\]"):
        neighbour_list(positions, np.eye(3) * 10, (False, False, False), 3.0)


def test_degenerate_periodic_cell_is_rejected():
    positions = np.zeros((2, 3))
    positions[1] = 1.0
    with pytest.raises(ValueError, match="periodic directions"):
        neighbour_list(positions, np.diag([3.0, 0.0, 3.0]), (True, True, True), 3.0)


def test_empty_structure():
    edge_index, shifts = neighbour_list(np.zeros((0, 3)), np.eye(3), (True, True, True), 3.0)
    assert edge_index.shape == (2, 0) and shifts.shape == (0, 3)
