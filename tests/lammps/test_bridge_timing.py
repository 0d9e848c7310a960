"""The bridge's optional timing counters (GAUNT_MD_BRIDGE_TIMING, gaunt_md/lammps/diagnostics/
timing.py), called in this process as pair_gaunt.cpp calls them: same results as without them,
and one rank file with a row per compute() call."""
from __future__ import annotations

import gc
import json

import numpy as np

from gaunt_md.lammps import bridge
from gaunt_md.lammps.diagnostics.timing import COLUMNS, TIMING_ENV


def _graph():
    """Five atoms (C H N O types), every pair within 4 A an edge in both directions; no ghosts."""
    positions = np.array([[0.0, 0.0, 0.0], [1.1, 0.0, 0.0], [0.0, 1.4, 0.0], [0.0, 0.0, 1.3], [1.2, 1.2, 0.4]])
    types = np.array([0, 1, 2, 3, 0], dtype=np.int64)
    pairs = [(i, j) for i in range(5) for j in range(5) if i != j]
    return positions, types, np.ascontiguousarray(np.array(pairs, dtype=np.int64).T)


def _compute(model, want_virial: bool = True) -> dict:
    positions, types, edges = _graph()
    n = len(positions)
    species = np.array([model.type_species[t] for t in types], dtype=np.int64)
    out = {"forces": np.zeros((n, 3)), "node_energy": np.zeros(n), "virial": np.zeros((3, 3)),
           "atom_virial": np.zeros((n, 3, 3))}
    energy = model.compute(n, n, edges.shape[1], positions.ctypes.data, species.ctypes.data, edges.ctypes.data,
                           out["forces"].ctypes.data, out["node_energy"].ctypes.data, out["virial"].ctypes.data,
                           out["atom_virial"].ctypes.data, int(want_virial))
    return {"energy": energy, **out}


def test_timed_bridge_gives_the_same_results_and_writes_its_file(tiny_model, tmp_path, monkeypatch):
    elements = ["C", "H", "N", "O"]
    monkeypatch.delenv(TIMING_ENV, raising=False)
    plain = bridge.load(str(tiny_model), elements)
    assert isinstance(plain, bridge.LammpsModel)       # no timing: the bare model
    expected = _compute(plain)

    prefix = tmp_path / "bridge"
    monkeypatch.setenv(TIMING_ENV, str(prefix))
    timed = bridge.load(str(tiny_model), elements)
    assert timed.r_max == plain.r_max and timed.num_interactions == plain.num_interactions
    assert timed.type_species == plain.type_species
    results = [_compute(timed), _compute(timed, want_virial=False)]
    for key, value in expected.items():
        np.testing.assert_array_equal(results[0][key], value, err_msg=key)
    np.testing.assert_allclose(results[1]["forces"], expected["forces"], rtol=1e-12, atol=1e-12)
    del timed
    gc.collect()

    record = json.loads((tmp_path / "bridge.0.json").read_text())
    assert record["columns"] == COLUMNS and record["rank"] == 0 and record["nprocs"] == 1
    assert len(record["calls"]) == 2
    for bridge_s, model_s, nodes, nlocal, edges in record["calls"]:
        assert 0 < model_s <= bridge_s
        assert (nodes, nlocal, edges) == (5, 5, 20)
    assert "symbol" in record["dgemm_"]
