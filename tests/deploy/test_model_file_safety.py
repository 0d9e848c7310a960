"""What a model file may make gaunt-md do: import only known custom-op libraries, load only
when its archive is intact (zip CRCs, the content hash written at export) and when its
metadata agrees with the module it describes.  Each case is a crafted model file."""
from __future__ import annotations

import json
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from gaunt_md.deploy import load_model, read_metadata
from gaunt_md.deploy.integrity import DIGEST_KEY, content_digest, verify_archive
from gaunt_md.deploy.op_libraries import ENV, allowed_op_libraries

from fixtures import rewrite_metadata

SHIPPED = Path(__file__).resolve().parents[2] / "potentials" / "gaunt_mace_3bpa.pt"


def _largest_weight_entry(path: Path) -> zipfile.ZipInfo:
    with zipfile.ZipFile(path) as archive:
        return max((i for i in archive.infolist() if "/data/" in i.filename), key=lambda i: i.file_size)


def _data_offset(path: Path, info: zipfile.ZipInfo) -> int:
    """Where an entry's bytes start in the file (after its local header)."""
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        header = f.read(30)
    name_length = int.from_bytes(header[26:28], "little")
    extra_length = int.from_bytes(header[28:30], "little")
    return info.header_offset + 30 + name_length + extra_length


def overwrite_weight_bytes(source: Path, target: Path, data: bytes) -> Path:
    """A copy with `data` written over the middle of the largest weight tensor, in place
    (the zip entry keeps its old CRC, as a bad copy or a bit flip would leave it)."""
    shutil.copy(source, target)
    info = _largest_weight_entry(target)
    assert info.file_size > 2 * len(data)
    start = _data_offset(target, info) + info.file_size // 2
    with open(target, "r+b") as f:
        f.seek(start)
        f.write(data)
    return target


def rewrite_weights(source: Path, target: Path, factor: float, keep_hash: bool = True) -> Path:
    """A copy whose largest weight tensor is scaled by `factor`, written as a consistent zip
    (new CRCs), as someone editing the weights would; optionally without the content hash."""
    info = _largest_weight_entry(source)
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as dst:
        for entry in src.infolist():
            data = src.read(entry)
            if entry.filename == info.filename:
                values = np.frombuffer(data, dtype=np.float64) * factor
                data = values.astype(np.float64).tobytes()
            elif entry.filename.endswith("/extra/gaunt_md.json") and not keep_hash:
                meta = json.loads(data)
                del meta[DIGEST_KEY]
                data = json.dumps(meta).encode()
            dst.writestr(entry, data)
    return target


@pytest.fixture
def model(exported) -> Path:
    return exported("float64").path


# --- 1. imports -------------------------------------------------------------------------------

def test_metadata_cannot_import_arbitrary_modules(model, tmp_path, monkeypatch):
    marker = tmp_path / "ran.txt"
    (tmp_path / "planted_module.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(ENV, raising=False)
    for request in ({"planted": "planted_module"}, {"this": "this"}, {"gaunt_md": "planted_module"}):
        path = rewrite_metadata(model, tmp_path / "foreign.pt", custom_op_libraries=request)
        module = list(request.values())[0]
        with pytest.raises(ValueError, match=f"asks to import {module}.*not a custom-op library gaunt-md knows"):
            load_model(path)
        assert module not in sys.modules or module == "this"
    assert not marker.exists()


def test_allowed_op_library_is_imported(model, tmp_path, monkeypatch):
    marker = tmp_path / "ran.txt"
    (tmp_path / "trusted_ops.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    path = rewrite_metadata(model, tmp_path / "extra.pt",
                            custom_op_libraries={"gaunt_md": "gaunt_md.ops", "trusted": "trusted_ops"})
    monkeypatch.setenv(ENV, "other:other.ops, trusted:trusted_ops")
    assert allowed_op_libraries() == {"gaunt_md": "gaunt_md.ops", "other": "other.ops", "trusted": "trusted_ops"}
    load_model(path)
    assert marker.read_text() == "ran"
    monkeypatch.delenv(ENV)
    sys.modules.pop("trusted_ops", None)
    marker.unlink()
    load_model(path, op_libraries={"trusted": "trusted_ops"})
    assert marker.exists()
    monkeypatch.setenv(ENV, "no-colon")
    with pytest.raises(ValueError, match="package:module"):
        allowed_op_libraries()


def test_malformed_op_library_list(model, tmp_path):
    path = rewrite_metadata(model, tmp_path / "list.pt", custom_op_libraries=["os"])
    with pytest.raises(ValueError, match="custom_op_libraries must map"):
        load_model(path)


# --- 2. corrupt archives ----------------------------------------------------------------------

def test_export_writes_content_hash(model):
    meta = read_metadata(model)
    assert meta[DIGEST_KEY] == content_digest(model)


@pytest.mark.parametrize("damage", ["two_bytes", "random_2000_bytes"])
def test_corrupt_weights_are_refused(damage, model, tmp_path):
    data = b"\x13\x37" if damage == "two_bytes" else np.random.default_rng(0).bytes(2000)
    path = overwrite_weight_bytes(model, tmp_path / "corrupt.pt", data)
    with pytest.raises(ValueError, match="is corrupt.*CRC"):
        load_model(path)


def test_edited_weights_with_valid_crcs_are_refused(model, tmp_path):
    path = rewrite_weights(model, tmp_path / "edited.pt", 1.001)
    with pytest.raises(ValueError, match="changed after export.*content hash"):
        load_model(path)


def test_file_without_hash_loads_when_its_crcs_hold(model, tmp_path):
    """Files exported before the hash existed (the shipped potential) are checked by CRC only."""
    path = rewrite_weights(model, tmp_path / "old.pt", 1.0, keep_hash=False)
    assert DIGEST_KEY not in read_metadata(path)
    load_model(path)
    damaged = overwrite_weight_bytes(path, tmp_path / "old-damaged.pt", b"\xff\xfe")
    with pytest.raises(ValueError, match="CRC"):
        load_model(damaged)


def test_non_finite_weights_are_refused(model, tmp_path):
    path = rewrite_weights(model, tmp_path / "nan.pt", float("nan"), keep_hash=False)
    with pytest.raises(ValueError, match="NaN or infinite"):
        load_model(path)


def test_shipped_potential_archive_is_intact():
    verify_archive(SHIPPED, read_metadata(SHIPPED))


# --- 2. metadata against the module -----------------------------------------------------------

@pytest.mark.parametrize("change, message", [
    ({"r_max": 3.0}, "r_max = 3.0 but the model in the file has 4.0"),
    ({"atomic_numbers": [1, 6, 7, 16]}, "atomic_numbers"),
    ({"atomic_numbers": [1, 6, 7, 8, 16]}, "atomic_numbers"),
    ({"num_interactions": 1}, "num_interactions"),
    ({"symbols": ["H", "C", "N", "S"]}, "symbols"),
    ({"r_max": None}, "no r_max"),
])
def test_metadata_must_match_the_module(change, message, model, tmp_path):
    path = rewrite_metadata(model, tmp_path / "meta.pt", **change)
    with pytest.raises(ValueError, match=message):
        load_model(path)


def test_model_config_must_match_the_module(model, tmp_path):
    config = dict(read_metadata(model)["model_config"], r_max=3.0)
    path = rewrite_metadata(model, tmp_path / "config.pt", model_config=config)
    with pytest.raises(ValueError, match="model_config says r_max"):
        load_model(path)
