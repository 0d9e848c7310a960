"""Equivariant linear maps on features [nodes, channels, (L+1)^2]: channel mixing per degree."""
from __future__ import annotations

import torch
from torch import nn

from ..so3 import degree_of_index


class DegreeLinear(nn.Module):
    """out[n, d, lm] = sum_c W_l[c, d] x[n, c, lm] / sqrt(C_in)."""

    def __init__(self, channels_in: int, channels_out: int, lmax: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(lmax + 1, channels_in, channels_out, dtype=torch.float64))
        self.register_buffer("degree", degree_of_index(lmax), persistent=False)
        self.norm = channels_in ** -0.5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = torch.index_select(self.weight, 0, self.degree)  # [D, C_in, C_out]
        return torch.einsum("ncd,dce->ned", x, w) * self.norm


class SpeciesDegreeLinear(nn.Module):
    """A DegreeLinear whose weights depend on the species of the node (MACE's skip connection)."""

    def __init__(self, channels_in: int, channels_out: int, lmax: int, num_species: int):
        super().__init__()
        self.num_species = num_species
        self.linear = DegreeLinear(channels_in * num_species, channels_out, lmax)
        self.linear.norm = channels_in ** -0.5

    def forward(self, x: torch.Tensor, species_one_hot: torch.Tensor) -> torch.Tensor:
        n, c, d = x.shape
        spread = (species_one_hot[:, :, None, None] * x[:, None, :, :]).reshape(n, self.num_species * c, d)
        return self.linear(spread)
