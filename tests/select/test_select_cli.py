import numpy as np
import pytest
from ase.build import molecule
from ase.io import read, write

from gaunt_md.cli import main
from gaunt_md.select.candidates import Candidate
from gaunt_md.select.committee import committee_scores


def trajectory(path, n=8):
    frames = []
    for k in range(n):
        mol = molecule("CH3OH")
        mol.positions[2] *= 1.0 + 0.05 * k
        mol.info["time_ps"] = 0.01 * k
        frames.append(mol)
    write(path, frames, format="extxyz")
    return path


def test_committee_disagreement_is_the_force_std(exported):
    models = [str(exported("float64", seed).path) for seed in (0, 1)]
    candidate = Candidate(atoms=molecule("CH3OH"), source="x", index=0)
    committee_scores([candidate], models, device="cpu", progress=False)
    from gaunt_md.calculators import GauntCalculator
    forces = []
    for path in models:
        atoms = molecule("CH3OH")
        atoms.calc = GauntCalculator(path, device="cpu")
        forces.append(atoms.get_forces())
    expected = np.sqrt(np.var(forces, axis=0).sum(axis=1)).max()
    assert candidate.scores["force_std"] == pytest.approx(expected, rel=1e-10)
    assert candidate.scores["force_std"] > 0


def test_cli_writes_the_chosen_frames_with_their_reasons(tmp_path, exported, capsys):
    traj = trajectory(tmp_path / "traj.xyz")
    models = [str(exported("float64", seed).path) for seed in (0, 1)]
    out = tmp_path / "chosen.xyz"
    code = main(["select", str(traj), "-o", str(out), "-n", "3", "--models", *models, "--device", "cpu"])
    assert code == 0
    chosen = read(out, ":")
    assert len(chosen) == 3
    stds = [a.info["select_force_std"] for a in chosen]
    assert stds == sorted(stds, reverse=True)
    assert all(a.info["select_source"] == str(traj) for a in chosen)
    assert "chose 3 of 8" in capsys.readouterr().out


def test_cli_errors_exit_2(tmp_path, exported, capsys):
    traj = trajectory(tmp_path / "traj.xyz")
    one = str(exported("float64", 0).path)
    assert main(["select", str(traj), "-o", str(tmp_path / "o.xyz"), "-n", "2", "--models", one]) == 2
    assert "two or more models" in capsys.readouterr().err
    assert main(["select", str(tmp_path / "nope.xyz"), "-o", str(tmp_path / "o.xyz"), "-n", "2"]) == 2
