"""GauntMACE with the fused convolution (the default) against the same model on the dense
reference interaction: energies, forces, stress, and the parameter gradients of a force loss
(training, double backward), float64 to 1e-10 and float32 to 1e-5; the state dict is the same."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import vesin
from ase.build import molecule

import gaunt_md  # noqa: F401
from gaunt_md.data import ModelInputs
from gaunt_md.nn import GauntMACE, ModelConfig
from tests.helpers import relative_error as rel

Z = [1, 6, 7, 8]
CONFIG = dict(atomic_numbers=Z, e0s={1: -1.1, 6: -3.2, 7: -2.5, 8: -4.3}, avg_num_neighbors=5.0, channels=6,
              radial_hidden=[8, 8], readout_hidden=4, num_interactions=2, max_ell=3, hidden_lmax=1,
              correlation=3, scale=1.3, shift=0.4)
TOL = {torch.float64: 1e-10, torch.float32: 1e-5}


def structure(dtype):
    atoms = molecule("CH3CH2OH")
    atoms.rattle(0.05, seed=0)
    atoms.cell = np.eye(3) * 4.5 + 0.3 * np.random.default_rng(0).normal(size=(3, 3))
    atoms.pbc = True
    i, j, S = vesin.NeighborList(cutoff=5.0, full_list=True).compute(
        points=atoms.positions, box=atoms.cell.array, periodic=True, quantities="ijS")
    return ModelInputs(torch.tensor(atoms.positions, dtype=dtype), torch.tensor([Z.index(z) for z in atoms.numbers]),
                       torch.tensor(np.stack([i, j]).astype(np.int64)), torch.tensor(S @ atoms.cell.array, dtype=dtype),
                       torch.zeros(len(atoms), dtype=torch.long), torch.tensor(atoms.cell.array, dtype=dtype)[None], 1)


def models(dtype, hidden_lmax=1):
    torch.manual_seed(0)
    fused = GauntMACE(ModelConfig(**dict(CONFIG, hidden_lmax=hidden_lmax)))
    for p in fused.parameters():  # O(1) weights: every path contributes
        p.data = 0.5 * torch.randn_like(p)
    fused = fused.to(dtype)
    reference = copy.deepcopy(fused)
    for layer in reference.layers:
        layer.interaction.use_route("reference")
    for layer in fused.layers:
        layer.interaction.block_size = 17  # several blocks and a remainder
    return fused, reference


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize("hidden_lmax", [0, 1, 2])
def test_energy_forces_stress(dtype, hidden_lmax):
    fused, reference = models(dtype, hidden_lmax)
    g = structure(dtype)
    a = fused(g, compute_forces=True, compute_stress=True)
    b = reference(g, compute_forces=True, compute_stress=True)
    for key in ("energy", "node_energy", "forces", "stress"):
        assert rel(a[key], b[key]) < TOL[dtype], key


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
def test_force_loss_parameter_gradients(dtype):
    fused, reference = models(dtype)
    g = structure(dtype)
    grads = []
    for model in (fused, reference):
        out = model(g, compute_forces=True, compute_stress=True, training=True)
        loss = out["energy"].pow(2).sum() + out["forces"].pow(2).sum() + out["stress"].pow(2).sum()
        grads.append(torch.autograd.grad(loss, list(model.parameters())))
    for (name, _), a, b in zip(fused.named_parameters(), *grads):
        assert rel(a, b) < (1e-9 if dtype == torch.float64 else 1e-4), name


def test_same_state_dict_and_torchscript(tmp_path):
    fused, reference = models(torch.float64)
    assert list(fused.state_dict()) == list(reference.state_dict())
    for layer in fused.layers:
        layer.interaction.block_size = GauntMACE(ModelConfig(**CONFIG)).layers[0].interaction.block_size
    path = tmp_path / "m.pt"
    torch.jit.save(torch.jit.script(fused), str(path))
    loaded = torch.jit.load(str(path))
    g = structure(torch.float64)
    a = loaded(g, compute_forces=True, compute_stress=True)
    b = reference(g, compute_forces=True, compute_stress=True)
    for key in ("energy", "forces", "stress"):
        assert rel(a[key], b[key]) < 1e-10, key
