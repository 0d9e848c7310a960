"""Fixtures of the `gaunt-md label` tests."""
from __future__ import annotations

import ase.io
import pytest
from label_helpers import water_frames


@pytest.fixture
def water_file(tmp_path):
    path = tmp_path / "in.xyz"
    ase.io.write(path, water_frames(), format="extxyz")
    return path
