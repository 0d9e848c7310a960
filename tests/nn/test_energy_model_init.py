"""What the energy model starts from and what it keeps from older files: the radial MLP's scale at
initialisation, where the ZBL term ends, the bare-atom share of the skip connections, and the
options format-1 checkpoints are read with."""
from __future__ import annotations

import pytest
import torch

from gaunt_md.nn import GauntMACE, ModelConfig
from gaunt_md.nn.radial import RadialMLP, floor_matrix
from gaunt_md.nn.repulsion import ZBLRepulsion
from gaunt_md.train.checkpoint import read_checkpoint


def _output_rms(parametrisation: str) -> float:
    torch.manual_seed(0)
    mlp = RadialMLP([8, 64, 64, 64, 96], parametrisation).double()
    x = torch.randn(2000, 8, dtype=torch.float64)
    with torch.no_grad():
        return float(mlp(x).pow(2).mean().sqrt())


def test_normalized_radial_mlp_keeps_order_one_outputs():
    """e3nn's parametrisation: unit-variance inputs give outputs of order one through four layers;
    torch.nn.Linear's default shrinks them ~50x (what held earlier models' A features at ~1e-4)."""
    normalized, plain = _output_rms("normalized"), _output_rms("plain")
    assert 0.3 < normalized < 3.0, normalized
    assert plain < 0.05 and normalized > 20 * plain, (normalized, plain)


def _zbl_pair(floors: dict, cutoff_at: str, a: int, b: int, r: float) -> float:
    """ZBL energy (eV) of species a and b (indices into [H, C]) at distance r."""
    zbl = ZBLRepulsion([1, 6], floor_matrix([1, 6], floors), cutoff_at)
    return float(zbl.pair_energy(torch.tensor([r], dtype=torch.float64), torch.tensor([a]), torch.tensor([b])))


def test_zbl_ends_at_the_floor_or_at_the_covalent_sum():
    """C-H with a floor of 1.0 A (covalent sum 1.07 A): `floor` is zero from 1.0 A on, so it
    never touches a training frame; `covalent` still pushes at 1.03 A.  Both repel hard at 0.5 A."""
    pair = lambda cutoff_at, r: _zbl_pair({"1-6": 1.0}, cutoff_at, 0, 1, r)

    assert pair("floor", 1.0) == 0.0 and pair("floor", 1.03) == 0.0 and pair("covalent", 1.03) > 0.0
    assert pair("floor", 0.5) > 10.0 and pair("covalent", 0.5) > 10.0
    assert 0.0 < pair("floor", 0.95) < pair("floor", 0.8) < pair("floor", 0.5)


def test_zbl_hydrogen_mode_ends_h_pairs_at_the_covalent_sum_and_heavy_pairs_at_the_floor():
    """C-H floor 0.9 A (covalent 1.07), C-C floor 1.2 A (covalent 1.52): `hydrogen` repels C-H at
    1.0 A as `covalent` does, and leaves a C-C at 1.3 A (an aromatic bond, inside the covalent
    sum) alone as `floor` does."""
    floors = {"1-6": 0.9, "6-6": 1.2}
    pair = lambda cutoff_at, a, b, r: _zbl_pair(floors, cutoff_at, a, b, r)

    assert pair("hydrogen", 0, 1, 1.0) == pytest.approx(pair("covalent", 0, 1, 1.0)) and pair("hydrogen", 0, 1, 1.0) > 0
    assert pair("floor", 0, 1, 1.0) == 0.0
    assert pair("hydrogen", 1, 1, 1.3) == 0.0 and pair("covalent", 1, 1, 1.3) > 0
    assert pair("hydrogen", 1, 1, 1.1) == pytest.approx(pair("floor", 1, 1, 1.1)) and pair("floor", 1, 1, 1.1) > 0
    with pytest.raises(ValueError, match="cutoff_at"):
        ZBLRepulsion([1, 6], floor_matrix([1, 6], floors), "nearest")


def test_skip_connections_give_bare_atoms_a_network_energy_that_is_subtracted():
    """With the first-layer skip the readouts see the element embedding even without neighbours:
    that share is non-zero (so the subtraction matters; the bare atom = E0 test covers the rest);
    without a first-layer skip it is exactly zero (the model then skips the subtraction)."""
    torch.manual_seed(0)
    base = dict(atomic_numbers=[1, 6], r_max=4.0, max_ell=2, channels=8, correlation=2, radial_hidden=[8],
                e0s={1: -1.0, 6: -2.0})
    with_skip = GauntMACE(ModelConfig(**base, first_layer_skip=True))
    assert with_skip.isolated_network_energies(torch.float64).abs().min() > 1e-6
    zeros = torch.zeros(2, dtype=torch.float64)
    for layers in (1, 2, 3):  # later layers' skips act on the first layer's zero output
        without = GauntMACE(ModelConfig(**base, num_interactions=layers, first_layer_skip=False))
        assert torch.equal(without.isolated_network_energies(torch.float64), zeros), layers


def test_format_1_checkpoints_keep_the_behaviour_they_were_trained_with(tmp_path):
    config = ModelConfig(atomic_numbers=[1, 6]).to_dict()
    for key in ("zbl_cutoff", "radial_parametrisation", "first_layer_skip"):
        del config[key]
    path = tmp_path / "old.pt"
    torch.save({"format": "gaunt-md-checkpoint", "format_version": 1, "model_config": config}, path)
    upgraded = read_checkpoint(path)["model_config"]
    assert (upgraded["zbl_cutoff"], upgraded["radial_parametrisation"], upgraded["first_layer_skip"]) == (
        "covalent", "plain", False)
    ModelConfig.from_dict(upgraded).validate()
