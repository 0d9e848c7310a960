"""`gaunt-md train`: outputs of a run, config errors, exact resume, early stopping, stage two,
both dtypes."""
from __future__ import annotations

import json

import pytest
import torch

from gaunt_md.train import read_checkpoint
from gaunt_md.train import trainer as trainer_module

METRIC_COLUMNS = ["e_rmse_meV", "e_mae_meV", "e_rmse_meV_per_atom", "e_mae_meV_per_atom",
                  "f_rmse_meV_per_A", "f_mae_meV_per_A"]


def test_run_writes_log_plot_checkpoints_and_config(trained_run, log_rows):
    rows = log_rows(trained_run)
    assert [row["epoch"] for row in rows] == [1, 2, 3]
    for row in rows:
        for column in METRIC_COLUMNS + ["train_loss", "valid_loss", "lr", "wall_s"]:
            assert column in row and row[column] == row[column], f"{column} missing or NaN"
        assert row["e_mae_meV"] <= row["e_rmse_meV"] and row["f_mae_meV_per_A"] <= row["f_rmse_meV_per_A"]
        assert row["f_rmse_meV_per_A"] > 0
    png = (trained_run / "learning_curve.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 1000
    config = json.loads((trained_run / "config.json").read_text())
    assert config["model"]["channels"] == 4 and config["optim"]["max_epochs"] == 3
    last = read_checkpoint(trained_run / "last.pt")
    best = read_checkpoint(trained_run / "best.pt")
    assert last["epoch"] == 3 and last["dtype"] == "float64"
    assert best["best"] == pytest.approx(rows[best["epoch"] - 1]["valid_loss"])
    model_state = last["model_state"]
    assert all(v.dtype == torch.float64 for v in model_state.values() if v.is_floating_point())


def test_parameters_change_during_training(trained_run, write_config, tmp_path):
    """The checkpointed weights differ from a fresh model of the same seed."""
    from gaunt_md.train.config import load_config
    from gaunt_md.train.dataset import prepare_data
    from gaunt_md.train.trainer import build_model

    cfg = load_config(write_config(tmp_path))
    torch.manual_seed(cfg.seed)
    fresh = build_model(cfg, prepare_data(cfg, log=lambda *_: None)).state_dict()
    trained = read_checkpoint(trained_run / "last.pt")["model_state"]
    changed = [name for name in fresh if not torch.equal(fresh[name], trained[name])]
    assert changed, "training did not change any parameter"


@pytest.mark.parametrize("changes, message", [
    ({"optim": {"lrr": 0.1}}, "unknown option(s) in optim: lrr"),
    ({"bogus": 1}, "unknown option(s) in the top level: bogus"),
    ({"data": {"train_file": ""}}, "data.train_file is required"),
    ({"dtype": "float16"}, "dtype must be float32 or float64"),
    ({"valid_dtype": "half"}, "valid_dtype must be float32 or float64"),
    ({"data": {"train_file": "/nonexistent/train.xyz"}}, "/nonexistent/train.xyz"),
    ({"optim": {"optimizer": "sgd"}}, "optimizer must be adam or amsgrad"),
])
def test_config_errors_exit_2_with_message(changes, message, write_config, gaunt_md, tmp_path, capsys):
    config = write_config(tmp_path, **changes)
    assert gaunt_md("train", config) == 2
    err = capsys.readouterr().err
    assert err.startswith("gaunt-md train: error:") and message in err
    assert "Traceback" not in err


def test_missing_and_malformed_config_file(gaunt_md, tmp_path, capsys):
    assert gaunt_md("train", tmp_path / "absent.yaml") == 2
    assert "config file not found" in capsys.readouterr().err
    broken = tmp_path / "broken.yaml"
    broken.write_text("data: {train_file: [unclosed\n")
    assert gaunt_md("train", broken) == 2
    err = capsys.readouterr().err
    assert str(broken) in err and "YAML" in err
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just a string\n")
    assert gaunt_md("train", scalar) == 2
    assert "expected a YAML mapping" in capsys.readouterr().err


def test_resume_without_checkpoint_is_an_error(write_config, gaunt_md, tmp_path, capsys):
    assert gaunt_md("train", write_config(tmp_path), "--resume") == 2
    assert "--resume: no checkpoint" in capsys.readouterr().err


def _assert_same_tensors(a: dict, b: dict, what: str) -> None:
    assert a.keys() == b.keys(), what
    for name in a:
        assert torch.equal(a[name], b[name]), f"{what}: {name} differs"


@pytest.mark.parametrize("scheduler", ["plateau", "cosine"])
def test_resume_continues_exactly(scheduler, no_plots, write_config, gaunt_md, log_rows, tmp_path):
    """4 epochs in one go == 2 epochs, stop, --resume to 4: same weights, EMA, optimizer
    moments and log rows (wall time aside).  The run crosses a stage-two switch (epoch 3) and
    LR reductions (scheduler patience 0, or the cosine) so every piece of resumable state matters."""
    changes = {"optim": {"max_epochs": 4, "scheduler_patience": 0, "stage_two_epoch": 3,
                         "stage_two_lr": 0.003, "scheduler": scheduler}}
    straight = write_config(tmp_path / "straight", **changes)
    assert gaunt_md("train", straight) == 0
    split = write_config(tmp_path / "split", **changes)
    # stopped by the time limit, not --max-epochs: that would shorten the cosine's horizon
    assert gaunt_md("train", split, "--time-limit", 0) == 0
    assert gaunt_md("train", split, "--resume", "--time-limit", 0) == 0
    assert len(log_rows(tmp_path / "split" / "run")) == 2
    assert gaunt_md("train", split, "--resume") == 0

    a = read_checkpoint(tmp_path / "straight" / "run" / "last.pt")
    b = read_checkpoint(tmp_path / "split" / "run" / "last.pt")
    assert a["epoch"] == b["epoch"] == 4
    _assert_same_tensors(a["model_state"], b["model_state"], "model")
    _assert_same_tensors(a["ema_state"], b["ema_state"], "EMA")
    for sa, sb in zip(a["optimizer_state"]["state"].values(), b["optimizer_state"]["state"].values()):
        _assert_same_tensors(sa, sb, "optimizer state")
    assert a["optimizer_state"]["param_groups"] == b["optimizer_state"]["param_groups"]
    assert a["scheduler_state"] == b["scheduler_state"]
    assert (a["best"], a["stale"]) == (b["best"], b["stale"])

    rows_a, rows_b = log_rows(tmp_path / "straight" / "run"), log_rows(tmp_path / "split" / "run")
    strip = lambda rows: [{k: v for k, v in row.items() if k != "wall_s"} for row in rows]
    assert strip(rows_a) == strip(rows_b)
    assert len({row["lr"] for row in rows_a}) > 1, "the test should exercise LR changes"


def test_time_limit_stops_after_an_epoch_and_resumes(no_plots, write_config, gaunt_md, log_rows, tmp_path, capsys):
    """--time-limit 0: one epoch runs (the limit is checked between epochs), the run stops with a
    checkpoint and says how to go on; --resume then finishes the remaining epochs."""
    config = write_config(tmp_path, optim={"max_epochs": 3})
    assert gaunt_md("train", config, "--time-limit", 0) == 0
    assert "time limit" in capsys.readouterr().out
    assert [row["epoch"] for row in log_rows(tmp_path / "run")] == [1]
    assert read_checkpoint(tmp_path / "run" / "last.pt")["epoch"] == 1
    assert gaunt_md("train", config, "--resume") == 0
    assert [row["epoch"] for row in log_rows(tmp_path / "run")] == [1, 2, 3]


def test_lr_override_on_resume(no_plots, write_config, gaunt_md, log_rows, tmp_path):
    config = write_config(tmp_path, optim={"max_epochs": 2, "lr": 0.01})
    assert gaunt_md("train", config, "--max-epochs", 1) == 0
    assert gaunt_md("train", config, "--resume", "--lr", 0.00025) == 0
    rows = log_rows(tmp_path / "run")
    assert float(rows[0]["lr"]) == 0.01 and float(rows[1]["lr"]) == 0.00025


def test_lr_override_restarts_the_plateau_count_but_keeps_the_best(no_plots, write_config, tmp_path):
    """A re-warmed LR must not be cut back at once for not beating the loss reached at the lower
    rate, while best.pt still only changes when the validation loss improves on it."""
    from gaunt_md.train.config import load_config

    cfg = load_config(write_config(tmp_path, num_threads=None, optim={"lr": 0.0, "max_epochs": 3}))
    trainer = trainer_module.Trainer(cfg, log=lambda *_: None)
    trainer.run()
    assert trainer.scheduler.num_bad_epochs == 2 and trainer.stale == 2
    best = trainer.best
    resumed = trainer_module.Trainer(cfg, resume=True, log=lambda *_: None)
    resumed.set_lr(0.002)
    assert resumed.scheduler.num_bad_epochs == 0 and resumed.scheduler.best == float("inf")
    assert resumed.best == best and resumed.stale == 2
    assert all(group["lr"] == 0.002 for group in resumed.optimizer.param_groups)


def test_resume_keeps_the_early_stopping_count(no_plots, write_config, gaunt_md, log_rows, tmp_path):
    """lr 0, patience 3: epochs 2, 3, 4 do not improve, so the run stops after epoch 4 whether
    or not it was interrupted after epoch 2 (one stale epoch already counted)."""
    changes = {"optim": {"lr": 0.0, "max_epochs": 10, "early_stopping_patience": 3}}
    straight = write_config(tmp_path / "straight", **changes)
    assert gaunt_md("train", straight) == 0
    split = write_config(tmp_path / "split", **changes)
    assert gaunt_md("train", split, "--max-epochs", 2) == 0
    assert gaunt_md("train", split, "--resume") == 0
    for run in ("straight", "split"):
        assert [row["epoch"] for row in log_rows(tmp_path / run / "run")] == [1, 2, 3, 4], run


def test_early_stopping_with_zero_lr(no_plots, write_config, gaunt_md, log_rows, tmp_path, capsys):
    """lr 0: the validation loss never improves after epoch 1, so patience 1 stops at epoch 2."""
    config = write_config(tmp_path, optim={"lr": 0.0, "max_epochs": 10, "early_stopping_patience": 1})
    assert gaunt_md("train", config) == 0
    rows = log_rows(tmp_path / "run")
    assert [row["epoch"] for row in rows] == [1, 2]
    assert rows[0]["valid_loss"] == rows[1]["valid_loss"]
    assert "early stopping" in capsys.readouterr().out
    assert read_checkpoint(tmp_path / "run" / "best.pt")["epoch"] == 1


def test_stage_two_switches_weights_and_lr(no_plots, write_config, tmp_path, monkeypatch):
    """From stage_two_epoch (0-based count of finished epochs) on, the training loss uses the
    stage-two weights, the LR is reset to stage_two_lr, and the validation loss is weighted the
    same way."""
    from gaunt_md.train.config import load_config

    seen = []
    real_loss = trainer_module.weighted_loss

    def recording_loss(pred, batch, energy_weight, forces_weight, stress_weight):
        seen.append((energy_weight, forces_weight))
        return real_loss(pred, batch, energy_weight, forces_weight, stress_weight)

    monkeypatch.setattr(trainer_module, "weighted_loss", recording_loss)
    cfg = load_config(write_config(tmp_path, num_threads=None, optim={
        "lr": 0.01, "energy_weight": 2.0, "forces_weight": 50.0, "stage_two_epoch": 1,
        "stage_two_energy_weight": 700.0, "stage_two_forces_weight": 30.0, "stage_two_lr": 0.004,
        "max_epochs": 2}))
    trainer = trainer_module.Trainer(cfg, log=lambda *_: None)
    trainer.run()
    steps_per_epoch = 2  # 8 training frames, batch size 4
    assert seen == [(2.0, 50.0)] * steps_per_epoch + [(700.0, 30.0)] * steps_per_epoch
    first, second = trainer.history
    assert first["lr"] == 0.01 and second["lr"] == 0.004
    for row, (we, wf) in [(first, (2.0, 50.0)), (second, (700.0, 30.0))]:
        expected = we * (row["e_rmse_meV_per_atom"] / 1000) ** 2 + wf * (row["f_rmse_meV_per_A"] / 1000) ** 2
        assert row["valid_loss"] == pytest.approx(expected, rel=1e-12)


def test_best_is_reset_at_stage_two(trained_run, log_rows):
    """Validation losses of the two stages use different weights and are not comparable: the
    first stage-two epoch must become the new best (MACE does the same)."""
    rows = log_rows(trained_run)
    best = read_checkpoint(trained_run / "best.pt")
    stage_two_rows = [row for row in rows if row["epoch"] > 2]
    assert best["epoch"] >= 3
    assert best["best"] == pytest.approx(min(row["valid_loss"] for row in stage_two_rows))


def test_float32_trains(no_plots, write_config, gaunt_md, log_rows, tmp_path):
    """(float64 is the default of the other runs.)"""
    config = write_config(tmp_path, dtype="float32", optim={"max_epochs": 1})
    assert gaunt_md("train", config) == 0
    state = read_checkpoint(tmp_path / "run" / "last.pt")
    assert state["dtype"] == "float32"
    assert all(v.dtype == torch.float32 for v in state["model_state"].values() if v.is_floating_point())
    row, = log_rows(tmp_path / "run")
    assert all(row[c] == row[c] and row[c] < float("inf") for c in METRIC_COLUMNS)


@pytest.mark.parametrize("valid_dtype", ["float64", "float32"])
def test_validation_runs_in_valid_dtype(valid_dtype, no_plots, write_config, gaunt_md, log_rows, tmp_path):
    """A float32 run logs what its EMA weights predict in `valid_dtype` on labels kept in float64
    (a float32 label alone is off by ~1e-3 of an energy), at every epoch, not only the first."""
    from gaunt_md.train.config import load_config
    from gaunt_md.train.dataset import prepare_data
    from gaunt_md.train.evaluate import evaluate
    from gaunt_md.train.trainer import build_model

    config = write_config(tmp_path, dtype="float32", valid_dtype=valid_dtype, optim={"max_epochs": 2})
    assert gaunt_md("train", config) == 0
    row = log_rows(tmp_path / "run")[-1]  # epoch 2: the validation model gets new weights each epoch
    cfg = load_config(config)
    cfg.dtype = valid_dtype
    data = prepare_data(cfg, log=lambda *_: None)
    assert all(g.energy.dtype == torch.float64 for g in data.valid)
    model = build_model(cfg, data)
    model.load_state_dict(read_checkpoint(tmp_path / "run" / "last.pt")["ema_model_state"])
    dtype = getattr(torch, valid_dtype)
    expected = evaluate(model.to(dtype), data.valid, 4, "cpu", dtype)["metrics"]
    for column in METRIC_COLUMNS:
        assert row[column] == pytest.approx(expected[column], rel=1e-9), column


def test_resume_with_new_loss_weights_restarts_the_bookkeeping(no_plots, write_config, gaunt_md, log_rows,
                                                               tmp_path, capsys):
    """Resuming under other loss weights (a further fine-tuning stage): the first epoch after the
    change becomes the new best, whatever the old validation losses were."""
    config = write_config(tmp_path, optim={"max_epochs": 2})
    assert gaunt_md("train", config, "--max-epochs", 1) == 0
    capsys.readouterr()
    heavier = write_config(tmp_path, optim={"max_epochs": 2, "energy_weight": 1e6})
    assert gaunt_md("train", heavier, "--resume") == 0
    assert "loss weights changed since the checkpoint" in capsys.readouterr().out
    rows = log_rows(tmp_path / "run")
    assert rows[1]["valid_loss"] > rows[0]["valid_loss"], "the heavier energy weight should raise the loss"
    best = read_checkpoint(tmp_path / "run" / "best.pt")
    assert best["epoch"] == 2 and best["best"] == pytest.approx(rows[1]["valid_loss"])


def test_best_model_last_keeps_the_last_epoch_whatever_the_validation_loss(no_plots, write_config, gaunt_md,
                                                                           log_rows, tmp_path):
    """best_model: last (fine-tuning on frames unlike the validation ones): best.pt, and so the
    export and the test metrics, is the last epoch even where an earlier one validated better;
    the validation loss still drives the LR plateau and early stopping."""
    config = write_config(tmp_path, optim={"max_epochs": 3, "best_model": "last"})
    assert gaunt_md("train", config, "--max-epochs", 2) == 0
    assert gaunt_md("train", config, "--resume", "--lr", 100) == 0   # a wrecking step: epoch 3 is worse
    rows = log_rows(tmp_path / "run")
    best = read_checkpoint(tmp_path / "run" / "best.pt")
    last = read_checkpoint(tmp_path / "run" / "last.pt")
    assert min(rows, key=lambda row: row["valid_loss"])["epoch"] < 3, "the case needs an earlier, better epoch"
    assert best["epoch"] == last["epoch"] == 3
    assert best["best"] == pytest.approx(min(row["valid_loss"] for row in rows))
    for key, value in last["ema_model_state"].items():
        torch.testing.assert_close(best["ema_model_state"][key], value, rtol=0, atol=0)


def test_init_from_a_power_basis_run_with_factors(trained_run, write_config, tmp_path):
    """A factor-product model started from a power-basis checkpoint predicts what that
    checkpoint's (EMA) model predicts: the shared weights and their Adam moments are copied, the
    new factor maps start as the identity with fresh moments.  A model option that changes a shared shape is a clear error."""
    from gaunt_md.train.checkpoint import model_from_checkpoint
    from gaunt_md.train.config import load_config

    source = trained_run / "best.pt"
    cfg = load_config(write_config(tmp_path, num_threads=None, init_from=str(source),
                                   model={"product_basis": "factors"}))
    trainer = trainer_module.Trainer(cfg, log=lambda *_: None)
    reference = model_from_checkpoint(source)
    batch = next(iter(trainer_module.batches(trainer.data.valid, 4, torch.Generator().manual_seed(0))))
    ours, theirs = trainer.model(batch.inputs(), compute_forces=True), reference(batch.inputs(), compute_forces=True)
    torch.testing.assert_close(ours["energy"], theirs["energy"], rtol=1e-12, atol=1e-10)
    torch.testing.assert_close(ours["forces"], theirs["forces"], rtol=1e-10, atol=1e-10)

    saved = read_checkpoint(source)["optimizer_state"]["state"]
    names = [name for name, _ in reference.named_parameters()]
    for name, param in trainer.model.named_parameters():
        if name in names:
            torch.testing.assert_close(trainer.optimizer.state[param]["exp_avg_sq"],
                                       saved[names.index(name)]["exp_avg_sq"], rtol=0, atol=0)
        else:
            assert "factor_weights" in name and param not in trainer.optimizer.state

    wider = load_config(write_config(tmp_path / "wider", num_threads=None, init_from=str(source),
                                     model={"channels": 6}))
    with pytest.raises(ValueError, match="different shapes"):
        trainer_module.Trainer(wider, log=lambda *_: None)


def test_init_from_keeps_the_source_normalisation_on_new_data(trained_run, write_config, dataset, tmp_path):
    """A warm start on more data (here: compressed frames with 3x the forces, as hot MD frames
    bring) keeps the source model's average neighbour count and data scale, so it predicts what
    the source predicts; from scratch the same data would give other constants.  (The radial
    floor is pinned here: `auto` follows the new data's closest pairs, which is the point of it.)"""
    import ase.io
    from ase.calculators.singlepoint import SinglePointCalculator
    from gaunt_md.train.checkpoint import model_from_checkpoint
    from gaunt_md.train.config import load_config

    hot = ase.io.read(dataset["train"], ":")
    for atoms in hot:
        energy, forces = atoms.get_potential_energy(), 3.0 * atoms.get_forces()
        atoms.positions *= 0.8
        atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces)
    extra = tmp_path / "hot.xyz"
    ase.io.write(extra, hot, format="extxyz")
    source = trained_run / "best.pt"
    start = read_checkpoint(source)["model_config"]
    warm = load_config(write_config(tmp_path / "warm", num_threads=None, init_from=str(source),
                                    data={"extra_train_files": [str(extra)]},
                                    model={"radial_floor": start["radial_floor"]}))
    trainer = trainer_module.Trainer(warm, log=lambda *_: None)
    for key in ("avg_num_neighbors", "scale", "shift"):
        assert trainer.model.config[key] == start[key]
    assert trainer.data.avg_num_neighbors != pytest.approx(start["avg_num_neighbors"])
    assert trainer.data.scale != pytest.approx(start["scale"])
    reference = model_from_checkpoint(source)
    batch = next(iter(trainer_module.batches(trainer.data.valid, 4, torch.Generator().manual_seed(0))))
    torch.testing.assert_close(trainer.model(batch.inputs())["energy"], reference(batch.inputs())["energy"],
                               rtol=1e-12, atol=1e-10)
