"""What an installed package needs travels with it: the 3BPA start geometry is package data, and
the default model path is relative to the working directory, with a clear error elsewhere."""
from __future__ import annotations

from pathlib import Path

from gaunt_md.md.cli import DEFAULT_MODEL, main
from gaunt_md.md.starts import SHIPPED_START, load_starts

REPO = Path(__file__).resolve().parents[2]


def test_start_geometry_is_package_data():
    import gaunt_md

    assert SHIPPED_START.is_file()
    assert SHIPPED_START.is_relative_to(Path(gaunt_md.__file__).parent)
    [(label, atoms)] = load_starts(None, None, 1)
    assert label == "3bpa_start.xyz" and atoms.get_chemical_formula() == "C12H12N2O"
    # the repository's examples keep their path to it
    assert (REPO / "examples" / "data" / "3bpa_start.xyz").resolve() == SHIPPED_START.resolve()


def test_default_model_outside_the_repository(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["--out", str(tmp_path / "out"), "--no-progress", "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert f"no {DEFAULT_MODEL} in {tmp_path}" in err and "pass --model" in err
    assert not (tmp_path / "out").exists()
