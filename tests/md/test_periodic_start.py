"""Issue 20, point 8: md-stability refuses a periodic starting geometry (its criteria use plain
distances) with a clear error, instead of silently dropping the cell."""
from __future__ import annotations

import pytest
from ase.build import bulk
from ase.io import write

from gaunt_md.cli import main as gaunt_md_main


@pytest.mark.parametrize("option", ["--start", "--data"])
def test_periodic_input_is_refused(option, tiny_model_path, tmp_path, capsys):
    crystal = bulk("C", "diamond", a=3.57) * (2, 1, 1)
    path = tmp_path / "diamond.xyz"
    write(path, [crystal], format="extxyz")
    out = tmp_path / "out"
    rc = gaunt_md_main(["md-stability", "--model", str(tiny_model_path), option, str(path), "--out", str(out),
                        "--no-progress", "--jobs", "1", "--device", "cpu"])
    captured = capsys.readouterr()
    assert rc == 2
    assert f"{option} {path}" in captured.err and "is periodic (pbc TTT)" in captured.err
    assert "isolated molecules only" in captured.err and "Traceback" not in captured.err
    assert not out.exists()
