"""Ctrl-C in `gaunt-md train`: a resumable checkpoint, the command to resume, exit 130; and
an interrupted epoch is dropped, so --resume continues exactly."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from gaunt_md.train import read_checkpoint


def test_ctrl_c_saves_a_checkpoint_says_how_to_resume_and_exits_130(write_config, gaunt_md, log_rows, tmp_path):
    config = write_config(tmp_path, optim={"max_epochs": 100_000, "early_stopping_patience": 100_000})
    run = tmp_path / "run"
    environment = {**os.environ, "TQDM_DISABLE": "1"}
    process = subprocess.Popen([sys.executable, "-m", "gaunt_md.cli", "train", str(config)], env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    while not (run / "log.csv").exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert process.poll() is None, process.communicate()
    process.send_signal(signal.SIGINT)
    try:
        out, err = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == 130, (out, err)
    assert "Traceback" not in err, err
    assert f"Continue with: gaunt-md train {config} --resume" in err
    epoch = read_checkpoint(run / "last.pt")["epoch"]
    assert epoch >= 1 and [row["epoch"] for row in log_rows(run)] == list(range(1, epoch + 1))
    assert gaunt_md("train", config, "--resume", "--max-epochs", epoch + 1) == 0
    assert read_checkpoint(run / "last.pt")["epoch"] == epoch + 1


def test_interrupted_epoch_is_dropped_and_resume_is_exact(no_plots, write_config, tmp_path):
    """stop() turns True inside epoch 2: last.pt holds epoch 1; resuming to 2 epochs gives the
    weights of an uninterrupted 2-epoch run.  Inside epoch 1: last.pt holds the initial state."""
    from gaunt_md.train.config import load_config
    from gaunt_md.train.trainer import Trainer

    quiet = lambda *_: None  # noqa: E731

    def trainer(directory, resume=False):
        cfg = load_config(write_config(directory, optim={"max_epochs": 2}))
        return Trainer(cfg, resume=resume, log=quiet)

    reference = trainer(tmp_path / "reference")
    reference.run()
    for stop_at, saved_epoch in ((5, 1), (1, 0)):         # batches per epoch: 2 (8 frames, batch 4)
        calls = []

        def stop():
            calls.append(1)
            return len(calls) >= stop_at

        interrupted = trainer(tmp_path / f"stop{stop_at}")
        interrupted.run(stop=stop)
        assert interrupted.interrupted
        run = tmp_path / f"stop{stop_at}" / "run"
        assert read_checkpoint(run / "last.pt")["epoch"] == saved_epoch
        resumed = trainer(tmp_path / f"stop{stop_at}", resume=True)
        resumed.run()
        assert not resumed.interrupted and resumed.epoch == 2
        for name, value in reference.model.state_dict().items():
            assert torch.equal(value, resumed.model.state_dict()[name]), name
