"""E0s (isolated atoms, least squares) and the train/validation split."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ase import Atoms

from gaunt_md.data import e0s_by_least_squares, e0s_from_isolated_atoms, train_valid_split

SHARED_ISO = Path("/work/shared/data/3bpa/iso_atoms.xyz")
TRUE_E0S = {1: -13.6, 6: -1029.5, 8: -2042.0}


def structure(counts):
    symbols = "".join(s * n for s, n in zip("HCO", counts))
    atoms = Atoms(symbols, positions=np.arange(3 * len(symbols), dtype=float).reshape(-1, 3))
    atoms.info["energy"] = sum(n * TRUE_E0S[z] for z, n in zip((1, 6, 8), counts))
    return atoms


def test_least_squares_recovers_known_e0s():
    frames = [structure(c) for c in [(4, 1, 0), (2, 0, 1), (4, 2, 1), (0, 1, 2), (6, 2, 0)]]
    fitted = e0s_by_least_squares(frames, "energy", [1, 6, 8])
    assert fitted.keys() == TRUE_E0S.keys()
    for z, e0 in TRUE_E0S.items():
        assert fitted[z] == pytest.approx(e0, abs=1e-8)


def test_least_squares_underdetermined_is_explained():
    frames = [structure((4, 1, 0)), structure((8, 2, 0))]  # same composition, twice
    with pytest.raises(ValueError, match="underdetermined"):
        e0s_by_least_squares(frames, "energy", [1, 6])


def test_least_squares_rejects_elements_outside_the_list():
    with pytest.raises(ValueError, match=r"elements \[8\]"):
        e0s_by_least_squares([structure((2, 0, 1))], "energy", [1, 6])


def test_isolated_atoms_file(tmp_path):
    path = tmp_path / "iso.xyz"
    path.write_text(
        '1\nenergy=-13.6 Properties=species:S:1:pos:R:3 pbc="F F F"\nH 0 0 0\n'
        '1\nenergy=-1029.5 Properties=species:S:1:pos:R:3 pbc="F F F"\nC 0 0 0\n'
    )
    assert e0s_from_isolated_atoms(path) == {1: -13.6, 6: -1029.5}


def test_isolated_atoms_file_rejects_molecules(tmp_path):
    path = tmp_path / "iso.xyz"
    path.write_text('2\nenergy=-1.0 Properties=species:S:1:pos:R:3 pbc="F F F"\nH 0 0 0\nH 0 0 0.7\n')
    with pytest.raises(ValueError, match="iso.xyz, frame 0: expected one isolated atom"):
        e0s_from_isolated_atoms(path)


@pytest.mark.skipif(not SHARED_ISO.exists(), reason="3BPA data not present")
def test_3bpa_isolated_atoms():
    e0s = e0s_from_isolated_atoms(SHARED_ISO)
    assert sorted(e0s) == [1, 6, 7, 8]
    assert e0s[1] == pytest.approx(-13.587222780835477)


def test_split_is_deterministic_and_partitions():
    train, valid = train_valid_split(100, 0.1, seed=3)
    assert (train, valid) == train_valid_split(100, 0.1, seed=3)
    assert len(valid) == 10 and sorted(train + valid) == list(range(100))
    assert valid != train_valid_split(100, 0.1, seed=4)[1]
    assert train_valid_split(100, 10, seed=3) == (train, valid)  # count and fraction agree


@pytest.mark.parametrize("n_valid", [0, 100, 1.5, 0.0, True])
def test_split_rejects_impossible_requests(n_valid):
    with pytest.raises(ValueError):
        train_valid_split(100, n_valid, seed=0)
