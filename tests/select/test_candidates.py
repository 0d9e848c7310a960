import json

import pytest
from ase.build import molecule
from ase.io import write

from gaunt_md.select import read_candidates


def write_protocol(root, failed_at=0.05):
    """A protocol output: T600K run 0 stable, run 1 failed at `failed_at` ps; frames every 10 fs."""
    (root / "trajectories").mkdir(parents=True)
    for run in (0, 1):
        frames = []
        for step in range(11):
            mol = molecule("H2O")
            mol.positions[1] *= 1.0 + 0.01 * step
            mol.info.update(time_ps=0.01 * step, temperature_K=590.0, energy=-1.0)
            frames.append(mol)
        write(root / "trajectories" / f"T600K_run{run}.extxyz", frames, format="extxyz")
    details = [{"run": 0, "stable": True, "interrupted": False, "time_to_failure_ps": 0.1},
               {"run": 1, "stable": False, "interrupted": False, "time_to_failure_ps": failed_at}]
    (root / "summary.json").write_text(json.dumps({"temperatures": [{"temperature_K": 600.0,
                                                                     "run_details": details}]}))
    return root


def test_protocol_output_marks_precursors_and_drops_frames_after_failure(tmp_path):
    found = read_candidates([write_protocol(tmp_path / "md")], precursor_ps=0.02)
    run0 = [c for c in found if c.source.endswith("run0.extxyz")]
    run1 = [c for c in found if c.source.endswith("run1.extxyz")]
    assert len(run0) == 11 and not any(c.precursor for c in run0)
    assert [round(c.time_ps, 3) for c in run1] == [0.0, 0.01, 0.02, 0.03, 0.04, 0.05]
    assert [c.precursor for c in run1] == [False, False, False, True, True, True]
    assert all(c.temperature_K == 600.0 for c in found)
    # the model's predictions are not carried along: they must never look like labels
    assert all("energy" not in c.atoms.info and c.atoms.calc is None for c in found)


def test_skip_ps_leaves_out_the_thermalisation(tmp_path):
    found = read_candidates([write_protocol(tmp_path / "md")], skip_ps=0.045)
    assert min(c.time_ps for c in found) == pytest.approx(0.05)


def test_plain_trajectory_files(tmp_path):
    path = tmp_path / "traj.xyz"
    write(path, [molecule("H2O"), molecule("H2O")], format="extxyz")
    found = read_candidates([str(path)])
    assert [c.index for c in found] == [0, 1] and not any(c.precursor for c in found)


def test_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_candidates([str(tmp_path / "missing.xyz")])
    with pytest.raises(FileNotFoundError, match="summary.json"):
        read_candidates([str(tmp_path)])
    bad = tmp_path / "bad.xyz"
    bad.write_text("3\nnot extxyz\nH 0 0\n")
    with pytest.raises(ValueError, match="could not be read as extxyz"):
        read_candidates([str(bad)])
