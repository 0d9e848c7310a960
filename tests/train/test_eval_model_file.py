"""Issue 20, point 2: `gaunt-md eval` on an exported model file as on a checkpoint, with the
training data's label keys, stress, a per-config_type breakdown and a parity plot."""
from __future__ import annotations

import json

import ase.io
import numpy as np
import pytest


@pytest.fixture(scope="module")
def exported(stress_run, gaunt_md, tmp_path_factory):
    path = tmp_path_factory.mktemp("exported") / "model.pt"
    assert gaunt_md("export", stress_run / "best.pt", "-o", path) == 0
    return path


def test_model_file_with_the_stored_keys(exported, stress_run, stress_dataset, gaunt_md, tmp_path):
    # no --energy-key/--forces-key/--stress-key: the REF_* names of the training data are reused
    assert gaunt_md("eval", exported, stress_dataset["train"], "--out", tmp_path / "file") == 0
    assert gaunt_md("eval", stress_run / "best.pt", stress_dataset["train"], "--out", tmp_path / "ckpt") == 0
    from_file = json.loads((tmp_path / "file" / "metrics.json").read_text())
    from_ckpt = json.loads((tmp_path / "ckpt" / "metrics.json").read_text())
    assert from_file["model_kind"] == "model file" and from_ckpt["model_kind"] == "checkpoint"
    assert from_file["keys"] == {"energy_key": "REF_energy", "forces_key": "REF_forces", "stress_key": "REF_stress"}
    for key in ("e_rmse_meV", "f_rmse_meV_per_A", "s_rmse_meV_per_A3", "v_rmse_meV_per_atom"):
        assert from_file[key] == pytest.approx(from_ckpt[key], rel=1e-9), key

    groups = from_file["by_config_type"]
    assert {name: g["frames"] for name, g in groups.items()} == {"IsolatedAtom": 2, "bulk": 5, "strained": 5}
    assert "s_rmse_meV_per_A3" in groups["bulk"] and "s_rmse_meV_per_A3" not in groups["IsolatedAtom"]
    # the overall stress error is the frame-weighted combination of the groups'
    combined = np.sqrt((groups["bulk"]["s_rmse_meV_per_A3"] ** 2 + groups["strained"]["s_rmse_meV_per_A3"] ** 2) / 2)
    assert from_file["s_rmse_meV_per_A3"] == pytest.approx(combined, rel=1e-9)

    table = (tmp_path / "file" / "table.md").read_text()
    assert "| stress RMSE | meV/A^3 |" in table and "| strained | 5 |" in table
    assert (tmp_path / "file" / "parity.png").read_bytes().startswith(b"\x89PNG")
    predicted = ase.io.read(tmp_path / "file" / "predictions.xyz", index=":")
    periodic = [a for a in predicted if a.pbc.all()]
    assert all("ref_stress" in a.info and a.get_stress().shape == (6,) for a in periodic)


def test_key_override_and_errors(exported, stress_dataset, gaunt_md, tmp_path, capsys):
    assert gaunt_md("eval", exported, stress_dataset["test"], "--out", tmp_path / "o", "--stress-key", "none") == 0
    assert "s_rmse_meV_per_A3" not in json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert gaunt_md("eval", exported, stress_dataset["test"], "--out", tmp_path / "p", "--energy-key", "energy") == 2
    assert "no 'energy' label" in capsys.readouterr().err
