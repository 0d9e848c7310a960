"""The failure detector on hand-made trajectories: each failure flagged at the right step."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from gaunt_md.md import Connectivity, Criteria, StabilityMonitor, first_failure


def frames_from(reference, displacements):
    """One frame per displacement array ([N, 3]) added to the reference positions."""
    frames = []
    for d in displacements:
        atoms = reference.copy()
        atoms.positions = reference.positions + d
        frames.append(atoms)
    return frames


def bond_of(atoms, h_index):
    conn = Connectivity.from_atoms(atoms)
    (b,) = [k for k, (i, j) in enumerate(conn.pairs) if h_index in (i, j)]
    i, j = conn.pairs[b]
    return (j if i == h_index else i), conn.ref_lengths[b]


def test_shipped_start_is_3bpa_and_clean(start_3bpa):
    assert start_3bpa.get_chemical_formula() == "C12H12N2O" and len(start_3bpa) == 27
    conn = Connectivity.from_atoms(start_3bpa)
    assert conn.n_bonds == 28       # 26 tree bonds + 2 rings
    assert Counter(conn.bond_types()) == {"C-C": 11, "C-H": 10, "C-N": 3, "H-N": 2, "C-O": 2}
    check = StabilityMonitor(start_3bpa).check(0, start_3bpa.positions, -1.0, np.zeros((27, 3)))
    assert check.failure is None and check.max_bond_deviation == 0.0


def test_small_vibrations_are_stable(start_3bpa):
    rng = np.random.default_rng(0)
    frames = frames_from(start_3bpa, [rng.normal(0, 0.03, (27, 3)) for _ in range(20)])
    assert first_failure(frames, reference=start_3bpa) is None


def test_stretched_bond_flagged_at_the_step_it_passes_half_an_angstrom(start_3bpa):
    h = 20                                             # an H of the CH2 group
    heavy, _ = bond_of(start_3bpa, h)
    direction = start_3bpa.positions[h] - start_3bpa.positions[heavy]
    direction /= np.linalg.norm(direction)
    steps = []
    for k in range(8):                                 # stretch by 0.15 A per step: 0.45 at 3, 0.60 at 4
        d = np.zeros((27, 3))
        d[h] = 0.15 * k * direction
        steps.append(d)
    failure = first_failure(frames_from(start_3bpa, steps), reference=start_3bpa)
    assert failure is not None and failure.kind == "bond_stretch" and failure.step == 4
    assert f"H{h}" in failure.detail


def test_compressed_bond_also_counts(start_3bpa):
    h = 15
    heavy, length = bond_of(start_3bpa, h)
    d = np.zeros((27, 3))
    d[h] = (start_3bpa.positions[heavy] - start_3bpa.positions[h]) * 0.55 / length   # 0.55 A shorter
    failure = first_failure(frames_from(start_3bpa, [0 * d, 0 * d, d]), reference=start_3bpa)
    assert failure.step == 2 and failure.kind == "bond_stretch"


def test_detached_hydrogen(start_3bpa):
    h = 25
    heavy, _ = bond_of(start_3bpa, h)
    direction = start_3bpa.positions[h] - start_3bpa.positions[heavy]
    direction /= np.linalg.norm(direction)
    d = np.zeros((27, 3))
    d[h] = 3.0 * direction                             # jumps 3 A away in one step
    failure = first_failure(frames_from(start_3bpa, [0 * d, 0 * d, 0 * d, d]), reference=start_3bpa)
    assert failure.step == 3 and set(failure.kinds) == {"bond_stretch", "h_detached"}
    # with the bond criterion out of the way, detachment alone flags the step where the H is
    # farther than 2.5 A from every heavy atom
    loose = Criteria(max_bond_deviation=100.0)
    moves = [np.zeros((27, 3))]
    for k in range(1, 10):
        m = np.zeros((27, 3))
        m[h] = 0.5 * k * direction
        moves.append(m)
    frames = frames_from(start_3bpa, moves)
    nearest = [np.linalg.norm(f.positions[~(f.numbers == 1)] - f.positions[h], axis=1).min() for f in frames]
    expected = next(k for k, r in enumerate(nearest) if r > 2.5)
    failure = first_failure(frames, reference=start_3bpa, criteria=loose)
    assert failure.kind == "h_detached" and failure.kinds == ["h_detached"] and failure.step == expected
    assert f"H{h}" in failure.detail


def test_new_bond_between_molecules(water_dimer):
    conn = Connectivity.from_atoms(water_dimer)
    assert conn.n_bonds == 4                           # two O-H per water, nothing between them
    # move the second water rigidly (no bond changes) towards the first: its H3 approaches O0
    moves = []
    for k in range(15):
        d = np.zeros((6, 3))
        d[3:] = [-0.2 * k, 0.0, 0.0]
        moves.append(d)
    frames = frames_from(water_dimer, moves)
    cutoff = conn.bond_cutoff[0, 4]
    expected = next(k for k, f in enumerate(frames) if f.get_distance(0, 4) < cutoff)
    failure = first_failure(frames)
    assert failure.kind == "new_bond" and failure.kinds == ["new_bond"] and failure.step == expected
    assert "O0-H4" in failure.detail


@pytest.mark.parametrize("what", ["energy", "forces", "positions"])
def test_non_finite_flagged_at_the_step(start_3bpa, what):
    n = 6
    frames = frames_from(start_3bpa, [np.zeros((27, 3))] * n)
    energies = [-1.0] * n
    forces = [np.zeros((27, 3)) for _ in range(n)]
    if what == "energy":
        energies[3] = float("nan")
    elif what == "forces":
        forces[3] = forces[3].copy()
        forces[3][5, 1] = np.inf
    else:
        frames[3].positions[7] = np.nan
    failure = first_failure(frames, energies=energies, forces=forces)
    assert failure.kind == "non_finite" and failure.step == 3 and what in failure.detail


def test_engine_error_counts_as_non_finite(start_3bpa):
    check = StabilityMonitor(start_3bpa).check(9, start_3bpa.positions, error="ValueError: NaN positions")
    assert check.failure.kind == "non_finite" and check.failure.step == 9
    assert np.isnan(check.max_bond_deviation)


def test_periodic_reference_rejected(water_dimer):
    water_dimer.cell = [10, 10, 10]
    water_dimer.pbc = True
    with pytest.raises(ValueError, match="isolated"):
        StabilityMonitor(water_dimer)
