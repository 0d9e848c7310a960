"""The stability command line checks every option before it prints its header or writes a
file: a bad value is one clear error line naming the option, exit code 2, no output folder."""
from __future__ import annotations

import pytest
from ase import Atoms
from ase.io import write

from gaunt_md.cli import main as gaunt_md_main
from gaunt_md.md.cli import main

from fixtures import rewrite_metadata


def _files(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a geometry\n")
    sulfur = tmp_path / "h2s.xyz"
    write(sulfur, Atoms("SH2", positions=[[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]]))
    fake_model = tmp_path / "model.pt"
    fake_model.write_text("not a model\n")
    return {"text": text, "sulfur": sulfur, "fake_model": fake_model, "dir": tmp_path}


CASES = {
    "timestep_zero": (["--timestep-fs", "0"], "--timestep-fs must be a positive number"),
    "timestep_negative": (["--timestep-fs", "-0.5"], "--timestep-fs must be a positive number"),
    "timestep_nan": (["--timestep-fs", "nan"], "--timestep-fs must be a positive number"),
    "friction_negative": (["--friction", "-1"], "--friction must be a non-negative number"),
    "friction_zero_nvt": (["--friction", "0"], "use --ensemble nve"),
    "time_inf": (["--time-ps", "inf"], "--time-ps must be a positive number"),
    "runs_zero": (["--runs", "0"], "--runs must be >= 1"),
    "start_not_geometry": (["--start", "{text}"], "--start {text} cannot be read as a geometry"),
    "start_directory": (["--start", "{dir}"], "is a directory"),
    "data_not_geometry": (["--data", "{text}"], "--data {text} cannot be read as a geometry"),
    "model_not_a_model": (["--model", "{fake_model}"], "--model: {fake_model} is not a gaunt-md model"),
    "model_missing": (["--model", "{dir}/none.pt"], "model not found"),
    "model_elements": (["--model", "{model}", "--start", "{sulfur}"], "does not know the element(s) S"),
    "model_edited": (["--model", "{edited_model}"], "metadata says r_max = 3.0"),
    "device": (["--device", "tpu:x"], "--device"),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("command", ["md_3bpa", "gaunt-md"])
def test_bad_options_fail_before_any_work(case, command, tmp_path, capsys, tiny_model_path):
    files = {k: str(v) for k, v in _files(tmp_path).items()}
    files["model"] = str(tiny_model_path)
    files["edited_model"] = str(rewrite_metadata(tiny_model_path, tmp_path / "edited.pt", r_max=3.0))
    args, expected = CASES[case]
    args = [a.format(**files) for a in args]
    out = tmp_path / "out"
    common = ["--out", str(out), "--no-progress", "--jobs", "1"]
    rc = main(args + common) if command == "md_3bpa" else gaunt_md_main(["md-stability"] + args + common)
    captured = capsys.readouterr()
    assert rc == 2, captured
    assert expected.format(**files) in captured.err, captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""                 # no header
    assert not out.exists()                   # no folder, no trajectory files
