"""optim.mixing_lr_scale: the channel-mixing weights in their own optimiser group at lr x scale,
through every way the learning rate is set (start, cosine, --lr), kept across --resume, refused
when changed on resume, and Adam moments carried by name from a checkpoint with other groups."""
from __future__ import annotations

import pytest
import torch

from gaunt_md.nn import GauntMACE, ModelConfig
from gaunt_md.nn.factor_product import GauntFactorProductBasis
from gaunt_md.nn.linear import DegreeLinear
from gaunt_md.train import trainer as trainer_module
from gaunt_md.train.checkpoint import read_checkpoint
from gaunt_md.train.config import load_config
from gaunt_md.train.param_groups import channel_mixing_names, optimizer_order, parameter_groups
from tests.fixtures import TINY


def _model():
    torch.manual_seed(0)
    return GauntMACE(ModelConfig(**{**TINY, "product_basis": "factors"}))


def test_scale_one_is_one_group_of_everything():
    model = _model()
    (group,) = parameter_groups(model, 0.01, 1.0)
    assert group["params"] == list(model.parameters()) and group["lr"] == 0.01


def test_the_mixing_group_holds_the_linears_and_factor_mixing():
    model = _model()
    rest, mixing = parameter_groups(model, 0.01, 0.5)
    assert (rest["lr"], mixing["lr"], mixing["lr_scale"]) == (0.01, 0.005, 0.5)
    expected = [m.weight for m in model.modules() if isinstance(m, DegreeLinear)]
    expected += [m.factor_weights for m in model.modules() if isinstance(m, GauntFactorProductBasis)]
    assert {id(p) for p in mixing["params"]} == {id(p) for p in expected}
    assert len(rest["params"]) + len(mixing["params"]) == len(list(model.parameters()))
    assert not {id(p) for p in rest["params"]} & {id(p) for p in mixing["params"]}
    names = channel_mixing_names(model)
    assert any("radial" in n for n, _ in model.named_parameters()) and not any("radial" in n for n in names)
    assert optimizer_order(model, 0.5)[-len(names):] == names


def _group_lrs(path):
    return [g["lr"] for g in read_checkpoint(path)["optimizer_state"]["param_groups"]]


def test_training_applies_the_scale_and_resume_keeps_or_refuses_it(no_plots, write_config, gaunt_md, log_rows,
                                                                   tmp_path):
    config = write_config(tmp_path, optim={"max_epochs": 3, "scheduler": "cosine", "min_lr": 0.001,
                                           "mixing_lr_scale": 0.5})
    assert gaunt_md("train", config, "--time-limit", 0) == 0
    lr, mixing_lr = _group_lrs(tmp_path / "run" / "last.pt")
    assert mixing_lr == pytest.approx(0.5 * lr)
    assert gaunt_md("train", config, "--resume", "--max-epochs", 2) == 0
    lr2, mixing_lr2 = _group_lrs(tmp_path / "run" / "last.pt")
    assert lr2 < lr and mixing_lr2 == pytest.approx(0.5 * lr2)    # the cosine moved both
    assert float(log_rows(tmp_path / "run")[-1]["lr"]) == pytest.approx(lr2)

    changed = write_config(tmp_path, optim={"max_epochs": 3, "mixing_lr_scale": 2.0})
    with pytest.raises(ValueError, match="mixing_lr_scale was 0.5"):
        trainer_module.Trainer(load_config(changed), resume=True, log=lambda *_: None)


def test_lr_override_keeps_the_scale(no_plots, write_config, tmp_path):
    cfg = load_config(write_config(tmp_path, num_threads=None, optim={"max_epochs": 1, "mixing_lr_scale": 0.25}))
    trainer_module.Trainer(cfg, log=lambda *_: None).run()
    resumed = trainer_module.Trainer(cfg, resume=True, log=lambda *_: None)
    resumed.set_lr(0.002)
    assert [g["lr"] for g in resumed.optimizer.param_groups] == [0.002, 0.0005]


def test_init_from_carries_moments_by_name_across_groupings(trained_run, write_config, tmp_path):
    """The source trained with one group, the new run has two: each parameter gets its own
    moments, not those of the parameter at the same index."""
    source = trained_run / "best.pt"
    cfg = load_config(write_config(tmp_path, num_threads=None, init_from=str(source),
                                   optim={"mixing_lr_scale": 0.5}))
    trainer = trainer_module.Trainer(cfg, log=lambda *_: None)
    state = read_checkpoint(source)
    saved = state["optimizer_state"]["state"]
    names = [n for n, _ in GauntMACE(ModelConfig.from_dict(state["model_config"])).named_parameters()]
    assert len(trainer.optimizer.param_groups) == 2
    for name, param in trainer.model.named_parameters():
        torch.testing.assert_close(trainer.optimizer.state[param]["exp_avg_sq"],
                                   saved[names.index(name)]["exp_avg_sq"], rtol=0, atol=0)
