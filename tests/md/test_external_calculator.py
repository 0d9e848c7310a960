"""--calculator: the stability protocol runs any ASE calculator a factory returns (a baseline
such as mace-torch, through benchmarks/mace_socket.py), in every MD process."""
from __future__ import annotations

import json

import numpy as np
import pytest

from gaunt_md.md import MDSettings, ProtocolConfig, get_engine, run_one
from gaunt_md.md.cli import main
from gaunt_md.md.engines.external import calculator_factory


def test_a_factory_calculator_gives_the_same_dynamics(tiny_model_path, start_3bpa, foreign_calculator_file):
    """The same model behind a foreign calculator class: the same trajectory as the built-in
    path, and every step went through the factory's calculator."""
    engine = get_engine("ase")
    plain = ProtocolConfig(model=str(tiny_model_path), temperatures=[600.0], runs=1, time_ps=0.002, device="cpu")
    foreign = ProtocolConfig(model=str(tiny_model_path), temperatures=[600.0], runs=1, time_ps=0.002, device="cpu",
                             calculator=f"{foreign_calculator_file}:make")
    a = run_one(engine, start_3bpa, "x", plain, 600.0, 0, progress=False)
    b = run_one(engine, start_3bpa, "x", foreign, 600.0, 0, progress=False)
    assert len(a.potential_energy) == len(b.potential_energy) > 1
    np.testing.assert_allclose(b.potential_energy, a.potential_energy, rtol=1e-12)
    np.testing.assert_allclose(b.temperature, a.temperature, rtol=1e-12)
    calc = engine.calculator(MDSettings(model=str(tiny_model_path), temperature_K=600.0, device="cpu",
                                        calculator=f"{foreign_calculator_file}:make"))
    assert type(calc).__name__ == "Counting" and calc.results  # the cached one the run used


def test_command_line_takes_a_calculator(tiny_model_path, foreign_calculator_file, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["--model", str(tiny_model_path), "--calculator", f"{foreign_calculator_file}:make",
               "--temperatures", "300", "--runs", "1", "--time-ps", "0.002", "--out", str(out), "--no-progress",
               "--jobs", "1"])
    assert rc == 0, capsys.readouterr()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["protocol"]["calculator"] == f"{foreign_calculator_file}:make"


@pytest.mark.parametrize("spec, message", [
    ("no_colon", "module:function"), ("missing_file.py:make", "no file"),
    ("gaunt_md_no_such_module:make", "cannot import"), ("gaunt_md.md:no_such_function", "no function"),
])
def test_bad_calculator_specs_are_clear_errors(spec, message, tiny_model_path, tmp_path, capsys):
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        calculator_factory(spec)
    rc = main(["--model", str(tiny_model_path), "--calculator", spec, "--out", str(tmp_path / "o"), "--no-progress"])
    assert rc == 2 and message in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_calculator_needs_the_ase_engine(tiny_model_path, foreign_calculator_file, tmp_path, capsys):
    rc = main(["--model", str(tiny_model_path), "--calculator", f"{foreign_calculator_file}:make", "--engine", "lammps",
               "--out", str(tmp_path / "o"), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and ("--engine ase" in err or "lammps" in err)
