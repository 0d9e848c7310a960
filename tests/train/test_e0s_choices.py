"""Issue 20, point 3: E0s from an isolated-atoms file, from IsolatedAtom frames inside the
training file, an inline mapping, least squares or "average"; the log says which."""
from __future__ import annotations

import pytest
from ase import Atoms
from ase.calculators.emt import EMT

from gaunt_md.train.config import load_config
from gaunt_md.train.dataset import prepare_data


def _prepare(path, messages=None):
    return prepare_data(load_config(path), log=(messages.append if messages is not None else lambda *_: None))


def _emt_energy(symbol: str) -> float:
    atom = Atoms(symbol)
    atom.calc = EMT()
    return atom.get_potential_energy()


def test_isolated_atom_frames_in_the_training_file(stress_config, stress_dataset, tmp_path):
    messages = []
    data = _prepare(stress_config(tmp_path), messages)
    assert data.e0s == pytest.approx({29: _emt_energy("Cu"), 79: _emt_energy("Au")}, abs=1e-12)
    assert len(data.train) + len(data.valid) == 10      # the two isolated atoms are not trained on
    assert all(g.num_atoms == 4 for g in data.train + data.valid)
    assert any(f"E0s from the IsolatedAtom frames of {stress_dataset['train']}" in m for m in messages)


def test_inline_mapping_by_symbol_or_number(stress_config, tmp_path):
    messages = []
    data = _prepare(stress_config(tmp_path, data={"e0s": {"Cu": -1.5, 79: -2.5}}), messages)
    assert data.e0s == {29: -1.5, 79: -2.5}
    assert any("E0s from data.e0s" in m for m in messages)
    with pytest.raises(ValueError, match=r"data.e0s has no isolated-atom energy for atomic numbers \[79\]"):
        _prepare(stress_config(tmp_path, data={"e0s": {"Cu": -1.5}}))


def test_average_works_on_one_composition(one_composition, write_config, tmp_path):
    path, frames = one_composition
    messages = []
    data = _prepare(write_config(tmp_path, data={"train_file": str(path), "e0s_file": None, "e0s": "average",
                                                 "n_valid": 2}), messages)
    train_energies = [g.energy.item() for g in data.train]
    mean = sum(train_energies) / (2 * len(train_energies))
    assert data.e0s == pytest.approx({1: mean, 6: mean}, rel=1e-12)
    assert any("E0s from the average energy per atom" in m for m in messages)


def test_least_squares_on_one_composition_names_the_alternatives(one_composition, write_config, gaunt_md,
                                                                  tmp_path, capsys):
    path, _ = one_composition
    config = write_config(tmp_path, data={"train_file": str(path), "e0s_file": None, "e0s": "least_squares",
                                          "n_valid": 2})
    assert gaunt_md("train", config) == 2
    err = capsys.readouterr().err
    assert "underdetermined" in err and "data.e0s: average" in err and "data.e0s: {H:" in err
    assert not (tmp_path / "run").exists()
