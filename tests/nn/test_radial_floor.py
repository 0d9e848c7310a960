"""The radial floor on its own: the bound, its keys and its checks."""
from __future__ import annotations

import pytest
import torch

from gaunt_md.nn import ModelConfig
from gaunt_md.nn.radial import RadialFloor, floor_matrix, pair_key


def test_bound_follows_r_above_and_stays_at_the_floor_below():
    floor = RadialFloor(torch.tensor([[1.0]], dtype=torch.float64), width=0.03)
    s = torch.zeros(3, dtype=torch.long)
    r = torch.tensor([[0.2], [0.6], [0.9]], dtype=torch.float64, requires_grad=True)
    seen = floor(r, s, s)
    assert torch.allclose(seen, torch.ones_like(seen), atol=0.03 * 0.04)  # softplus(-10/3) x 0.03
    far = torch.tensor([[1.2], [1.5], [4.0]], dtype=torch.float64)
    assert torch.allclose(floor(far, s, s), far, atol=0.03 * 1.2e-3)  # from 1 + 5w on: w e^-(r - r_f)/w
    (grad,) = torch.autograd.grad(seen.sum(), r)
    assert (grad > 0).all() and grad.max() < 0.04  # monotonic, flat below


def test_pairs_are_symmetric_and_keyed_by_atomic_numbers():
    m = floor_matrix([1, 6, 8], {"1-6": 0.8, "6-6": 1.2})
    assert m[0, 1] == m[1, 0] == 0.8 and m[1, 1] == 1.2 and m[0, 0] == 0 and m[2, 0] == 0
    assert pair_key(6, 1) == pair_key(1, 6) == "1-6"


@pytest.mark.parametrize("floors, message", [
    ({"6-1": 0.8}, "smaller first"), ({"1-9": 0.8}, "known atomic numbers"), ({"H-C": 0.8}, "species pairs"),
    ({"1-6": 6.0}, "r_max"), ({"1-6": -0.1}, "r_max"),
])
def test_bad_floors_are_clear_errors(floors, message):
    with pytest.raises(ValueError, match=message):
        ModelConfig(atomic_numbers=[1, 6], radial_floor=floors).validate()
    with pytest.raises(ValueError, match="width"):
        ModelConfig(atomic_numbers=[1, 6], radial_floor_width=0.0).validate()


def test_config_round_trip_keeps_the_floors():
    cfg = ModelConfig(atomic_numbers=[1, 6], radial_floor={"1-6": 0.83})
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
