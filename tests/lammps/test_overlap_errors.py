"""Overlapping atoms in LAMMPS: an ERROR line and a non-zero exit (1 and 2 ranks), never a
run that goes on with -nan; a non-finite model result is an error too."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from test_errors import lammps_error


def overlapping_data(tools, folder):
    atoms = tools.molecules_in_big_box()
    atoms.positions[3] = atoms.positions[0]          # two atoms of the ethanol on one spot
    return tools.write_data(atoms, folder / "overlap.data")


def run_input(data, model) -> str:
    return ("units metal\natom_style atomic\nboundary f f f\n"
            f"read_data {data}\npair_style gaunt\npair_coeff * * {model} C H N O\nrun 2\n")


def test_overlap_in_process(tiny_model, lmp_tools, tmp_path):
    message = lammps_error(run_input(overlapping_data(lmp_tools, tmp_path), tiny_model))
    assert "overlapping atoms" in message and "0 A apart" in message, message
    assert "Traceback" not in message


def test_non_finite_result_in_process(tiny_model, lmp_tools, tmp_path, monkeypatch):
    from gaunt_md.deploy import guards

    monkeypatch.setattr(guards, "OVERLAP_DISTANCE", 0.0)    # let the model see the overlap: NaN
    message = lammps_error(run_input(overlapping_data(lmp_tools, tmp_path), tiny_model))
    assert "non-finite" in message, message


@pytest.mark.slow
def test_lmp_stops_with_an_error(tiny_model, lmp_tools, tmp_path):
    data = overlapping_data(lmp_tools, tmp_path)
    with ThreadPoolExecutor(2) as pool:
        runs = {n: pool.submit(lmp_tools.run_lmp, tmp_path / f"np{n}", run_input(data, tiny_model), n, 240)
                for n in (1, 2)}
        done = {n: f.result() for n, f in runs.items()}
    for n, run in done.items():
        assert run.returncode != 0, (n, run.stdout[-2000:])
        assert "ERROR" in run.stdout and "overlapping atoms" in run.stdout, (n, run.stdout[-2000:])
        assert "nan" not in run.stdout.lower().replace("nanosecond", ""), (n, run.stdout[-2000:])
