"""Issue 20, point 5: the whole config is checked (types, ranges, model options, files) before
any data are read, with an error naming the option."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gaunt_md.train import trainer as trainer_module
from gaunt_md.train.config import config_from_dict, load_config


@pytest.fixture
def no_data_work(monkeypatch):
    """Reading the data is the first real work: a config error must come before it."""
    def refuse(*args, **kwargs):
        raise AssertionError("the data were read before the config was checked")

    monkeypatch.setattr(trainer_module, "prepare_data", refuse)


@pytest.mark.parametrize("changes, message", [
    ({"optim": {"lr": "fast"}}, "optim.lr must be a number, got 'fast'"),
    ({"optim": {"batch_size": 2.5}}, "optim.batch_size must be a whole number, got 2.5"),
    ({"optim": {"batch_size": 0}}, "optim.batch_size must be >= 1"),
    ({"optim": {"ema_decay": 1.5}}, "optim.ema_decay must lie in [0, 1)"),
    ({"model": {"chanels": 4}}, "unknown option(s) in model: chanels"),
    ({"model": {"channels": "many"}}, "model.channels must be a whole number"),
    ({"model": {"product_basis": "tensor"}}, "product_basis must be 'power' or 'factors'"),
    ({"model": {"product_rank": 0}}, "product_rank must be >= 1"),
    ({"model": {"product_basis": "power", "product_rank": 2}}, "product_rank > 1 needs product_basis: factors"),
    ({"model": {"e0s": {1: 0.0}}}, "model.e0s comes from the data"),
    ({"data": {"energy_key": 3}}, "data.energy_key must be a string"),
    ({"data": {"valid_file": "/nonexistent/valid.xyz"}}, "data.valid_file: file not found"),
    ({"data": {"test_file": "/nonexistent/test.xyz"}}, "data.test_file: file not found"),
    ({"data": {"e0s": "median", "e0s_file": None}}, "data.e0s must be one of isolated, least_squares, average"),
    ({"data": {"e0s": {"Xx": 1.0}, "e0s_file": None}}, "'Xx' is not an element symbol"),
    ({"data": {"e0s": "average"}}, "give data.e0s_file or data.e0s, not both"),
    ({"init_from": "/nonexistent/best.pt"}, "init_from: checkpoint not found"),
    ({"optim": {"best_model": "lowest"}}, "optim.best_model must be valid or last"),
])
def test_config_errors_come_before_any_work(changes, message, no_data_work, write_config, gaunt_md, tmp_path,
                                            capsys):
    assert gaunt_md("train", write_config(tmp_path, **changes)) == 2
    err = capsys.readouterr().err
    assert err.startswith("gaunt-md train: error:") and message in err, err
    assert not (tmp_path / "run").exists()


def test_numbers_yaml_reads_as_strings_are_numbers(write_config, tmp_path):
    """YAML 1.1 reads `1e-3` (no dot) as a string; whole numbers are fine for float options."""
    path = write_config(tmp_path)
    path.write_text(path.read_text().replace("lr: 0.01", "lr: 1e-3"))
    cfg = load_config(path)
    assert cfg.optim.lr == 0.001 and isinstance(cfg.optim.lr, float)
    cfg = load_config(write_config(tmp_path / "b", optim={"clip_grad": 5}, model={"r_max": 3}))
    assert cfg.optim.clip_grad == 5.0 and isinstance(cfg.optim.clip_grad, float)
    assert isinstance(cfg.model["r_max"], float)


EXAMPLE_CONFIGS = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLE_CONFIGS, ids=lambda p: p.name)
def test_example_configs_pass_the_checks(path):
    """Every shipped training config is valid as written (its data files may live elsewhere)."""
    values = yaml.safe_load(path.read_text())
    cfg = config_from_dict(values, check_files=False)
    assert cfg.optim.max_epochs >= 1
    assert cfg.model.get("product_basis") == "factors"
