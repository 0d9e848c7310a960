"""Radial features of an edge: Bessel basis times a smooth polynomial cutoff, then an MLP."""
from __future__ import annotations

import math
from typing import List

import torch
from torch import nn

from ..ops.conv import silu_mlp


class BesselBasis(nn.Module):
    """sqrt(2/r_max) sin(n pi r / r_max) / r, n = 1..num_basis.

    The frequencies are fixed by default, as in MACE: trained ones drift (the first one to
    0.59 pi / r_max in an earlier 3BPA potential) and reshape the radial basis where the data
    has no say.  `trainable=True` makes them parameters."""

    def __init__(self, r_max: float, num_basis: int = 8, trainable: bool = False):
        super().__init__()
        self.r_max = float(r_max)
        frequencies = math.pi / r_max * torch.arange(1, num_basis + 1, dtype=torch.float64)
        if trainable:
            self.frequencies = nn.Parameter(frequencies)
        else:
            self.register_buffer("frequencies", frequencies)
        self.prefactor = math.sqrt(2.0 / r_max)

    def forward(self, r: torch.Tensor) -> torch.Tensor:  # [E, 1] -> [E, num_basis]
        return self.prefactor * torch.sin(self.frequencies * r) / r


def polynomial_envelope(x: torch.Tensor, p: float) -> torch.Tensor:
    """1 at x = 0, 0 from x = 1 on, with p-1 continuous derivatives there (DimeNet's form)."""
    envelope = (
        1.0
        - (p + 1.0) * (p + 2.0) / 2.0 * torch.pow(x, p)
        + p * (p + 2.0) * torch.pow(x, p + 1)
        - p * (p + 1.0) / 2.0 * torch.pow(x, p + 2)
    )
    return envelope * (x < 1.0).to(x.dtype)


class PolynomialCutoff(nn.Module):
    """The polynomial envelope of r / r_max."""

    def __init__(self, r_max: float, p: int = 5):
        super().__init__()
        self.r_max = float(r_max)
        self.p = float(p)

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        return polynomial_envelope(r / self.r_max, self.p)


class RadialMLP(nn.Module):
    """Per-edge weights from the radial basis: SiLU MLP with a linear last layer."""

    def __init__(self, sizes: List[int]):
        super().__init__()
        layers: List[nn.Module] = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1], bias=False))
            if i < len(sizes) - 2:
                layers.append(nn.SiLU())
        self.net = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return silu_mlp(features, self.weights())

    def weights(self) -> List[torch.Tensor]:
        """The Linear weights in order: forward and the fused convolution both run silu_mlp on them
        (the SiLU modules in `net` only keep the checkpoint layout)."""
        out: List[torch.Tensor] = []
        for layer in self.net:
            if hasattr(layer, "weight"):
                out.append(layer.weight)
        return out
