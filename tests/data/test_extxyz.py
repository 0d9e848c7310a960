"""read_labelled_structures: label locations, and errors naming file and frame."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gaunt_md.data import read_labelled_structures

SHARED_TRAIN = Path("/work/shared/data/3bpa/train_300K.xyz")


def frame(energy="-10.5", forces=True, extra="", positions=None, energy_key="energy"):
    positions = positions or [[0.0, 0.0, 0.0], [0.0, 0.0, 1.1]]
    properties = "species:S:1:pos:R:3" + (":forces:R:3" if forces else "")
    energy_part = f"{energy_key}={energy} " if energy is not None else ""
    lines = [str(len(positions)), f'{energy_part}{extra}Properties={properties} pbc="F F F"']
    for k, (x, y, z) in enumerate(positions):
        row = f"{'CO'[k % 2]} {x} {y} {z}"
        lines.append(row + (f" {0.1 * k} -0.2 {0.3 * k}" if forces else ""))
    return "\n".join(lines) + "\n"


def write(tmp_path, *frames, name="data.xyz"):
    path = tmp_path / name
    path.write_text("".join(frames))
    return path


def test_labels_end_up_in_info_and_arrays(tmp_path):
    path = write(tmp_path, frame("-10.5"), frame("-11.5"))
    frames = read_labelled_structures(path)
    assert [a.info["energy"] for a in frames] == [-10.5, -11.5]
    np.testing.assert_allclose(frames[1].arrays["forces"], [[0, -0.2, 0], [0.1, -0.2, 0.3]])
    assert all(a.calc is None for a in frames)


def test_custom_keys_stay_where_ase_left_them(tmp_path):
    text = frame("-3.0", forces=False, energy_key="REF_energy")
    text = text.replace("pos:R:3", "pos:R:3:REF_forces:R:3")
    text = "\n".join(line + (" 1 2 3" if line[:1] in "CO" else "") for line in text.splitlines()) + "\n"
    frames = read_labelled_structures(write(tmp_path, text), "REF_energy", "REF_forces")
    assert frames[0].info["REF_energy"] == -3.0
    np.testing.assert_allclose(frames[0].arrays["REF_forces"], [[1, 2, 3], [1, 2, 3]])


def test_stress_becomes_3x3(tmp_path):
    stress = 'stress="0.1 0.01 0.02 0.01 0.2 0.03 0.02 0.03 0.3" '
    frames = read_labelled_structures(write(tmp_path, frame(extra=stress)), stress_key="stress")
    np.testing.assert_allclose(frames[0].info["stress"], [[0.1, 0.01, 0.02], [0.01, 0.2, 0.03], [0.02, 0.03, 0.3]])


def test_empty_file_is_named(tmp_path):
    path = write(tmp_path, name="nothing.xyz")
    with pytest.raises(ValueError, match=r"nothing\.xyz: file is empty"):
        read_labelled_structures(path)


def test_missing_energy_names_file_frame_and_present_keys(tmp_path):
    path = write(tmp_path, frame("-1.0"), frame("-2.0"), frame(None, extra="REF_energy=-3.0 "), name="gaps.xyz")
    with pytest.raises(ValueError, match=r"gaps\.xyz, frame 2: no 'energy' label \(keys present: REF_energy, forces\)"):
        read_labelled_structures(path)


def test_missing_forces_names_frame(tmp_path):
    path = write(tmp_path, frame("-1.0"), frame("-2.0", forces=False))
    with pytest.raises(ValueError, match=r"data\.xyz, frame 1: no 'forces' label \(keys present: energy\)"):
        read_labelled_structures(path)


def test_nan_energy_names_file_and_frame(tmp_path):
    path = write(tmp_path, frame("-1.0"), frame("nan"))
    with pytest.raises(ValueError, match=r"data\.xyz, frame 1: label 'energy' contains NaN"):
        read_labelled_structures(path)


def test_nan_forces_names_file_and_frame(tmp_path):
    bad = frame("-1.0").replace("-0.2", "inf", 1)
    path = write(tmp_path, frame("-1.0"), frame("-2.0"), bad)
    with pytest.raises(ValueError, match=r"frame 2: label 'forces' contains NaN"):
        read_labelled_structures(path)


def test_nan_positions_name_file_and_frame(tmp_path):
    path = write(tmp_path, frame("-1.0", positions=[[0.0, 0.0, 0.0], [0.0, float("nan"), 1.0]]))
    with pytest.raises(ValueError, match=r"data\.xyz, frame 0: positions contain NaN"):
        read_labelled_structures(path)


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="no_such.xyz"):
        read_labelled_structures("no_such.xyz")


def test_forces_key_none_skips_forces(tmp_path):
    frames = read_labelled_structures(write(tmp_path, frame("-1.0", forces=False)), forces_key=None)
    assert frames[0].info["energy"] == -1.0


@pytest.mark.skipif(not SHARED_TRAIN.exists(), reason="3BPA data not present")
def test_3bpa_training_file():
    frames = read_labelled_structures(SHARED_TRAIN, index=":5")
    assert len(frames) == 5 and all(len(a) == 27 for a in frames)
    assert all(np.isfinite(a.info["energy"]) and a.arrays["forces"].shape == (27, 3) for a in frames)
