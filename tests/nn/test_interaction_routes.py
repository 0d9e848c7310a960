"""The interaction's route (fused | reference, gaunt_md/ops/routes.py): the reference route's
dense tensors are neither saved in checkpoints nor exported, checkpoints that carry them still
load, and the route can be chosen on a TorchScript model after loading."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
import torch

import gaunt_md  # noqa: F401
from gaunt_md.deploy.routes import apply_routes
from gaunt_md.nn import GauntMACE, ModelConfig
from gaunt_md.ops.conv import coupling_paths, dense_coupling
from gaunt_md.train.checkpoint import model_from_checkpoint, read_checkpoint
from tests.helpers import relative_error
from tests.nn.test_fused_route import CONFIG, structure

REFERENCE = ("coupling", "path_to_columns", "columns_to_slots")
SHIPPED_CHECKPOINT = Path(__file__).resolve().parents[2] / "potentials" / "gaunt_mace_3bpa.ckpt"


def model():
    torch.manual_seed(0)
    m = GauntMACE(ModelConfig(**CONFIG))
    for p in m.parameters():
        p.data = 0.5 * torch.randn_like(p)
    return m


def _old_state_dict(m):
    """The state dict as checkpoints wrote it before: with the reference tensors."""
    state = m.state_dict()
    for i, layer in enumerate(m.layers):
        block = layer.interaction
        tensors = dense_coupling(coupling_paths(block.lmax_in, block.lmax_edge, block.lmax_out),
                                 block.lmax_in, block.lmax_edge, block.lmax_out)
        for name, tensor in zip(REFERENCE, tensors):
            state[f"layers.{i}.interaction.{name}"] = tensor
    return state


def test_reference_tensors_are_not_saved():
    m = model()
    assert not [k for k in m.state_dict() if k.rsplit(".", 1)[-1] in REFERENCE]
    assert all(layer.interaction.coupling.numel() == 0 for layer in m.layers)


def test_checkpoints_with_reference_tensors_load():
    m = model()
    fresh = GauntMACE(ModelConfig(**CONFIG))
    fresh.load_state_dict(_old_state_dict(m))  # strict
    g = structure(torch.float64)
    torch.testing.assert_close(fresh(g)["energy"], m(g)["energy"], rtol=0, atol=0)


def test_the_shipped_checkpoint_loads():
    """Written after the reference tensors stopped being saved (older checkpoints that carry
    them: the test above)."""
    state = read_checkpoint(SHIPPED_CHECKPOINT)
    assert "layers.0.interaction.coupling" not in (state["ema_model_state"] or state["model_state"])
    assert model_from_checkpoint(SHIPPED_CHECKPOINT).num_interactions == 2


def test_routes_agree_and_bad_names_are_refused():
    m = model()
    g = structure(torch.float64)
    fused = m(g, compute_forces=True)
    for layer in m.layers:
        layer.interaction.use_route("reference")
        assert layer.interaction.coupling.numel() > 0
    reference = m(g, compute_forces=True)
    for key in ("energy", "forces"):
        assert relative_error(fused[key], reference[key]) < 1e-10
    with pytest.raises(ValueError, match="route interaction='dense': choose one of fused, reference"):
        m.layers[0].interaction.use_route("dense")


def test_route_of_a_scripted_model():
    m = model()
    buffer = io.BytesIO()
    torch.jit.save(torch.jit.script(m), buffer)
    buffer.seek(0)
    scripted = torch.jit.load(buffer)
    g = structure(torch.float64)
    fused = scripted(g, compute_forces=True)
    apply_routes(scripted, {"interaction": "reference"})
    blocks = [b for b in scripted.modules() if getattr(b, "original_name", "") == "GauntInteraction"]
    assert blocks and all(not b.fused and b.coupling.numel() > 0 for b in blocks)
    reference = scripted(g, compute_forces=True)
    for key in ("energy", "forces"):
        assert relative_error(fused[key], reference[key]) < 1e-10
    apply_routes(scripted, {"interaction": "fused"})
    assert all(b.fused for b in blocks)
