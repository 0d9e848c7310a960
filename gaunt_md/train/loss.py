"""Weighted squared-error loss on energies per atom, forces and stress.

Frames without a label (masks from `collate`) do not count; per-frame weights (`energy_weight`,
`forces_weight`, `stress_weight`: the config_type weights) scale each frame's terms. Each term is a mean over the labelled entries, so a
batch where every frame is labelled with weight 1 gives the plain mean squared error."""
from __future__ import annotations

from typing import Dict

import torch


def _masked_mean(squared: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """sum(weight * squared) / number of labelled entries; weight is 0 where unlabelled."""
    weight = weight.reshape(weight.shape + (1,) * (squared.dim() - weight.dim()))
    weight = weight.expand_as(squared)
    count = (weight != 0).sum().clamp(min=1)
    return (weight * squared).sum() / count


def weighted_loss(pred: Dict[str, torch.Tensor], batch, energy_weight: float, forces_weight: float,
                  stress_weight: float) -> torch.Tensor:
    dtype = pred["energy"].dtype
    loss = pred["energy"].new_zeros(())
    if batch.energy is not None:
        num_atoms = batch.num_atoms.to(dtype)
        w = batch.energy_weight.to(dtype) * batch.energy_mask.to(dtype)
        loss = loss + energy_weight * _masked_mean(((pred["energy"] - batch.energy) / num_atoms) ** 2, w)
    if batch.forces is not None and "forces" in pred:
        per_frame = batch.forces_weight.to(dtype) * batch.forces_mask.to(dtype)
        loss = loss + forces_weight * _masked_mean((pred["forces"] - batch.forces) ** 2, per_frame[batch.batch])
    if batch.stress is not None and "stress" in pred:
        w = batch.stress_weight.to(dtype) * batch.stress_mask.to(dtype)
        loss = loss + stress_weight * _masked_mean((pred["stress"] - batch.stress) ** 2, w)
    return loss


def validation_loss(metrics: dict, energy_weight: float, forces_weight: float, stress_weight: float) -> float:
    """The training loss's weighting of the validation errors (RMSEs in eV units): the number
    the best model, early stopping and the LR plateau go by.  Stress counts where measured."""
    return (energy_weight * (metrics["e_rmse_meV_per_atom"] / 1000) ** 2
            + forces_weight * (metrics.get("f_rmse_meV_per_A", 0.0) / 1000) ** 2
            + stress_weight * (metrics.get("s_rmse_meV_per_A3", 0.0) / 1000) ** 2)
