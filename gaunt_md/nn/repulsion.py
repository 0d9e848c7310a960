"""Core repulsion: a pair term that is exactly zero wherever the training data went and walls off
shorter distances, where the learned energy is an extrapolation that can open holes (3BPA: the
amine H-N-H angle closing to 46 degrees, H-H 0.8 A, at 100 K).

E_pair = k (r_core - r)^3 for r < r_core, else 0 (continuous with two derivatives at r_core),
with r_core per species pair, by default 0.95 x the shortest distance of that pair in the training
set.  Each directed edge gives half the pair energy to its receiving atom, so per-atom energies
and the LAMMPS energy split stay consistent."""
from __future__ import annotations

from typing import Dict, List

import torch
from torch import nn


def pair_key(z1: int, z2: int) -> str:
    a, b = sorted((int(z1), int(z2)))
    return f"{a}-{b}"


class CoreRepulsion(nn.Module):
    def __init__(self, atomic_numbers: List[int], core_radii: Dict[str, float], stiffness: float):
        super().__init__()
        radius = torch.zeros(len(atomic_numbers), len(atomic_numbers), dtype=torch.float64)
        for i, zi in enumerate(atomic_numbers):
            for j, zj in enumerate(atomic_numbers):
                radius[i, j] = float(core_radii.get(pair_key(zi, zj), 0.0))
        # rebuilt from the model config, so older checkpoints without it still load
        self.register_buffer("radius", radius, persistent=False)
        self.stiffness = float(stiffness)
        self.enabled = bool((radius > 0).any())

    def forward(self, lengths: torch.Tensor, species: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        """[E] edge lengths -> [N] energy per atom."""
        energy = torch.zeros(species.shape[0], dtype=lengths.dtype, device=lengths.device)
        if not self.enabled:
            return energy
        r_core = self.radius.to(lengths.dtype)[species[edge_index[0]], species[edge_index[1]]]
        depth = torch.clamp(r_core - lengths, min=0.0)
        return energy.index_add(0, edge_index[0], 0.5 * self.stiffness * depth**3)
