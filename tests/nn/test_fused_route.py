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


def models(dtype, hidden_lmax=1, separate_paths=False):
    torch.manual_seed(0)
    fused = GauntMACE(ModelConfig(**dict(CONFIG, hidden_lmax=hidden_lmax, separate_paths=separate_paths)))
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
@pytest.mark.parametrize("hidden_lmax,separate_paths", [(0, False), (1, False), (2, False), (1, True), (2, True)])
def test_energy_forces_stress(dtype, hidden_lmax, separate_paths):
    fused, reference = models(dtype, hidden_lmax, separate_paths)
    g = structure(dtype)
    a = fused(g, compute_forces=True, compute_stress=True)
    b = reference(g, compute_forces=True, compute_stress=True)
    for key in ("energy", "node_energy", "forces", "stress"):
        assert rel(a[key], b[key]) < TOL[dtype], key


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize("separate_paths", [False, True], ids=["summed_paths", "separate_paths"])
def test_force_loss_parameter_gradients(dtype, separate_paths):
    fused, reference = models(dtype, separate_paths=separate_paths)
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


@pytest.mark.parametrize("route", ["fused", "reference"])
def test_separate_paths_with_equal_weights_are_the_summed_paths(route):
    """Separate paths whose mixing weights are all the summed model's (times sqrt(P_l), the
    norm) give the summed model: the slots hold exactly the per-path parts of the sum."""
    summed, _ = models(torch.float64)
    separate, _ = models(torch.float64, separate_paths=True)
    shared = {k: v for k, v in summed.state_dict().items() if "linear_out" not in k}
    assert separate.load_state_dict(shared, strict=False).missing_keys == [
        f"layers.{i}.interaction.linear_out.weight" for i in range(len(separate.layers))]
    with torch.no_grad():
        for a, b in zip(summed.layers, separate.layers):
            counts = b.interaction.linear_out.paths_per_degree
            b.interaction.linear_out.weight.copy_(torch.cat(
                [a.interaction.linear_out.weight[l].expand(count, -1, -1) * count ** 0.5
                 for l, count in enumerate(counts)]))
    for model in (summed, separate):
        for layer in model.layers:
            layer.interaction.use_route(route)
    g = structure(torch.float64)
    a = summed(g, compute_forces=True)
    b = separate(g, compute_forces=True)
    assert rel(b["energy"], a["energy"]) < 1e-12 and rel(b["forces"], a["forces"]) < 1e-11
    assert max(layer.interaction.linear_out.paths_per_degree[1] for layer in separate.layers) > 1
