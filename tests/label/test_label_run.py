"""`gaunt-md label IN OUT`: the labelled file, continuing an interrupted run without computing
anything twice, refusing an OUT of other settings, the isolated atoms the trainer takes as
E0s, and one-line errors (exit 2) for bad input."""
from __future__ import annotations

import ase.io
import numpy as np
import pytest
from ase import Atoms
from label_helpers import CHEAP, CHEAP_CLI, water_frames

from gaunt_md.cli import main
from gaunt_md.data.e0s import split_isolated_atoms
from gaunt_md.data.extxyz import read_labelled_structures

pytest.importorskip("pyscf", reason="PySCF is not installed: pip install 'gaunt-md[label]'")

import gaunt_md.label.run as run  # noqa: E402
from gaunt_md.label.pyscf_label import SCFNotConverged, compute_label  # noqa: E402
from gaunt_md.label.settings import LabelSettings  # noqa: E402

SETTINGS = LabelSettings(**CHEAP)


@pytest.fixture
def counted(monkeypatch):
    """The structures each compute_label call got (by formula and first position)."""
    calls = []

    def counting(atoms, settings, **kwargs):
        calls.append(atoms.copy())
        return compute_label(atoms, settings, **kwargs)

    monkeypatch.setattr(run, "compute_label", counting)
    return calls


def label(inp, out, **kwargs):
    return run.label_file(inp, out, SETTINGS, log=None, show_progress=False, **kwargs)


def frames_of(path):
    return ase.io.read(path, ":", format="extxyz")


def assert_same_labels(a_path, b_path):
    a, b = frames_of(a_path), frames_of(b_path)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.info["label_source_index"] == y.info["label_source_index"]
        assert x.get_potential_energy() == pytest.approx(y.get_potential_energy(), abs=1e-7)
        np.testing.assert_allclose(x.get_forces(), y.get_forces(), atol=1e-6)
        np.testing.assert_allclose(x.positions, y.positions, atol=0)


def test_labelled_file(water_file, tmp_path):
    out = tmp_path / "out.xyz"
    summary = label(water_file, out)
    assert (summary.labelled, summary.already, summary.total) == (3, 0, 3)
    frames = read_labelled_structures(out)              # the trainer's reader: energy and forces present
    sources = water_frames()
    for k, (atoms, src) in enumerate(zip(frames, sources)):
        direct = compute_label(src, SETTINGS)
        assert atoms.info["energy"] == pytest.approx(direct.energy, abs=1e-7)      # the old 123.0 replaced
        np.testing.assert_allclose(atoms.arrays["forces"], direct.forces, atol=1e-6)
        np.testing.assert_allclose(atoms.positions, src.positions, atol=1e-8)
        assert atoms.info["label_source_index"] == k
        assert atoms.info["config_type"] == "md" and atoms.info["step"] == k      # input info kept
        settings = atoms.info["label_settings"]
        assert settings["xc"] == "lda,vwn" and settings["basis"] == "sto-3g"
        assert settings["cart"] is False and settings["density_fit"] is True and settings["spin"] == "auto"
        assert atoms.info["label_program"].startswith("pyscf 2.")
        assert atoms.info["label_scf"] == "RKS" and atoms.info["label_spin"] == 0


def test_other_keys(water_file, tmp_path):
    out = tmp_path / "out.xyz"
    label(water_file, out, energy_key="REF_energy", forces_key="REF_forces", max_frames=1)
    frames = read_labelled_structures(out, "REF_energy", "REF_forces")
    assert len(frames) == 1 and frames[0].info["REF_energy"] < -2000.0


@pytest.mark.parametrize("cut", ["one byte", "header", "mid-atom-line", "last newline"])
def test_rerun_after_a_half_written_frame_computes_only_that_frame(water_file, tmp_path, counted, cut):
    full = tmp_path / "full.xyz"
    label(water_file, full, isolated_atoms=True)
    assert len(counted) == 5                                      # H, O, 3 frames
    data = full.read_bytes()
    last = data.rstrip(b"\n").rfind(b"\n3\n") + 1                 # start of the last frame
    keep = {"one byte": last + 1, "header": last + 2,
            "mid-atom-line": data.rfind(b"\n", 0, len(data) - 1) + 20, "last newline": len(data) - 1}[cut]
    broken = tmp_path / "broken.xyz"
    broken.write_bytes(data[:keep])
    counted.clear()
    summary = label(water_file, broken, isolated_atoms=True)
    assert len(counted) == 1 and summary.labelled == 1 and summary.already == 4
    assert summary.dropped_partial_bytes == keep - last
    np.testing.assert_allclose(counted[0].positions, water_frames()[2].positions, atol=1e-7)
    assert_same_labels(broken, full)
    counted.clear()
    assert label(water_file, broken, isolated_atoms=True).labelled == 0 and not counted      # all done


def test_max_frames_then_the_rest(water_file, tmp_path, counted):
    full, parts = tmp_path / "full.xyz", tmp_path / "parts.xyz"
    label(water_file, full)
    counted.clear()
    assert label(water_file, parts, max_frames=1).total == 1
    assert label(water_file, parts, max_frames=1).labelled == 0
    summary = label(water_file, parts)
    assert (summary.labelled, summary.already) == (2, 1) and len(counted) == 3
    assert_same_labels(parts, full)


def test_ctrl_c_keeps_the_frames_done(water_file, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out.xyz"
    calls = []

    def interrupted(atoms, settings, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return compute_label(atoms, settings, **kwargs)

    monkeypatch.setattr(run, "compute_label", interrupted)
    assert main(["label", str(water_file), str(out), *CHEAP_CLI]) == 130
    assert "Run the same command again to continue" in capsys.readouterr().err
    assert len(frames_of(out)) == 1
    monkeypatch.setattr(run, "compute_label", compute_label)
    assert main(["label", str(water_file), str(out), *CHEAP_CLI]) == 0
    assert [a.info["label_source_index"] for a in frames_of(out)] == [0, 1, 2]


def test_scf_failure_is_reported_with_its_frame(water_file, tmp_path, monkeypatch, capsys):
    def failing(atoms, settings, **kwargs):
        raise SCFNotConverged("SCF did not converge")

    monkeypatch.setattr(run, "compute_label", failing)
    assert main(["label", str(water_file), str(tmp_path / "out.xyz"), *CHEAP_CLI]) == 1
    err = capsys.readouterr().err
    assert "frame 0" in err and "did not converge" in err and "Traceback" not in err


@pytest.mark.parametrize("change, field", [
    (["--basis", "6-31g"], "basis"),
    (["--no-density-fit"], "density_fit"),
    (["--grid-level", "4"], "grid_level"),
    (["--energy-key", "dft_energy"], "energy_key"),
])
def test_refuses_an_out_of_other_settings(water_file, tmp_path, capsys, counted, change, field):
    out = tmp_path / "out.xyz"
    assert main(["label", str(water_file), str(out), *CHEAP_CLI, "--max-frames", "1"]) == 0
    before = out.read_bytes()
    counted.clear()
    capsys.readouterr()
    assert main(["label", str(water_file), str(out), *CHEAP_CLI, *change]) == 2     # the last option wins
    err = capsys.readouterr().err
    assert err.startswith("gaunt-md label: error:") and "other settings" in err and field in err
    assert "Traceback" not in err and not counted and out.read_bytes() == before
    # threads do not change a label: continuing on another thread count is fine
    assert main(["label", str(water_file), str(out), *CHEAP_CLI[:-1], "2"]) == 0


def test_refuses_an_out_of_another_input(water_file, tmp_path, capsys):
    out = tmp_path / "out.xyz"
    assert main(["label", str(water_file), str(out), *CHEAP_CLI, "--max-frames", "1"]) == 0
    other = tmp_path / "other.xyz"
    ase.io.write(other, water_frames(seed=1), format="extxyz")
    capsys.readouterr()
    assert main(["label", str(other), str(out), *CHEAP_CLI]) == 2
    assert "another input" in capsys.readouterr().err
    foreign = tmp_path / "foreign.xyz"
    ase.io.write(foreign, water_frames(1), format="extxyz")        # an extxyz not written by label
    assert main(["label", str(water_file), str(foreign), *CHEAP_CLI]) == 2
    assert "not written by gaunt-md label" in capsys.readouterr().err


def test_isolated_atoms_are_the_trainers_e0s(water_file, tmp_path):
    out = tmp_path / "out.xyz"
    assert main(["label", str(water_file), str(out), *CHEAP_CLI, "--isolated-atoms"]) == 0
    frames = read_labelled_structures(out, "energy", "forces")       # as the trainer reads its train_file
    rest, e0s = split_isolated_atoms(frames, "energy")
    assert len(rest) == 3 and sorted(e0s) == [1, 8]
    atoms = {int(a.numbers[0]): a for a in frames if a.info.get("config_type") == "IsolatedAtom"}
    assert atoms[1].info["label_scf"] == "UKS" and atoms[1].info["label_spin"] == 1      # doublet
    assert atoms[8].info["label_scf"] == "UKS" and atoms[8].info["label_spin"] == 2      # triplet
    for z, symbol in ((1, "H"), (8, "O")):
        assert e0s[z] == pytest.approx(compute_label(Atoms(symbol), SETTINGS).energy, abs=1e-7)
        assert atoms[z].info["label_source_index"] == -1


def run_cli_error(capsys, *args):
    capsys.readouterr()
    assert main(["label", *map(str, args)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gaunt-md label: error:"), err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_bad_input_is_one_line_exit_2(water_file, tmp_path, capsys, counted):
    out = tmp_path / "out.xyz"
    assert "not found" in run_cli_error(capsys, tmp_path / "missing.xyz", out, *CHEAP_CLI)
    empty = tmp_path / "empty.xyz"
    empty.write_text("")
    assert "empty" in run_cli_error(capsys, empty, out, *CHEAP_CLI)
    junk = tmp_path / "junk.xyz"
    junk.write_text("not an xyz file\nat all\n")
    assert "extxyz" in run_cli_error(capsys, junk, out, *CHEAP_CLI)
    xenon = tmp_path / "xe.xyz"
    ase.io.write(xenon, Atoms("XeH", positions=[[0, 0, 0], [0, 0, 1.7]]), format="extxyz")
    assert "no functions for Xe" in run_cli_error(capsys, xenon, out, "--threads", "1")     # 6-31g*
    periodic = tmp_path / "periodic.xyz"
    ase.io.write(periodic, Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.74]], cell=[5, 5, 5], pbc=True),
                 format="extxyz")
    assert "periodic" in run_cli_error(capsys, periodic, out, *CHEAP_CLI)
    assert "functional" in run_cli_error(capsys, water_file, out, "--method", "no-such-xc", "--threads", "1")
    assert "basis" in run_cli_error(capsys, water_file, out, "--basis", "no-such-basis", "--threads", "1")
    assert "threads" in run_cli_error(capsys, water_file, out, "--threads", "0")
    assert "max-frames" in run_cli_error(capsys, water_file, out, *CHEAP_CLI, "--max-frames", "0")
    assert "parity" in run_cli_error(capsys, water_file, out, *CHEAP_CLI, "--spin", "1")
    assert "OUT is IN" in run_cli_error(capsys, water_file, water_file, *CHEAP_CLI)
    assert not counted and not out.exists()


def test_without_pyscf_the_error_names_the_extra(water_file, tmp_path, capsys, monkeypatch):
    import sys

    for name in [m for m in sys.modules if m == "pyscf" or m.startswith("pyscf.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyscf", None)       # import pyscf -> ImportError
    err = run_cli_error(capsys, water_file, tmp_path / "out.xyz", *CHEAP_CLI)
    assert "pip install 'gaunt-md[label]'" in err
