"""`gaunt-md eval CHECKPOINT DATA --out DIR` and checkpoint loading errors."""
from __future__ import annotations

import json

import ase.io
import numpy as np
import pytest
import torch

from gaunt_md.data import SpeciesTable, collate, graph_from_atoms, read_labelled_structures
from gaunt_md.train import model_from_checkpoint

METRIC_KEYS = ["e_rmse_meV", "e_mae_meV", "e_rmse_meV_per_atom", "e_mae_meV_per_atom",
               "f_rmse_meV_per_A", "f_mae_meV_per_A"]


@pytest.fixture(scope="module")
def evaluated(trained_run, dataset, gaunt_md, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval")
    assert gaunt_md("eval", trained_run / "best.pt", dataset["train"], "--out", out) == 0
    return out


def model_predictions(checkpoint, frames):
    """Energies [G] and forces (list of [N, 3]) of the checkpoint's model, one frame at a time."""
    model = model_from_checkpoint(checkpoint)
    dtype = next(model.parameters()).dtype
    species = SpeciesTable(model.atomic_numbers.tolist())
    energies, forces = [], []
    for atoms in frames:
        b = collate([graph_from_atoms(atoms, species, model.r_max, dtype=dtype)])
        out = model(b.inputs(), compute_forces=True)
        energies.append(float(out["energy"].detach()[0]))
        forces.append(out["forces"].detach().double().numpy())
    return np.array(energies), forces


def test_eval_writes_metrics_table_and_predictions(evaluated, trained_run, dataset):
    metrics = json.loads((evaluated / "metrics.json").read_text())
    assert set(METRIC_KEYS) <= set(metrics)
    assert metrics["frames"] == 12
    table = (evaluated / "table.md").read_text()
    assert table.startswith("| metric | unit | value |")
    assert f"{metrics['f_rmse_meV_per_A']:.3f}" in table

    reference = read_labelled_structures(dataset["train"])
    predicted = ase.io.read(evaluated / "predictions.xyz", index=":")
    assert len(predicted) == len(reference)
    energies, forces = model_predictions(trained_run / "best.pt", reference)
    # extxyz keeps 8 decimals of the forces
    np.testing.assert_allclose([a.get_potential_energy() for a in predicted], energies, rtol=1e-9, atol=1e-8)
    for atoms, f in zip(predicted, forces):
        np.testing.assert_allclose(atoms.get_forces(), f, rtol=0, atol=1e-7)

    # the metrics are the errors of exactly those predictions
    ref_e = np.array([a.info["energy"] for a in reference])
    n = np.array([len(a) for a in reference])
    de = (energies - ref_e) * 1000
    df = np.concatenate([(f - a.arrays["forces"]).ravel() for f, a in zip(forces, reference)]) * 1000
    expected = {
        "e_rmse_meV": np.sqrt(np.mean(de ** 2)), "e_mae_meV": np.mean(np.abs(de)),
        "e_rmse_meV_per_atom": np.sqrt(np.mean((de / n) ** 2)), "e_mae_meV_per_atom": np.mean(np.abs(de / n)),
        "f_rmse_meV_per_A": np.sqrt(np.mean(df ** 2)), "f_mae_meV_per_A": np.mean(np.abs(df)),
    }
    for key, value in expected.items():
        assert metrics[key] == pytest.approx(value, rel=1e-6), key


def test_predictions_keep_the_reference_labels(evaluated, dataset):
    """predictions.xyz holds the reference next to the prediction, so the two can be compared."""
    reference = read_labelled_structures(dataset["train"])
    predicted = ase.io.read(evaluated / "predictions.xyz", index=":")
    for ref, atoms in zip(reference, predicted):
        assert atoms.info["ref_energy"] == pytest.approx(ref.info["energy"], abs=1e-8)
        np.testing.assert_allclose(atoms.arrays["ref_forces"], ref.arrays["forces"], atol=1e-8)
        assert atoms.get_potential_energy() != pytest.approx(ref.info["energy"], abs=1e-8)


def test_eval_in_float32(trained_run, dataset, gaunt_md, tmp_path):
    assert gaunt_md("eval", trained_run / "best.pt", dataset["train"], "--out", tmp_path,
                    "--dtype", "float32") == 0
    single = json.loads((tmp_path / "metrics.json").read_text())
    assert single["e_rmse_meV"] > 0 and np.isfinite(single["f_rmse_meV_per_A"])


def test_checkpoint_errors_are_clear(dataset, gaunt_md, tmp_path, capsys):
    assert gaunt_md("eval", tmp_path / "missing.pt", dataset["train"], "--out", tmp_path / "o") == 2
    assert "checkpoint not found" in capsys.readouterr().err

    text = tmp_path / "notes.pt"
    text.write_text("not a checkpoint\n")
    assert gaunt_md("eval", text, dataset["train"], "--out", tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert "not a readable gaunt-md checkpoint" in err and "Traceback" not in err

    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {"w": torch.zeros(2)}}, foreign)
    assert gaunt_md("eval", foreign, dataset["train"], "--out", tmp_path / "o") == 2
    assert f"{foreign} is not a gaunt-md checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_eval_data_errors_are_clear(trained_run, alien_file, gaunt_md, tmp_path, capsys):
    empty = tmp_path / "empty.xyz"
    empty.write_text("")
    assert gaunt_md("eval", trained_run / "best.pt", empty, "--out", tmp_path / "o") == 2
    assert f"{empty}: file is empty" in capsys.readouterr().err

    assert gaunt_md("eval", trained_run / "best.pt", alien_file, "--out", tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert "Si" in err and "H, C, N, O" in err

