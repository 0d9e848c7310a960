"""Many-body product basis: sum_nu w[species, c, l, nu] (A^nu)_lm via the Gaunt many-body op."""
from __future__ import annotations

from typing import List

import torch
from torch import nn


def body_order_weights(num_species: int, channels: int, lmax_out: int, correlation: int) -> nn.Parameter:
    """w[species, channel, l_out, nu], scaled so that each body order starts with a comparable
    contribution."""
    init = torch.randn(num_species, channels, lmax_out + 1, correlation, dtype=torch.float64)
    return nn.Parameter(init / torch.arange(1, correlation + 1, dtype=torch.float64))


class GauntProductBasis(nn.Module):
    def __init__(self, channels: int, lmax_out: int, correlation: int, num_species: int,
                 method: str = "auto"):
        super().__init__()
        self.lmax_out = lmax_out
        self.method = method
        self.weights = body_order_weights(num_species, channels, lmax_out, correlation)
        # nodes per call of the op: its sphere-grid intermediates ([rows, K, grid points]) stay a
        # few MB instead of growing with the system (faster on CPU, and a lower memory peak)
        self.chunk_nodes = max(1, (1 << 15) // channels)

    def forward(self, features: torch.Tensor, species: torch.Tensor) -> torch.Tensor:
        n = features.shape[0]
        step = self.chunk_nodes
        if n <= step:
            return torch.ops.gaunt_md.many_body(features, self.weights, species, self.lmax_out, self.method)
        outs: List[torch.Tensor] = []
        for s in range(0, n, step):
            outs.append(torch.ops.gaunt_md.many_body(features[s:s + step], self.weights, species[s:s + step],
                                                     self.lmax_out, self.method))
        return torch.cat(outs, dim=0)
