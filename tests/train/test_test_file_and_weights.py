"""Issue 20, point 6: a test file evaluated once at the end (log, test_metrics.json, best.pt, model
card), and per-config_type weights of the energy, forces and stress terms."""
from __future__ import annotations

import json

import pytest
import torch

from gaunt_md.data import collate
from gaunt_md.train import read_checkpoint
from gaunt_md.train.config import load_config
from gaunt_md.train.dataset import prepare_data
from gaunt_md.train.loss import weighted_loss


def test_test_file_is_evaluated_with_the_best_model(stress_run):
    metrics = json.loads((stress_run / "test_metrics.json").read_text())
    assert metrics["frames"] == 4
    assert {"e_rmse_meV", "f_rmse_meV_per_A", "s_rmse_meV_per_A3", "v_rmse_meV_per_atom"} <= set(metrics)
    best = read_checkpoint(stress_run / "best.pt")
    assert json.loads(best["test_metrics"]) == metrics and metrics["epoch"] == best["epoch"]
    assert "test (best model, epoch" in (stress_run / "train.log").read_text()


def test_config_type_weights_scale_every_term(stress_config, tmp_path):
    cfg = load_config(stress_config(tmp_path, data={"config_type_weights": {"strained": 0.0, "bulk": 2.0}}))
    data = prepare_data(cfg, log=lambda *_: None)
    weights = {(g.energy_weight, g.forces_weight, g.stress_weight) for g in data.train}
    assert weights == {(0.0, 0.0, 0.0), (2.0, 2.0, 2.0)}

    batch = collate(data.train)
    pred = {"energy": batch.energy + 1.0, "forces": batch.forces + 0.1, "stress": batch.stress + 0.01}
    # weight-0 frames drop out; each term is the weighted mean over the frames left (4 atoms each)
    expected = 1.0 * 2 * (1.0 / 4) ** 2 + 100.0 * 2 * 0.1 ** 2 + 10.0 * 2 * 0.01 ** 2
    assert float(weighted_loss(pred, batch, 1.0, 100.0, 10.0)) == pytest.approx(expected, rel=1e-10)


def test_config_type_weights_must_be_numbers(stress_config, gaunt_md, tmp_path, capsys):
    assert gaunt_md("train", stress_config(tmp_path, data={"config_type_weights": {"bulk": "heavy"}})) == 2
    assert "data.config_type_weights must be a mapping" in capsys.readouterr().err
