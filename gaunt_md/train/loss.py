"""Weighted squared-error loss on energies per atom, forces and stress."""
from __future__ import annotations

from typing import Dict

import torch


def weighted_loss(pred: Dict[str, torch.Tensor], batch, energy_weight: float, forces_weight: float,
                  stress_weight: float) -> torch.Tensor:
    num_atoms = batch.num_atoms.to(pred["energy"].dtype)
    loss = energy_weight * (((pred["energy"] - batch.energy) / num_atoms) ** 2).mean()
    if batch.forces is not None and "forces" in pred:
        loss = loss + forces_weight * ((pred["forces"] - batch.forces) ** 2).mean()
    if batch.stress is not None and "stress" in pred:
        loss = loss + stress_weight * ((pred["stress"] - batch.stress) ** 2).mean()
    return loss
