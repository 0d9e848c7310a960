"""Many-body product basis: sum_nu w[species, c, l, nu] (A^nu)_lm via the Gaunt many-body op."""
from __future__ import annotations

import torch
from torch import nn


class GauntProductBasis(nn.Module):
    def __init__(self, channels: int, lmax_out: int, correlation: int, num_species: int,
                 method: str = "auto"):
        super().__init__()
        self.lmax_out = lmax_out
        self.method = method
        # scale so that each power starts with a comparable contribution
        init = torch.randn(num_species, channels, lmax_out + 1, correlation, dtype=torch.float64)
        self.weights = nn.Parameter(init / torch.arange(1, correlation + 1, dtype=torch.float64))

    def forward(self, features: torch.Tensor, species: torch.Tensor) -> torch.Tensor:
        return torch.ops.gaunt_md.many_body(features, self.weights, species, self.lmax_out, self.method)
