"""A corrupt, edited or import-happy model file stops LAMMPS at pair_coeff with an ERROR line
(the checks of deploy/load.py, seen through pair_style gaunt)."""
from __future__ import annotations

import shutil
import zipfile

import pytest

from test_errors import lammps_error


def _corrupt(model, target):
    shutil.copy(model, target)
    with zipfile.ZipFile(target) as archive:
        info = max((i for i in archive.infolist() if "/data/" in i.filename), key=lambda i: i.file_size)
    with open(target, "r+b") as f:
        f.seek(info.header_offset + 26)
        name_length, extra_length = (int.from_bytes(f.read(2), "little") for _ in range(2))
        f.seek(info.header_offset + 30 + name_length + extra_length + info.file_size // 2)
        f.write(b"\x13\x37")
    return target


def _rewrite(model, target, **changes):
    from fixtures import rewrite_metadata

    return rewrite_metadata(model, target, **changes)


@pytest.mark.parametrize("case, expected", [
    ("corrupt", "is corrupt"),
    ("r_max", "metadata says r_max = 3.0"),
    ("imports", "not a custom-op library gaunt-md knows"),
])
def test_bad_model_file_is_an_error(case, expected, tiny_model, lmp_tools, tmp_path):
    target = tmp_path / f"{case}.pt"
    if case == "corrupt":
        path = _corrupt(tiny_model, target)
    elif case == "r_max":
        path = _rewrite(tiny_model, target, r_max=3.0)
    else:
        path = _rewrite(tiny_model, target, custom_op_libraries={"this": "this"})
    data = lmp_tools.write_data(lmp_tools.molecules_in_big_box(), tmp_path / "mol.data")
    message = lammps_error("units metal\natom_style atomic\nboundary f f f\n"
                           f"read_data {data}\npair_style gaunt\npair_coeff * * {path} C H N O\n")
    assert "ERROR" in message and expected in message, message
    assert "Traceback" not in message
