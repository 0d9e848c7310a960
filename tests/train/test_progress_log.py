"""Issue 20, point 7: no progress bars in a redirected log (or with --no-progress), a plain line
per epoch on stdout, and the same lines in OUTPUT_DIR/train.log."""
from __future__ import annotations

import io
import sys


def test_no_bars_when_stderr_is_not_a_terminal(no_plots, write_config, gaunt_md, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)   # as a user's shell has it
    assert gaunt_md("train", write_config(tmp_path, optim={"max_epochs": 2})) == 0
    out, err = capsys.readouterr()
    assert "\r" not in err and "it/s" not in err, err[:200]
    epochs = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert len(epochs) == 2
    log = (tmp_path / "run" / "train.log").read_text()
    assert "data: E0s from" in log and all(line in log for line in epochs)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_bars_on_a_terminal_unless_no_progress(no_plots, write_config, gaunt_md, tmp_path, monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert gaunt_md("train", write_config(tmp_path / "a", optim={"max_epochs": 1})) == 0
    assert "epoch 1" in terminal.getvalue()          # the bar of the first epoch
    terminal.seek(0)
    terminal.truncate()
    assert gaunt_md("train", write_config(tmp_path / "b", optim={"max_epochs": 1}), "--no-progress") == 0
    assert terminal.getvalue() == ""
