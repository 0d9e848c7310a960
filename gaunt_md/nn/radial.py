"""Radial features of an edge: Bessel basis times a smooth polynomial cutoff, then an MLP."""
from __future__ import annotations

import math
from typing import Dict, List

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


class RadialFloor(nn.Module):
    """The edge length the radial basis sees, bounded below per species pair:

        r_seen = r_f + w softplus((r - r_f) / w)

    equal to r (within w e^-5 from r_f + 5w on) where the training data has edges, and flat at
    r_f below it.  Without it, a network trained on X-H bonds >= 0.94 A extrapolates its radial
    MLP into distances no frame had, where it returned +-1e3 eV for an H pushed into an atom; the
    floor keeps the learned energy at the value of the closest trained contact and leaves the
    short range to the ZBL repulsion.  `floors` [S, S] in A, 0 where a pair has no floor."""

    def __init__(self, floors: torch.Tensor, width: float):
        super().__init__()
        self.register_buffer("floors", floors.to(torch.float64), persistent=False)
        self.width = float(width)

    def forward(self, lengths: torch.Tensor, species_i: torch.Tensor, species_j: torch.Tensor) -> torch.Tensor:
        """[E, 1] lengths -> [E, 1] lengths seen by the radial basis."""
        pair = species_i * self.floors.shape[0] + species_j
        floor = self.floors.reshape(-1).index_select(0, pair).to(lengths.dtype).unsqueeze(-1)
        return floor + self.width * torch.nn.functional.softplus((lengths - floor) / self.width)


def pair_key(z_i: int, z_j: int) -> str:
    """'1-6': the key of a species pair (atomic numbers, smaller first) in ModelConfig.radial_floor."""
    a, b = sorted((int(z_i), int(z_j)))
    return f"{a}-{b}"


def floor_matrix(atomic_numbers: List[int], floors: Dict[str, float]) -> torch.Tensor:
    """[S, S] floors (A) in species-index order from {'1-6': r_f, ...}; 0 for absent pairs."""
    out = torch.zeros(len(atomic_numbers), len(atomic_numbers), dtype=torch.float64)
    for i, z_i in enumerate(atomic_numbers):
        for j, z_j in enumerate(atomic_numbers):
            out[i, j] = float(floors.get(pair_key(z_i, z_j), 0.0))
    return out


def _silu_second_moment() -> float:
    """E[silu(z)^2] for z ~ N(0, 1), by the trapezoid rule on [-12, 12].  Plain floats: a torch
    op at import would start torch's threads before a trainer sets their float mode."""
    steps, width = 24000, 24.0
    h = width / steps
    total = 0.0
    for k in range(steps + 1):
        z = -12.0 + k * h
        silu = z / (1.0 + math.exp(-z))
        total += (0.5 if k in (0, steps) else 1.0) * silu * silu * math.exp(-0.5 * z * z)
    return total * h / math.sqrt(2.0 * math.pi)


SILU_GAIN = _silu_second_moment() ** -0.5  # ~1.68: keeps unit second moments through a SiLU


class RadialMLP(nn.Module):
    """Per-edge weights from the radial basis: SiLU MLP with a linear last layer, no biases.

    `plain` (the default) is torch.nn.Linear's parametrisation (uniform weights of scale
    1/sqrt(fan_in), no gain): over four layers it shrinks the edge weights ~50x at initialisation,
    so the A features start at ~1e-4.  `normalized` is e3nn's: weights drawn from N(0, 1),
    multiplied in forward by 1/sqrt(fan_in) (and by SILU_GAIN after a SiLU), so every layer's output
    has a second moment of order one at initialisation (A features ~1e-2, as in mace-torch)."""

    def __init__(self, sizes: List[int], parametrisation: str = "plain"):
        super().__init__()
        if parametrisation not in ("normalized", "plain"):
            raise ValueError(f"radial parametrisation must be 'normalized' or 'plain', got {parametrisation!r}")
        layers: List[nn.Module] = []
        factors: List[float] = []
        for i in range(len(sizes) - 1):
            linear = nn.Linear(sizes[i], sizes[i + 1], bias=False)
            if parametrisation == "normalized":
                nn.init.normal_(linear.weight)
                factors.append((SILU_GAIN if i > 0 else 1.0) / math.sqrt(sizes[i]))
            else:
                factors.append(1.0)
            layers.append(linear)
            if i < len(sizes) - 2:
                layers.append(nn.SiLU())
        self.net = nn.Sequential(*layers)
        self.factors = factors

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return silu_mlp(features, self.weights())

    def weights(self) -> List[torch.Tensor]:
        """The effective Linear weights in order (parameter x constant factor): forward and the
        fused convolution both run silu_mlp on them (the SiLU modules in `net` only keep the
        checkpoint layout)."""
        out: List[torch.Tensor] = []
        i = 0
        for layer in self.net:
            if hasattr(layer, "weight"):
                factor = self.factors[i]
                out.append(layer.weight * factor if factor != 1.0 else layer.weight)
                i += 1
        return out
