"""SpeciesTable, graph_from_atoms, collate and GraphDataLoader."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import bulk, molecule
from ase.calculators.singlepoint import SinglePointCalculator

from gaunt_md.data import GraphDataLoader, ModelInputs, SpeciesTable, collate, graph_from_atoms, single_graph_inputs

TABLE = SpeciesTable([1, 6, 8])


def test_species_table_maps_and_names():
    assert TABLE.symbols == ["H", "C", "O"] and TABLE.atomic_numbers == [1, 6, 8] and len(TABLE) == 3
    np.testing.assert_array_equal(TABLE.index([8, 1, 6, 6]), [2, 0, 1, 1])


@pytest.mark.parametrize("numbers", [[1, 7], [1, 92], [-1]])
def test_unknown_element_lists_known_ones(numbers):
    with pytest.raises(ValueError, match="not known to the model; it knows H, C, O"):
        TABLE.index(numbers)


def test_unknown_element_is_named():
    with pytest.raises(ValueError, match=r"element\(s\) N not known"):
        TABLE.index([1, 7])


def labelled_molecule(name, energy):
    atoms = molecule(name)
    atoms.info["energy"] = energy
    atoms.arrays["forces"] = np.arange(3 * len(atoms), dtype=float).reshape(-1, 3)
    return atoms


def test_graph_edges_follow_the_convention():
    atoms = labelled_molecule("CH3OH", -5.0)
    graph = graph_from_atoms(atoms, TABLE, 1.5, energy_key="energy", forces_key="forces")
    i, j = graph.edge_index.numpy()
    assert not graph.shifts.any()
    expected = {(a, b) for a in range(len(atoms)) for b in range(len(atoms))
                if a != b and atoms.get_distance(a, b) < 1.5}
    assert set(zip(i.tolist(), j.tolist())) == expected
    assert graph.edge_index.dtype == torch.long and graph.species.dtype == torch.long
    assert graph.positions.dtype == torch.float64 and graph.energy.shape == ()
    assert graph.forces.shape == (len(atoms), 3) and graph.stress is None
    assert graph.pbc.dtype == torch.bool and not graph.pbc.any()


def test_graph_reads_labels_from_a_calculator_and_voigt_stress():
    atoms = bulk("C", "diamond", a=3.57)
    voigt = np.array([0.1, 0.2, 0.3, 0.04, 0.05, 0.06])
    atoms.calc = SinglePointCalculator(atoms, energy=-9.0, forces=np.ones((2, 3)), stress=voigt)
    graph = graph_from_atoms(atoms, TABLE, 3.0, "energy", "forces", "stress", dtype=torch.float32)
    assert float(graph.energy) == -9.0 and graph.forces.dtype == torch.float32
    np.testing.assert_allclose(graph.stress.numpy(), [[0.1, 0.06, 0.05], [0.06, 0.2, 0.04], [0.05, 0.04, 0.3]], rtol=1e-6)
    assert graph.shifts.abs().sum() > 0  # periodic images present


def test_graph_rejects_unknown_elements():
    with pytest.raises(ValueError, match="it knows H, C, O"):
        graph_from_atoms(molecule("NH3"), TABLE, 3.0)


def test_collate_offsets_and_labels():
    graphs = [
        graph_from_atoms(labelled_molecule(name, -float(k)), TABLE, 2.0, "energy", "forces")
        for k, name in enumerate(["H2O", "CH4", "CO2"])
    ]
    batch = collate(graphs)
    sizes = [g.num_atoms for g in graphs]
    assert batch.num_graphs == 3
    assert batch.ptr.tolist() == [0, 3, 8, 11]
    assert batch.batch.tolist() == [0] * 3 + [1] * 5 + [2] * 3
    start = 0
    edge_start = 0
    for g, n in zip(graphs, sizes):
        part = batch.edge_index[:, edge_start:edge_start + g.num_edges]
        assert torch.equal(part, g.edge_index + start)
        assert ((part >= start) & (part < start + n)).all()
        start, edge_start = start + n, edge_start + g.num_edges
    assert batch.edge_index.shape[1] == edge_start
    assert batch.energy.tolist() == [0.0, -1.0, -2.0]
    assert torch.equal(batch.forces, torch.cat([g.forces for g in graphs]))
    assert batch.cell.shape == (3, 3, 3) and batch.pbc.shape == (3, 3)
    assert batch.energy_mask.all() and batch.forces_mask.all() and not batch.stress_mask.any()
    assert batch.stress is None and batch.num_atoms.tolist() == sizes


def test_collate_masks_partial_labels():
    labelled = graph_from_atoms(labelled_molecule("H2O", -1.0), TABLE, 2.0, "energy", "forces")
    bare = graph_from_atoms(molecule("CH4"), TABLE, 2.0, "energy", "forces")
    batch = collate([bare, labelled])
    assert batch.energy_mask.tolist() == [False, True] and batch.forces_mask.tolist() == [False, True]
    assert batch.energy.tolist() == [0.0, -1.0]
    assert batch.forces.shape == (8, 3) and not batch.forces[:5].any()


def test_batch_to_changes_float_dtype_only():
    batch = collate([graph_from_atoms(labelled_molecule("H2O", -1.0), TABLE, 2.0, "energy", "forces")])
    moved = batch.to("cpu", torch.float32)
    assert moved.positions.dtype == torch.float32 and moved.energy.dtype == torch.float32
    assert moved.edge_index.dtype == torch.long and moved.energy_mask.dtype == torch.bool


def test_loader_shuffle_is_reproducible():
    graphs = [graph_from_atoms(Atoms("H", positions=[[float(k), 0, 0]]), TABLE, 1.0) for k in range(10)]

    def epochs(seed):
        loader = GraphDataLoader(graphs, batch_size=4, shuffle=True, seed=seed)
        return [[b.positions[:, 0].tolist() for b in loader] for _ in range(2)]

    first = epochs(7)
    assert first == epochs(7)
    assert first != epochs(8)
    assert first[0] != first[1]  # epochs differ
    assert sorted(x for b in first[0] for x in b) == list(range(10))
    assert [len(b) for b in first[0]] == [4, 4, 2]
    assert len(GraphDataLoader(graphs, 4, drop_last=True)) == 2


def test_collate_works_with_torch_dataloader():
    graphs = [graph_from_atoms(molecule("H2O"), TABLE, 2.0) for _ in range(3)]
    loader = torch.utils.data.DataLoader(graphs, batch_size=2, collate_fn=collate)
    assert [b.num_graphs for b in loader] == [2, 1]


def test_batch_inputs_are_what_the_model_takes():
    graphs = [graph_from_atoms(molecule("H2O"), TABLE, 2.0), graph_from_atoms(bulk("C", cubic=True), TABLE, 2.0)]
    batch = collate(graphs)
    inputs = batch.inputs()
    assert isinstance(inputs, ModelInputs) and inputs.num_graphs == 2
    for name in ("positions", "species", "edge_index", "shifts", "batch", "cell"):
        assert getattr(inputs, name) is getattr(batch, name), name


def test_single_graph_inputs_fill_in_one_graph():
    graph = graph_from_atoms(molecule("CH3OH"), TABLE, 2.0, dtype=torch.float32)
    inputs = single_graph_inputs(graph.positions, graph.species, graph.edge_index)
    assert inputs.num_graphs == 1 and inputs.batch.tolist() == [0] * graph.num_atoms
    assert inputs.shifts.shape == (graph.num_edges, 3) and not inputs.shifts.any()
    assert inputs.cell.shape == (1, 3, 3) and inputs.shifts.dtype == inputs.cell.dtype == torch.float32
    given = single_graph_inputs(graph.positions, graph.species, graph.edge_index, graph.shifts, graph.cell)
    assert given.shifts is graph.shifts and torch.equal(given.cell[0], graph.cell)
    whole = collate([graph]).inputs()
    assert torch.equal(given.batch, whole.batch) and torch.equal(given.cell, whole.cell)
