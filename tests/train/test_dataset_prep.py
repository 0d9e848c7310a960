"""prepare_data: from a training config to graphs (split, E0s, species, labels, statistics)."""
from __future__ import annotations

import sys
from pathlib import Path

import ase.io
import numpy as np
import pytest
import torch
from ase import Atoms
from ase.calculators.emt import EMT

from gaunt_md.data import read_labelled_structures
from gaunt_md.data.e0s import ISOLATED_ATOM
from gaunt_md.data.splits import train_valid_split
from gaunt_md.train.config import load_config
from gaunt_md.train.dataset import batches, prepare_data, split_seed

quiet = {"log": lambda *_: None}


def prepared(write_config, directory, **changes):
    return prepare_data(load_config(write_config(directory, **changes)), **quiet)


def test_e0s_come_from_the_isolated_atoms(write_config, tmp_path):
    data = prepared(write_config, tmp_path)
    assert data.species.atomic_numbers == [1, 6, 7, 8]
    for z, e0 in data.e0s.items():
        atom = Atoms(numbers=[z])
        atom.calc = EMT()
        assert e0 == pytest.approx(atom.get_potential_energy(), abs=1e-12)


def test_e0s_by_least_squares_without_an_isolated_atoms_file(write_config, tmp_path):
    """Labels that are exactly a sum of per-element energies give those energies back."""
    true_e0 = {1: -13.6, 6: -1027.5, 7: -1484.2, 8: -2041.9}
    frames = read_labelled_structures(load_config(write_config(tmp_path)).data.train_file)
    for atoms in frames:
        atoms.info["energy"] = sum(true_e0[int(z)] for z in atoms.numbers)
    path = tmp_path / "additive.xyz"
    ase.io.write(path, frames, format="extxyz")
    data = prepared(write_config, tmp_path, data={"train_file": str(path), "e0s_file": None})
    assert data.e0s == pytest.approx(true_e0, abs=1e-8)


def test_least_squares_underdetermined_is_a_clear_error(one_composition, write_config, gaunt_md, tmp_path, capsys):
    """Every frame CH: the C and H energies cannot be told apart."""
    path, _ = one_composition
    config = write_config(tmp_path, data={"train_file": str(path), "e0s_file": None, "n_valid": 2})
    assert gaunt_md("train", config) == 2
    err = capsys.readouterr().err
    assert "underdetermined" in err and "e0s_file" in err


def test_isolated_atoms_file_missing_an_element(write_config, gaunt_md, dataset, tmp_path, capsys):
    iso = [a for a in ase.io.read(dataset["iso"], index=":") if a.get_chemical_symbols() != ["N"]]
    path = tmp_path / "iso_no_n.xyz"
    ase.io.write(path, iso, format="extxyz")
    assert gaunt_md("train", write_config(tmp_path, data={"e0s_file": str(path)})) == 2
    assert "no isolated-atom energy for atomic numbers [7]" in capsys.readouterr().err


def test_split_is_deterministic_and_follows_the_seed(write_config, tmp_path):
    energies = lambda graphs: sorted(float(g.energy) for g in graphs)
    first = prepared(write_config, tmp_path / "a")
    again = prepared(write_config, tmp_path / "b")
    other = prepared(write_config, tmp_path / "c", seed=8)
    assert (len(first.train), len(first.valid)) == (8, 4)
    assert energies(first.valid) == energies(again.valid)
    assert energies(first.valid) != energies(other.valid)
    assert sorted(energies(first.train) + energies(first.valid)) == sorted(energies(other.train) + energies(other.valid))


def test_graphs_carry_labels_from_the_file(write_config, dataset, tmp_path):
    """Graph labels are the file's energies/forces, kept in float64 even for a float32 run (the
    batches take the training dtype), whether the file stored them as a calculator
    (energy/forces) or as plain keys (REF_energy/REF_forces)."""
    frames = read_labelled_structures(dataset["train"])
    renamed = []
    for atoms in frames:
        copy = atoms.copy()
        copy.info["REF_energy"] = copy.info.pop("energy")
        copy.arrays["REF_forces"] = copy.arrays.pop("forces")
        renamed.append(copy)
    path = tmp_path / "ref_keys.xyz"
    ase.io.write(path, renamed, format="extxyz")
    plain = prepared(write_config, tmp_path / "plain", dtype="float32", data={"e0s_file": None})
    keyed = prepared(write_config, tmp_path / "keyed", dtype="float32", data={
        "train_file": str(path), "e0s_file": None, "energy_key": "REF_energy", "forces_key": "REF_forces"})
    for data in (plain, keyed):
        for g in data.train + data.valid:
            assert g.positions.dtype == g.forces.dtype == g.energy.dtype == torch.float64
            match = [a for a in frames if a.info["energy"] == float(g.energy)]
            assert len(match) == 1
            np.testing.assert_allclose(g.forces.numpy(), match[0].arrays["forces"], rtol=1e-15, atol=0)
            np.testing.assert_allclose(g.positions.numpy(), match[0].positions, rtol=1e-15, atol=0)
    assert [float(g.energy) for g in keyed.valid] == [float(g.energy) for g in plain.valid]


def test_statistics(write_config, tmp_path):
    data = prepared(write_config, tmp_path)
    edges = sum(g.edge_index.shape[1] for g in data.train)
    atoms = sum(g.num_atoms for g in data.train)
    assert data.avg_num_neighbors == pytest.approx(edges / atoms)
    forces = torch.cat([g.forces.reshape(-1) for g in data.train])
    assert data.scale == pytest.approx(float(forces.pow(2).mean().sqrt()))


def test_batches_cover_every_graph_once(write_config, tmp_path):
    data = prepared(write_config, tmp_path)
    for generator in (None, torch.Generator().manual_seed(3)):
        seen = [float(e) for b in batches(data.train, 3, generator) for e in b.energy]
        assert sorted(seen) == sorted(float(g.energy) for g in data.train)
    order = lambda seed: [float(e) for b in batches(data.train, 3, torch.Generator().manual_seed(seed))
                          for e in b.energy]
    assert order(5) == order(5) and order(5) != order(6)


def _broken_copy(dataset, tmp_path, frame, damage):
    """The synthetic training file with `damage(atoms)` applied to one frame."""
    frames = read_labelled_structures(dataset["train"])
    damage(frames[frame])
    path = tmp_path / "broken.xyz"
    ase.io.write(path, frames, format="extxyz")
    return path


def _set_nan_energy(atoms):
    atoms.info["energy"] = float("nan")


def _set_nan_force(atoms):
    atoms.arrays["forces"][1, 2] = float("nan")


def _set_nan_position(atoms):
    atoms.positions[0, 0] = float("nan")


def _drop_forces(atoms):
    del atoms.arrays["forces"]


def _drop_energy(atoms):
    del atoms.info["energy"]


@pytest.mark.parametrize("damage, message", [
    (_drop_energy, "no 'energy' label"),
    (_drop_forces, "no 'forces' label"),
    (_set_nan_energy, "NaN"),
    (_set_nan_force, "NaN"),
    (_set_nan_position, "positions contain NaN"),
])
def test_broken_training_file_names_file_and_frame(damage, message, dataset, write_config, gaunt_md,
                                                   tmp_path, capsys):
    path = _broken_copy(dataset, tmp_path, 5, damage)
    assert gaunt_md("train", write_config(tmp_path, data={"train_file": str(path)})) == 2
    err = capsys.readouterr().err
    assert f"{path}, frame 5" in err and message in err and "Traceback" not in err


def test_empty_training_file(write_config, gaunt_md, tmp_path, capsys):
    path = tmp_path / "empty.xyz"
    path.write_text("")
    assert gaunt_md("train", write_config(tmp_path, data={"train_file": str(path)})) == 2
    assert f"{path}: file is empty" in capsys.readouterr().err


def test_validation_file_with_an_unknown_element(alien_file, write_config, gaunt_md, tmp_path, capsys):
    assert gaunt_md("train", write_config(tmp_path, data={"valid_file": str(alien_file)})) == 2
    err = capsys.readouterr().err
    assert "Si" in err and "it knows H, C, N, O" in err


def test_scale_and_shift_from_the_data(write_config, tmp_path):
    """scale "auto" is the RMS force component, shift the mean per-atom energy above the E0s by
    default ("mean") or a number; both end up as fixed constants (buffers, not parameters)."""
    from gaunt_md.train.trainer import build_model
    cfg = load_config(write_config(tmp_path))
    data = prepare_data(cfg, **quiet)
    residual = sum(float(g.energy) - sum(data.e0s[data.species.atomic_numbers[int(s)]] for s in g.species)
                   for g in data.train)
    assert data.mean_energy == pytest.approx(residual / sum(g.num_atoms for g in data.train))
    model = build_model(cfg, data)
    assert model.config["scale"] == pytest.approx(data.scale)
    assert model.config["shift"] == pytest.approx(data.mean_energy) and data.mean_energy != 0.0
    assert "scale" not in dict(model.named_parameters()) and "shift" not in dict(model.named_parameters())
    assert float(model.shift) == pytest.approx(data.mean_energy)
    cfg.model.update(scale=2.5, shift=0.0)
    model = build_model(cfg, data)
    assert model.config["scale"] == 2.5 and model.config["shift"] == 0.0 and float(model.shift) == 0.0


def test_closest_pairs_and_the_auto_radial_floor(write_config, tmp_path):
    """closest_pairs is the shortest distance of each species pair over the training frames
    (checked by brute force); the trainer's auto floor lies 0.15 A under it."""
    from gaunt_md.nn.radial import pair_key
    from gaunt_md.train.config import load_config
    from gaunt_md.train.trainer import build_model

    cfg = load_config(write_config(tmp_path))
    data = prepare_data(cfg, **quiet)
    frames = read_labelled_structures(cfg.data.train_file)
    train_idx, _ = train_valid_split(len(frames), cfg.data.n_valid, split_seed(cfg))
    expected = {}
    for k in train_idx:
        a = frames[k]
        d = a.get_all_distances()
        for i in range(len(a)):
            for j in range(len(a)):
                if i != j and d[i, j] < cfg.model.get("r_max", 5.0):
                    key = pair_key(a.numbers[i], a.numbers[j])
                    expected[key] = min(expected.get(key, np.inf), d[i, j])
    assert data.closest_pairs == pytest.approx(expected, abs=1e-12)
    floors = build_model(cfg, data).config["radial_floor"]
    assert floors == pytest.approx({k: round(v - 0.15, 3) for k, v in expected.items()}, abs=1e-12)


def test_extra_train_files_add_training_frames_only(write_config, dataset, tmp_path):
    base = prepared(write_config, tmp_path / "a")
    extra = prepared(write_config, tmp_path / "b", data={"extra_train_files": [str(dataset["train"])]})
    energies = lambda graphs: sorted(float(g.energy) for g in graphs)
    assert energies(extra.valid) == energies(base.valid)          # the same validation frames
    assert len(extra.train) == len(base.train) + 12
    with pytest.raises(FileNotFoundError, match="extra_train_files"):
        prepared(write_config, tmp_path / "c", data={"extra_train_files": [str(tmp_path / "missing.xyz")]})
    with pytest.raises(ValueError, match="extra_train_files must be a list"):
        prepared(write_config, tmp_path / "d", data={"extra_train_files": str(dataset["train"])})


def _valid_energies(data) -> list:
    return sorted(float(g.energy) for g in data.valid)


def test_split_seed_fixes_the_validation_frames_across_seeds(write_config, tmp_path):
    """Two seeds of one recipe compare on the same validation frames once data.split_seed is set;
    without it the seed picks the split too."""
    runs = {(seed, split): prepared(write_config, tmp_path / f"{seed}_{split}", seed=seed,
                                    data={"split_seed": split})
            for seed in (1, 2) for split in (None, 7)}
    assert _valid_energies(runs[1, 7]) == _valid_energies(runs[2, 7])
    assert _valid_energies(runs[1, None]) != _valid_energies(runs[2, None])
    assert _valid_energies(runs[1, 7]) == _valid_energies(
        prepared(write_config, tmp_path / "7_none", seed=7, data={"split_seed": None}))


def test_frame_errors_split_is_the_trainers(write_config, dataset, tmp_path, monkeypatch):
    """benchmarks/frame_errors.py --split N_VALID SEED picks the trainer's validation frames,
    also when isolated atoms (E0s, not split) sit in the same file."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "benchmarks"))
    sys.modules.pop("frame_errors", None)
    from frame_errors import group_indices

    iso = ase.io.read(dataset["iso"], ":")
    for a in iso:
        a.info["config_type"] = ISOLATED_ATOM
    mixed = tmp_path / "mixed.xyz"
    frames = iso[:2] + ase.io.read(dataset["train"], ":") + iso[2:]
    ase.io.write(mixed, frames, format="extxyz")
    cfg = load_config(write_config(tmp_path, data={"train_file": str(mixed), "e0s_file": None}))
    data = prepare_data(cfg, **quiet)
    groups = group_indices(read_labelled_structures(str(mixed)), split=(cfg.data.n_valid, split_seed(cfg)))
    energies = lambda idx: sorted(float(frames[i].get_potential_energy()) for i in idx)
    assert energies(groups["split=valid"]) == pytest.approx(sorted(float(g.energy) for g in data.valid))
    assert energies(groups["split=train"]) == pytest.approx(sorted(float(g.energy) for g in data.train))
    assert len(groups["all"]) == len(frames)
