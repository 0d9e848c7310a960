"""Atoms far apart along open directions and very wide periodic cells: vesin alone died with
SIGFPE (atoms 5e5 A apart, open boundaries; a 1e4 x 1e4 x 12 A cell) or took 90 s (a slab
1e5 A thick).  neighbour_list must give the brute-force pairs, quickly, without crashing.
The cases run in a child process so that a crash fails the test instead of the test run."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gaunt_md.data import neighbour_list

from test_neighbours import brute_force_pairs

NEIGHBOURS = Path(__file__).resolve().parents[2] / "gaunt_md" / "data" / "neighbours.py"
CUTOFF = 5.0
OPEN = np.zeros((3, 3))


def _cases() -> dict:
    rng = np.random.default_rng(0)
    tilted = np.array([[9.0, 0.0, 2.0], [1.0, 8.0, -1.0], [0.0, 0.0, 0.0]])     # periodic vectors off the plane
    normal = np.cross(tilted[0], tilted[1]) / np.linalg.norm(np.cross(tilted[0], tilted[1]))
    clusters = np.concatenate([rng.uniform(0, 3, (4, 3)) + rng.uniform(-5e5, 5e5, 3) for _ in range(20)])
    return {
        "open_5e5_apart": ([[0, 0, 0], [1, 0, 0], [5e5, 0, 0]], OPEN, [False] * 3),
        "open_1e5_in_a_plane": ([[0, 0, 0], [1, 0, 0], [1e5, 1e5, 0]], OPEN, [False] * 3),
        "open_clusters_1e6_wide": (clusters, OPEN, [False] * 3),
        "slab_1e5_thick": ([[0, 0, 0], [1, 0, 0], [0, 0, 1e5]], np.diag([10.0, 10.0, 0.0]), [True, True, False]),
        "slab_tilted_1e5_thick": ([[0, 0, 0], [1, 0, 0], np.array([0.5, 0.5, 0.0]) + 1e5 * normal],
                                  tilted, [True, True, False]),
        "wire_open_1e5": ([[0, 0, 0], [0, 0, 4], [1e5, 0, 1], [1e5, 2, 1]], np.diag([0.0, 0.0, 8.0]),
                          [False, False, True]),
        "slab_cell_1e5_wide": ([[0, 0, 0], [1, 0, 0], [5e4, 3e4, 2]], np.diag([1e5, 1e5, 0.0]), [True, True, False]),
        "thin_wide_periodic_cell": ([[0, 0, 0], [1, 0, 0], [5e3, 3e3, 2]], np.diag([1e4, 1e4, 12.0]), [True] * 3),
        "long_thin_periodic_cell": ([[0, 0, 0], [0, 1, 1]], np.diag([1e7, 12.0, 12.0]), [True] * 3),
    }


CHILD = """
import importlib.util, json, sys, time
import numpy as np
spec = importlib.util.spec_from_file_location("neighbours", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
cases = json.loads(sys.stdin.read())
out = {}
for name, (positions, cell, pbc) in cases.items():
    print("case", name, file=sys.stderr, flush=True)
    start = time.perf_counter()
    edges, shifts = module.neighbour_list(np.array(positions, float), np.array(cell, float), pbc, %r)
    out[name] = {"edges": edges.T.tolist(), "shifts": shifts.tolist(), "seconds": time.perf_counter() - start}
print(json.dumps(out))
""" % CUTOFF


@pytest.fixture(scope="module")
def child_results() -> dict:
    cases = {name: (np.asarray(p, float).tolist(), np.asarray(c, float).tolist(), list(b))
             for name, (p, c, b) in _cases().items()}
    run = subprocess.run([sys.executable, "-c", CHILD, str(NEIGHBOURS)], input=json.dumps(cases),
                         capture_output=True, text=True, timeout=300)
    last = run.stderr.strip().splitlines()[-1:] if run.stderr.strip() else []
    assert run.returncode == 0, f"neighbour_list crashed (exit {run.returncode}) in {last}: {run.stderr[-2000:]}"
    return json.loads(run.stdout)


def _pairs(result: dict, cell: np.ndarray, pbc) -> set:
    periodic = np.asarray(pbc)
    pairs = set()
    for (i, j), shift in zip(result["edges"], result["shifts"]):
        S = np.zeros(3)
        if periodic.any():
            S[periodic] = np.linalg.lstsq(cell[periodic].T, np.asarray(shift), rcond=None)[0]
        pairs.add((i, j) + tuple(int(round(s)) for s in S))
    return pairs


@pytest.mark.parametrize("case", list(_cases()))
def test_far_apart_atoms_match_brute_force_quickly(case, child_results):
    positions, cell, pbc = _cases()[case]
    positions, cell = np.asarray(positions, float), np.asarray(cell, float)
    result = child_results[case]
    assert result["seconds"] < 5.0, f"{case}: {result['seconds']:.1f} s"
    # the reference needs an invertible cell: open directions get unit vectors orthogonal to the
    # periodic ones (it looks at no images along them)
    periodic = np.asarray(pbc)
    complete = cell.copy()
    complete[~periodic] = np.linalg.svd(cell[periodic])[2][periodic.sum():] if periodic.any() else np.eye(3)
    assert _pairs(result, cell, pbc) == brute_force_pairs(positions, complete, pbc, CUTOFF)


def test_too_wide_and_thin_cell_with_many_atoms_is_refused():
    rng = np.random.default_rng(1)
    positions = rng.uniform(0, 1, (1500, 3)) * [1e5, 1e5, 12.0]
    with pytest.raises(ValueError, match="too wide in some directions and too thin in others"):
        neighbour_list(positions, np.diag([1e5, 1e5, 12.0]), [True] * 3, CUTOFF)


def test_ordinary_systems_are_as_fast_as_before():
    """A 3000-atom periodic box: the extra work (sorting along open directions, a re-check of
    the cutoff) must not dominate."""
    rng = np.random.default_rng(2)
    positions = rng.uniform(0, 30.0, (3000, 3))
    start = time.perf_counter()
    edges, _ = neighbour_list(positions, np.diag([30.0] * 3), [True, True, False], CUTOFF)
    assert edges.shape[1] > 0 and time.perf_counter() - start < 5.0
