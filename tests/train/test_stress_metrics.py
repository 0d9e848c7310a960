"""Issue 20, point 1: stress (and virial) errors wherever energy and force errors are reported,
and the best-model choice weighs what the loss weighs."""
from __future__ import annotations

import numpy as np
import pytest

from gaunt_md.train import read_checkpoint


def test_log_reports_stress_and_virial_errors(stress_run, log_rows):
    rows = log_rows(stress_run)
    for row in rows:
        for column in ("s_rmse_meV_per_A3", "s_mae_meV_per_A3", "v_rmse_meV_per_atom", "v_mae_meV_per_atom"):
            assert column in row and np.isfinite(row[column]) and row[column] > 0, column
        # the validation loss (best model, plateau, early stopping) weighs stress as the loss does
        expected = (1.0 * (row["e_rmse_meV_per_atom"] / 1000) ** 2 + 100.0 * (row["f_rmse_meV_per_A"] / 1000) ** 2
                    + 10.0 * (row["s_rmse_meV_per_A3"] / 1000) ** 2)
        assert row["valid_loss"] == pytest.approx(expected, rel=1e-12)
    assert read_checkpoint(stress_run / "best.pt")["valid_loss_terms"] == ["energy", "forces", "stress"]
    log = (stress_run / "train.log").read_text()
    assert "S RMSE" in log


def test_stress_metrics_are_the_errors_of_the_predictions():
    """Stress RMSE over the 9 components; virial error = V x stress error per atom."""
    import torch

    from gaunt_md.train.metrics import ErrorAccumulator

    acc = ErrorAccumulator()
    ds = torch.tensor([[[1e-3, 0, 0], [0, 0, 0], [0, 0, 2e-3]], [[0, 0, 0], [0, 5e-3, 0], [0, 0, 0]]],
                      dtype=torch.float64)
    zeros = torch.zeros(2, dtype=torch.float64)
    acc.add(zeros, zeros, torch.tensor([2, 4]), pred_stress=ds, ref_stress=torch.zeros_like(ds),
            stress_mask=torch.tensor([True, True]), volume=torch.tensor([10.0, 20.0], dtype=torch.float64))
    out = acc.summary()
    assert out["s_rmse_meV_per_A3"] == pytest.approx(np.sqrt((1 + 4 + 25) / 18))
    assert out["v_mae_meV_per_atom"] == pytest.approx((1 * 5 + 2 * 5 + 5 * 5) / 18)


def test_card_shows_stress_and_test_metrics(stress_run, gaunt_md, tmp_path):
    assert gaunt_md("card", stress_run / "best.pt", "-o", tmp_path / "card.md") == 0
    card = (tmp_path / "card.md").read_text()
    assert "stress RMSE (meV/A^3)" in card and "virial RMSE (meV/atom)" in card
    assert "stress key `REF_stress`" in card
    assert "## Test metrics (4 frames" in card


def test_resuming_a_run_logged_before_stress_metrics(stress_config, gaunt_md, log_rows, tmp_path, no_plots):
    """A checkpoint whose history has no stress columns (and whose validation loss weighed energy
    and forces only): --resume goes on, log.csv gets the new columns, the best model counts afresh."""
    import json

    from gaunt_md.train.checkpoint import save_checkpoint

    config = stress_config(tmp_path, optim={"max_epochs": 2})
    assert gaunt_md("train", config, "--max-epochs", 1) == 0
    path = tmp_path / "run" / "last.pt"
    state = read_checkpoint(path)
    history = [{k: v for k, v in row.items() if not k.startswith(("s_", "v_"))} for row in json.loads(state["history"])]
    state = {k: v for k, v in state.items() if k not in ("valid_loss_terms", "format", "format_version")}
    save_checkpoint(path, {**state, "history": json.dumps(history)})
    assert gaunt_md("train", config, "--resume") == 0
    text = (tmp_path / "run" / "log.csv").read_text().splitlines()
    assert "s_rmse_meV_per_A3" in text[0] and len(text) == 3
    assert read_checkpoint(tmp_path / "run" / "best.pt")["epoch"] == 2
