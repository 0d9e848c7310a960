"""End to end with a tiny random model: runs, summary.json, report.md, PNGs, trajectories."""
from __future__ import annotations

import json

import numpy as np
import pytest
from ase.io import read, write

from gaunt_md.md import EngineUnavailable, ProtocolConfig, get_engine, run_one
from gaunt_md.md.cli import main
from tests.fixtures import shaken_copies

SUMMARY_KEYS = {"format", "format_version", "gaunt_md_version", "engine", "system", "protocol", "all_stable",
                "temperatures", "files"}
TEMPERATURE_KEYS = {
    "temperature_K", "runs", "runs_stable", "stable_fraction", "run_length_ps", "time_to_failure_ps_mean",
    "time_to_failure_ps_min", "time_to_failure_ps_mean_failed", "failures", "bond_deviation_mean_A",
    "bond_deviation_max_A", "temperature_mean_K", "energy_drift_mev_atom_ps", "energy_drift_abs_max_mev_atom_ps",
    "ms_per_step", "run_details",
}
RUN_KEYS = {"run", "seed", "start", "stable", "steps", "time_to_failure_ps", "failure", "temperature_mean_K",
            "bond_deviation_mean_A", "bond_deviation_max_A", "energy_drift_mev_atom_ps", "wall_s", "ms_per_step",
            "trajectory"}
PNGS = ["temperature_energy.png", "bond_deviation.png", "bond_lengths.png"]


def test_end_to_end_nvt(tiny_model_path, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["--model", str(tiny_model_path), "--temperatures", "300", "--runs", "1", "--time-ps", "0.004",
               "--device", "cpu", "--out", str(out), "--traj-every", "4", "--no-progress", "--jobs", "1"])
    assert rc == 0
    summary = json.loads((out / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(summary)
    assert summary["system"] == {"name": "3BPA", "formula": "C12H12N2O", "n_atoms": 27,
                                 "start": summary["system"]["start"], "n_bonds": 28}
    assert summary["protocol"]["n_steps"] == 8 and summary["protocol"]["ensemble"] == "nvt"
    (t,) = summary["temperatures"]
    assert TEMPERATURE_KEYS <= set(t) and t["temperature_K"] == 300 and t["runs"] == 1
    (run,) = t["run_details"]
    assert RUN_KEYS <= set(run)
    assert t["energy_drift_mev_atom_ps"] is None                      # Langevin: no drift
    assert 0 < run["time_to_failure_ps"] <= 0.004
    assert run["stable"] == (run["failure"] is None)
    report = (out / "report.md").read_text()
    assert "MD stability of 3BPA" in report and "| 300 |" in report
    for png in PNGS:
        assert (out / png).read_bytes()[:4] == b"\x89PNG"
        assert f"]({png})" in report
    frames = read(out / "trajectories" / "T300K_run0.extxyz", index=":")
    assert [f.info["step"] for f in frames][:3] == [0, 4, 8]
    assert frames[0].get_chemical_formula() == "C12H12N2O"
    printed = capsys.readouterr().out
    assert "T (K)" in printed and "TTF mean (ps)" in printed


def test_nve_from_dataset_frames_reports_drift(tiny_model_path, tmp_path, start_3bpa):
    frames = shaken_copies(start_3bpa, 4, seed=3, energy=lambda k: -1.0 * k)   # labels are ignored
    data = tmp_path / "frames.xyz"
    write(data, frames, format="extxyz")
    out = tmp_path / "nve"
    rc = main(["--model", str(tiny_model_path), "--temperatures", "600", "--runs", "2", "--time-ps", "0.0015",
               "--ensemble", "nve", "--data", str(data), "--device", "cpu", "--out", str(out), "--traj-every", "0", "--jobs", "1",
               "--no-progress"])
    assert rc == 0
    summary = json.loads((out / "summary.json").read_text())
    (t,) = summary["temperatures"]
    assert [r["start"] for r in t["run_details"]] == ["frames.xyz[0]", "frames.xyz[2]"]
    assert summary["system"]["name"] == "C12H12N2O"
    for r in t["run_details"]:
        if r["steps"] >= 2:
            assert r["energy_drift_mev_atom_ps"] is not None
        assert r["trajectory"] is None
    assert not (out / "trajectories").exists()


def test_runs_are_reproducible_and_seeds_differ(tiny_model_path, start_3bpa):
    engine = get_engine("ase")
    config = ProtocolConfig(model=str(tiny_model_path), temperatures=[300.0], runs=2, time_ps=0.001, device="cpu")
    a = run_one(engine, start_3bpa, "x", config, 300.0, 0, progress=False)
    b = run_one(engine, start_3bpa, "x", config, 300.0, 0, progress=False)
    c = run_one(engine, start_3bpa, "x", config, 300.0, 1, progress=False)
    assert a.temperature == b.temperature and a.potential_energy == b.potential_energy
    assert a.seed != c.seed and a.temperature != c.temperature


def test_missing_model_is_a_clear_error(tmp_path, capsys):
    rc = main(["--model", str(tmp_path / "nope.pt"), "--out", str(tmp_path / "o")])
    assert rc == 2 and "model not found" in capsys.readouterr().err


def test_lammps_engine_unavailable_is_explained(tmp_path, capsys, monkeypatch):
    from gaunt_md.md.engines import lammps_engine

    monkeypatch.setattr(lammps_engine, "have_lammps", lambda: False)
    with pytest.raises(EngineUnavailable, match="--engine ase"):
        get_engine("lammps")
    assert isinstance(EngineUnavailable("x"), NotImplementedError)
    rc = main(["--engine", "lammps", "--out", str(tmp_path / "o")])
    assert rc == 2 and "lammps" in capsys.readouterr().err


def test_gaunt_md_cli_has_md_stability():
    from gaunt_md.cli import build_parser

    args = build_parser().parse_args(["md-stability", "--temperatures", "300,600", "900", "--runs", "3", "--full"])
    assert args.func.__name__ == "_md_stability" and args.runs == 3 and args.full
    assert [t for g in args.temperatures for t in g] == [300.0, 600.0, 900.0]


def test_parallel_runs_match_serial(tiny_model_path, start_3bpa):
    from gaunt_md.md import run_protocol

    config = ProtocolConfig(model=str(tiny_model_path), temperatures=[600.0], runs=2, time_ps=0.001, device="cpu",
                            traj_every=0)
    starts = [("x", start_3bpa), ("x", start_3bpa)]
    serial = run_protocol("ase", starts, config, progress=False, jobs=1)
    parallel = run_protocol("ase", starts, config, progress=False, jobs=2)
    assert [(r.temperature_K, r.run) for r in parallel] == [(600.0, 0), (600.0, 1)]
    for a, b in zip(serial, parallel):
        assert a.temperature == b.temperature and a.potential_energy == b.potential_energy
