"""Export to TorchScript and loading: the exported model is the trained model, its metadata
survives the round trip, and every way of handing load_model the wrong file fails clearly."""
from __future__ import annotations

import json

import pytest
import torch

import gaunt_md
from gaunt_md.cli import main
from gaunt_md.deploy import load_model, read_metadata
from gaunt_md.deploy.export import export_model
from gaunt_md.deploy.load import resolve_dtype
from gaunt_md.deploy.metadata import FORMAT, FORMAT_VERSION

from fixtures import (BEST_METRICS, DTYPES, ELEMENTS, R_MAX, TINY, assert_close, foreign_torchscript_file,
                      plain_state_dict_file, predict, random_bytes_file, random_cluster, random_periodic,
                      rewrite_metadata, tolerance)

STRUCTURES = {
    "cluster-5": lambda: random_cluster(seed=0, n=5),
    "cluster-9": lambda: random_cluster(seed=1, n=9, box=4.5),
    "periodic-3": lambda: random_periodic(seed=2, n=3),
    "periodic-6": lambda: random_periodic(seed=3, n=6),
}


@pytest.fixture(scope="module")
def loaded(exported):
    """load_model of the session's exports, once per dtype."""
    cache = {}

    def get(dtype: str):
        if dtype not in cache:
            cache[dtype] = load_model(exported(dtype).path)
        return cache[dtype]
    return get


def assert_same_predictions(module, reference, atoms, dtype: str, what: str, calls: int = 3) -> None:
    """Several calls: TorchScript's first call of a signature is a profiling run (the
    operations as written); later calls run the optimised graph, which must agree too."""
    stress = bool(atoms.pbc.any())
    ref = predict(reference, atoms, dtype, stress)
    for call in range(calls):
        out = predict(module, atoms, dtype, stress)
        for key in ref:
            assert_close(out[key], ref[key], tolerance(dtype, key), f"{what} {key} (call {call})")


@pytest.mark.parametrize("structure", list(STRUCTURES))
def test_exported_model_equals_eager_model(structure, dtype, loaded, eager_models):
    model = loaded(dtype)
    assert model.dtype == DTYPES[dtype]
    assert_same_predictions(model.module, eager_models(dtype), STRUCTURES[structure](), dtype, structure)


def test_load_in_another_dtype(exported, eager_models, tmp_path):
    """A float64 export loaded as float32 is the float32 model.  The file is a copy made by
    the tampering helper used below: this also shows that its archives are valid models, so
    the errors provoked with it come from the metadata changed, not from a broken archive."""
    copy = rewrite_metadata(exported("float64").path, tmp_path / "copy.pt", note="otherwise unchanged")
    model = load_model(copy, dtype="float32")
    assert model.metadata["note"] == "otherwise unchanged"
    assert model.dtype == torch.float32 and resolve_dtype(torch.float32, "float64") == torch.float32
    assert all(p.dtype == torch.float32 for p in model.module.parameters())
    assert_same_predictions(model.module, eager_models("float32"), random_periodic(seed=4), "float32", "float32")


def test_metadata_round_trip(dtype, exported, loaded):
    export = exported(dtype)
    written = json.loads(json.dumps(export.metadata))  # JSON makes the e0s keys strings
    assert read_metadata(export.path) == written
    assert loaded(dtype).metadata == written
    meta = read_metadata(export.path)
    assert meta["format"] == FORMAT and meta["format_version"] == FORMAT_VERSION
    assert meta["atomic_numbers"] == ELEMENTS and meta["symbols"] == ["H", "C", "N", "O"]
    assert meta["dtype"] == dtype
    for key in ("r_max", "num_interactions", "max_ell", "hidden_lmax", "correlation", "channels"):
        assert meta[key] == TINY[key], key
    assert meta["gaunt_md_version"] == gaunt_md.__version__
    assert meta["torch_version"] == torch.__version__
    assert meta["custom_op_libraries"] == {"gaunt_md": "gaunt_md.ops"}
    assert meta["metrics"] == BEST_METRICS
    assert meta["model_config"]["e0s"] == {str(z): e for z, e in TINY["e0s"].items()}
    assert loaded(dtype).atomic_numbers == ELEMENTS and loaded(dtype).r_max == R_MAX


# --- clear errors -------------------------------------------------------------------------

@pytest.mark.parametrize("reader", [read_metadata, load_model], ids=["read_metadata", "load_model"])
def test_missing_file(reader, tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        reader(tmp_path / "absent.pt")


NOT_A_MODEL = {
    "random-bytes": lambda src, dst: random_bytes_file(dst),
    "torch-save-dict": lambda src, dst: plain_state_dict_file(dst),
    "other-torchscript-model": lambda src, dst: foreign_torchscript_file(dst),
    "other-format": lambda src, dst: rewrite_metadata(src, dst, format="someone-elses-model"),
}


@pytest.mark.parametrize("make", list(NOT_A_MODEL))
def test_not_a_gaunt_md_model(make, exported, tmp_path):
    path = NOT_A_MODEL[make](exported("float64").path, tmp_path / "model.pt")
    with pytest.raises(ValueError, match="is not a gaunt-md model"):
        load_model(path)


def test_torchscript_without_metadata_says_how_to_export(tmp_path):
    path = foreign_torchscript_file(tmp_path / "model.pt")
    with pytest.raises(ValueError, match="gaunt-md export"):
        read_metadata(path)


def test_newer_format_version(exported, tmp_path):
    path = rewrite_metadata(exported("float64").path, tmp_path / "future.pt", format_version=999)
    with pytest.raises(ValueError, match="999.*upgrade gaunt-md"):
        load_model(path)


def test_older_format_version_says_how_to_re_export(exported, tmp_path):
    """Format 1 models took seven tensors and positional flags: they cannot be called with
    ModelInputs, so loading one names the command that writes the current format."""
    path = rewrite_metadata(exported("float64").path, tmp_path / "old.pt", format_version=1)
    with pytest.raises(ValueError, match="format version 1, older.*re-export.*gaunt-md export CHECKPOINT -o old.pt"):
        load_model(path)


def test_missing_custom_op_library(exported, tmp_path):
    libraries = {"gaunt_md": "gaunt_md.ops", "gaunt_md_extra_kernels": "gaunt_md_extra_kernels.ops"}
    path = rewrite_metadata(exported("float64").path, tmp_path / "ops.pt", custom_op_libraries=libraries)
    extra = {"gaunt_md_extra_kernels": "gaunt_md_extra_kernels.ops"}
    with pytest.raises(RuntimeError, match="gaunt_md_extra_kernels.*pip install gaunt-md-extra-kernels"):
        load_model(path, op_libraries=extra)     # allowed (deploy/op_libraries.py) but not installed


@pytest.mark.parametrize("bad", ["float16", "double", torch.float16, torch.int64])
def test_unsupported_dtype(bad, exported):
    with pytest.raises(ValueError, match="float32.*float64"):
        load_model(exported("float64").path, dtype=bad)


# --- command line -------------------------------------------------------------------------

def test_export_cli(exported, loaded, tmp_path, capsys):
    output = tmp_path / "cli" / "model.pt"
    assert main(["export", str(exported("float64").checkpoint), "-o", str(output)]) == 0
    assert str(output) in capsys.readouterr().out
    model = load_model(output)
    assert model.metadata["dtype"] == "float64" and model.dtype == torch.float64
    assert model.metadata["metrics"] == BEST_METRICS
    assert_same_predictions(model.module, loaded("float64").module, random_periodic(seed=6), "float64", "cli")


@pytest.mark.parametrize("choice", ["float32", "float64"])
def test_export_cli_dtype(choice, monkeypatch):
    """--dtype reaches export_model (exporting itself is tested above)."""
    calls = []
    monkeypatch.setattr("gaunt_md.deploy.export.export_model",
                        lambda *args: calls.append(args) or {"symbols": ["H"], "r_max": 4.0, "dtype": args[2]})
    assert main(["export", "best.pt", "-o", "model.pt", "--dtype", choice]) == 0
    assert calls == [("best.pt", "model.pt", choice)]


def test_export_cli_errors(tmp_path, capsys):
    assert main(["export", str(tmp_path / "absent.ckpt"), "-o", str(tmp_path / "m.pt")]) == 2
    assert "not found" in capsys.readouterr().err
    junk = plain_state_dict_file(tmp_path / "junk.ckpt")
    assert main(["export", str(junk), "-o", str(tmp_path / "m.pt")]) == 2
    assert "not a gaunt-md checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "m.pt").exists()


def test_e0s_stay_float64_through_float32_training(tmp_path):
    """A model trained in float32 and exported in float64 keeps its E0s exact: they are
    constants of the config, never float32 buffers of the saved weights (issue 21, point 7)."""
    from gaunt_md.nn import GauntMACE, ModelConfig
    from gaunt_md.train.checkpoint import save_checkpoint

    exact = {1: -13.587222780835477, 6: -1029.4889999855063, 7: -1484.9814568572233, 8: -2041.9816003861047}
    model = GauntMACE(ModelConfig(**dict(TINY, e0s=exact))).float()
    assert "e0" not in model.state_dict()
    save_checkpoint(tmp_path / "f32.ckpt", {"dtype": "float32", "model_config": model.config,
                                            "model_state": model.state_dict(), "ema_model_state": None,
                                            "history": "[]"})
    export_model(tmp_path / "f32.ckpt", tmp_path / "f64.pt", "float64")
    e0 = load_model(tmp_path / "f64.pt").module.e0
    assert e0.dtype == torch.float64
    assert e0.tolist() == [exact[z] for z in ELEMENTS]
    assert float(torch.tensor(exact[6], dtype=torch.float32)) != exact[6]  # float32 would round it


def test_routes_chosen_at_load(exported):
    """load_model(..., routes=...) and GauntCalculator(..., routes=...): every reference route
    gives the default routes' numbers; the op routes are process wide, so they are cleared."""
    from gaunt_md.calculators import GauntCalculator
    from gaunt_md.ops import set_routes

    path = exported("float64").path
    atoms = random_periodic(seed=5)
    default = predict(load_model(path).module, atoms, "float64", stress=True)
    routes = {"interaction": "reference", "conv": "reference", "factor_products": "reference", "gaunt": "dense"}
    try:
        model = load_model(path, routes=routes)
        blocks = [b for b in model.module.modules() if getattr(b, "original_name", "") == "GauntInteraction"]
        assert blocks and not any(b.fused for b in blocks)
        chosen = predict(model.module, atoms, "float64", stress=True)
        atoms.calc = GauntCalculator(path, device="cpu", routes={"conv": "torch"})
        energy = atoms.get_potential_energy()
    finally:
        set_routes(conv=None, factor_products=None, gaunt=None)
    for key in ("energy", "forces", "stress"):
        assert_close(chosen[key], default[key], tolerance("float64", key), key)
    assert_close(energy, default["energy"], 1e-10, "calculator energy")
    with pytest.raises(ValueError, match="route conv='fused': choose one of auto, reference, torch, triton"):
        load_model(path, routes={"conv": "fused"})
