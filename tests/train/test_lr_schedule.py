"""optim.scheduler `cosine`: the rate each epoch is a function of the epoch alone (so resume is
exact), it runs from lr to min_lr at max_epochs, stage two either restarts it from stage_two_lr
or (stage_two_lr null) lets it carry on, and `--lr` is refused rather than silently undone."""
from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from gaunt_md.train.schedule import cosine_lr


def _optim(**changes):
    base = dict(scheduler="cosine", lr=0.01, min_lr=1e-4, max_epochs=10, stage_two_epoch=None, stage_two_lr=None)
    return SimpleNamespace(**{**base, **changes})


def test_cosine_runs_from_lr_to_min_lr():
    o = _optim()
    rates = [cosine_lr(o, e) for e in range(11)]
    assert rates[0] == pytest.approx(0.01) and rates[10] == pytest.approx(1e-4)
    assert rates[5] == pytest.approx(0.5 * (0.01 + 1e-4))
    assert all(a > b for a, b in zip(rates, rates[1:])), rates
    assert rates[2] == pytest.approx(1e-4 + (0.01 - 1e-4) * 0.5 * (1 + math.cos(math.pi * 0.2)))


def test_stage_two_restarts_or_continues_the_cosine():
    carried = _optim(stage_two_epoch=6)
    assert [cosine_lr(carried, e) for e in range(10)] == [cosine_lr(_optim(), e) for e in range(10)]
    restarted = _optim(stage_two_epoch=6, stage_two_lr=0.002)
    assert cosine_lr(restarted, 5) == pytest.approx(cosine_lr(_optim(), 5))
    assert cosine_lr(restarted, 6) == pytest.approx(0.002)
    assert cosine_lr(restarted, 8) == pytest.approx(0.5 * (0.002 + 1e-4))


def test_plateau_has_no_epoch_schedule():
    assert cosine_lr(_optim(scheduler="plateau"), 3) is None


def test_training_follows_the_cosine(no_plots, write_config, gaunt_md, log_rows, tmp_path):
    """The logged rate of each epoch is the cosine's, through a stage-two switch that keeps it."""
    optim = {"scheduler": "cosine", "lr": 0.01, "min_lr": 0.001, "max_epochs": 4, "stage_two_epoch": 2,
             "stage_two_lr": None}
    assert gaunt_md("train", write_config(tmp_path, optim=optim)) == 0
    expected = [cosine_lr(_optim(**optim), e) for e in range(4)]
    assert [row["lr"] for row in log_rows(tmp_path / "run")] == pytest.approx(expected)


def test_lr_override_is_refused_under_cosine(no_plots, write_config, gaunt_md, tmp_path, capsys, monkeypatch):
    """Refused before any work: the data are not read, the run is left as it was."""
    from gaunt_md.train import trainer as trainer_module

    config = write_config(tmp_path, optim={"scheduler": "cosine", "max_epochs": 2})
    assert gaunt_md("train", config, "--max-epochs", 1) == 0
    before = (tmp_path / "run" / "last.pt").read_bytes()

    def refuse(*args, **kwargs):
        raise AssertionError("the data were read before --lr was refused")

    monkeypatch.setattr(trainer_module, "prepare_data", refuse)
    assert gaunt_md("train", config, "--resume", "--lr", 0.001) == 2
    assert "optim.scheduler plateau" in capsys.readouterr().err
    assert (tmp_path / "run" / "last.pt").read_bytes() == before


@pytest.mark.parametrize("optim, message", [
    ({"scheduler": "linear"}, "optim.scheduler must be plateau or cosine"),
    ({"scheduler": "cosine", "min_lr": 0.1}, "optim.min_lr must lie in [0, optim.lr]"),
])
def test_schedule_config_errors(optim, message, write_config, gaunt_md, tmp_path, capsys):
    assert gaunt_md("train", write_config(tmp_path, optim=optim)) == 2
    assert message in capsys.readouterr().err
