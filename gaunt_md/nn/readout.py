"""Per-atom energy read out from the scalar (l = 0) channels."""
from __future__ import annotations

import torch
from torch import nn


class LinearReadout(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.linear = nn.Linear(channels, 1, bias=False)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.linear(features[:, :, 0]).squeeze(-1)


class MLPReadout(nn.Module):
    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(channels, hidden, bias=False), nn.SiLU(), nn.Linear(hidden, 1, bias=False))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(features[:, :, 0]).squeeze(-1)
