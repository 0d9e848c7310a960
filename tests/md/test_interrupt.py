"""Ctrl-C (SIGINT) in `python examples/md_3bpa.py`, with worker processes (the default) and
with --jobs 1: it stops within seconds, cancels the runs not started, writes summary.json,
report.md and the plots of what ran (the runs in progress marked interrupted, never failed)
and exits with 130."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixtures import TINY, write_checkpoint

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "examples" / "md_3bpa.py"


@pytest.fixture(scope="module")
def gentle_model(tmp_path_factory) -> Path:
    """A tiny model with forces of ~1e-6 eV/A: at 0.01 K the molecule barely moves, so no run
    fails (or ends) before the interrupt, which must find runs in progress and runs queued."""
    from gaunt_md.deploy.export import export_model
    from gaunt_md.nn import GauntMACE, ModelConfig

    root = tmp_path_factory.mktemp("gentle")
    model = GauntMACE(ModelConfig(**dict(TINY, scale=1e-6, shift=0.0, gaunt_method="grid")))
    export_model(write_checkpoint(root / "gentle.ckpt", model), root / "gentle.pt")
    return root / "gentle.pt"


def _started(out: Path) -> bool:
    """The first run has written its step-0 frame (the model is loaded and stepping)."""
    trajectories = list((out / "trajectories").glob("*.extxyz")) if (out / "trajectories").exists() else []
    return any(t.stat().st_size > 0 for t in trajectories)


def interrupt_run(model: Path, out: Path, jobs: int) -> tuple:
    command = [sys.executable, str(SCRIPT), "--model", str(model), "--temperatures", "0.01,0.02", "--runs", "2",
               "--time-ps", "50", "--device", "cpu", "--out", str(out), "--no-progress", "--traj-every", "10",
               "--jobs", str(jobs)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 240
    while not _started(out) and process.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert process.poll() is None, process.communicate()[0]
    time.sleep(1.0)                        # some steps into the run(s)
    process.send_signal(signal.SIGINT)
    sent = time.time()
    try:
        output, _ = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return process.returncode, output, time.time() - sent


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [2, 1])
def test_ctrl_c_writes_what_ran_and_exits_130(jobs, gentle_model, tmp_path):
    out = tmp_path / "out"
    rc, output, seconds = interrupt_run(gentle_model, out, jobs)
    assert rc == 130, output
    assert "Traceback" not in output, output
    assert seconds < 60, f"took {seconds:.0f} s to stop"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["all_stable"] is False
    runs = [r for t in summary["temperatures"] for r in t["run_details"]]
    interrupted = [r for r in runs if r["interrupted"]]
    assert len(interrupted) == len(runs) == jobs            # the runs in progress, nothing else
    for r in interrupted:
        assert r["failure"] is None and r["stable"] is False and 0 < r["steps"] < 100_000
    assert all(t["failures"] == {} for t in summary["temperatures"])      # not blamed on the potential
    assert len(summary["runs_not_started"]) == 4 - jobs                 # the queue was cancelled
    report = (out / "report.md").read_text()
    assert "**Interrupted** (Ctrl-C)" in report and "| interrupted |" in report
    assert (out / "temperature_energy.png").exists()
    assert "INTERRUPTED" in output
