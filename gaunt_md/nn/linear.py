"""Equivariant linear maps on features [nodes, channels, (L+1)^2]: channel mixing per degree."""
from __future__ import annotations

from typing import List

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


class PathDegreeLinear(nn.Module):
    """Channel mixing of an interaction's separate path outputs into one set per degree:
    out[n, e, lm] = sum_{p, c} W_l[p, c, e] x[n, c, slot_p + m] / sqrt(P_l C_in), summed over the
    P_l paths of degree l (their slots grouped by degree, as ops.conv.output_slots lays them out;
    MACE's linear map after the convolution)."""

    def __init__(self, channels_in: int, channels_out: int, paths_per_degree: List[int]):
        super().__init__()
        if any(count < 1 for count in paths_per_degree):
            raise ValueError(f"every degree needs a path, got {paths_per_degree} paths per degree")
        self.paths_per_degree = list(paths_per_degree)
        self.weight = nn.Parameter(
            torch.randn(sum(paths_per_degree), channels_in, channels_out, dtype=torch.float64))
        self.norms = [(count * channels_in) ** -0.5 for count in paths_per_degree]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c = x.shape[0], x.shape[1]
        outs: List[torch.Tensor] = []
        slot, first = 0, 0
        for l, count in enumerate(self.paths_per_degree):
            width = 2 * l + 1
            block = x[:, :, slot:slot + count * width].reshape(n, c, count, width)
            w = self.weight[first:first + count]                              # [P_l, C_in, C_out]
            outs.append(torch.einsum("ncpm,pce->nem", block, w) * self.norms[l])
            slot += count * width
            first += count
        return torch.cat(outs, dim=2)


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
