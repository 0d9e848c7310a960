"""neighbour_list against ASE's own neighbour search (an independent implementation), on
random structures: periodic cells smaller than the cutoff, atoms far outside the cell, mixed
boundaries and open molecules.  Also the graph built from it."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.neighborlist import primitive_neighbor_list

from gaunt_md.data import SpeciesTable, graph_from_atoms, neighbour_list


def edge_set(i, j, shifts, decimals=6):
    """{(i, j, shift rounded)}: an edge list as a set, independent of order."""
    rounded = np.round(np.asarray(shifts, dtype=np.float64), decimals) + 0.0  # no -0.0
    return {(int(a), int(b)) + tuple(row) for a, b, row in zip(i, j, rounded.tolist())}


def ase_edges(positions, cell, pbc, cutoff):
    i, j, S = primitive_neighbor_list("ijS", pbc, cell, positions, cutoff, self_interaction=False)
    return edge_set(i, j, S @ cell)


def structure(seed, pbc, cell_scale, spread):
    """8 random atoms in a skewed cell of size about cell_scale, positions spread over
    `spread` cells (values > 1 put atoms outside the cell)."""
    rng = np.random.default_rng(seed)
    cell = cell_scale * (np.eye(3) + 0.2 * rng.uniform(-1, 1, size=(3, 3)))
    fractional = rng.uniform(-spread / 2, 0.5 + spread / 2, size=(8, 3))
    return fractional @ cell, cell, pbc


CASES = {
    "periodic cell smaller than cutoff": dict(pbc=(True, True, True), cell_scale=2.0, spread=1.0),
    "periodic, atoms outside the cell": dict(pbc=(True, True, True), cell_scale=3.5, spread=4.0),
    "slab (True, True, False)": dict(pbc=(True, True, False), cell_scale=2.5, spread=2.0),
    "wire (False, False, True)": dict(pbc=(False, False, True), cell_scale=2.2, spread=1.5),
    "open molecule": dict(pbc=(False, False, False), cell_scale=3.0, spread=1.0),
}


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_ase(case, seed):
    positions, cell, pbc = structure(seed, **CASES[case])
    cutoff = 3.3
    edge_index, shifts = neighbour_list(positions, cell, pbc, cutoff)
    ours = edge_set(edge_index[0], edge_index[1], shifts)
    assert len(ours) == edge_index.shape[1], "duplicate edges"
    assert ours == ase_edges(positions, cell, pbc, cutoff)
    lengths = np.linalg.norm(positions[edge_index[1]] - positions[edge_index[0]] + shifts, axis=1)
    assert np.all((lengths > 0) & (lengths < cutoff))


def test_slab_with_zero_vector_along_the_open_direction():
    """pbc (True, True, False) with c = 0: same edges as with any c (c is never used)."""
    positions, cell, pbc = structure(3, pbc=(True, True, False), cell_scale=2.4, spread=1.0)
    flat = cell.copy()
    flat[2] = 0.0
    edge_index, shifts = neighbour_list(positions, flat, pbc, 3.0)
    assert edge_set(edge_index[0], edge_index[1], shifts) == ase_edges(positions, cell, pbc, 3.0)


def test_graph_edges_from_atoms_outside_the_cell():
    """graph_from_atoms keeps the positions as given (no wrapping) and its edge vectors are
    those of ASE's search."""
    positions, cell, pbc = structure(4, pbc=(True, True, True), cell_scale=3.0, spread=3.0)
    atoms = Atoms("CHNOCHNO", positions=positions, cell=cell, pbc=pbc)
    graph = graph_from_atoms(atoms, SpeciesTable([1, 6, 7, 8]), 3.0)
    np.testing.assert_array_equal(graph.positions.numpy(), positions)
    assert graph.species.tolist() == [1, 0, 2, 3, 1, 0, 2, 3]
    ours = edge_set(graph.edge_index[0].numpy(), graph.edge_index[1].numpy(), graph.shifts.numpy())
    assert ours == ase_edges(positions, cell, pbc, 3.0)
    assert graph.shifts.dtype == torch.float64


def test_nan_position_is_rejected():
    positions, cell, pbc = structure(5, pbc=(True, True, True), cell_scale=3.0, spread=1.0)
    positions[6, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        neighbour_list(positions, cell, pbc, 3.0)


def test_unknown_element_names_it_and_the_known_ones():
    atoms = Atoms("CHSi", positions=[[0, 0, 0], [1, 0, 0], [0, 1.5, 0]])
    with pytest.raises(ValueError, match=r"Si.*it knows H, C, N, O"):
        graph_from_atoms(atoms, SpeciesTable([1, 6, 7, 8]), 3.0)
