"""Model predictions and error metrics over a list of graphs."""
from __future__ import annotations

from typing import List

import torch

from .dataset import batches
from .metrics import ErrorAccumulator


def evaluate(model, graphs: List, batch_size: int, device, dtype) -> dict:
    """{'metrics': {...}, 'energy': [per graph], 'forces': [per graph, [N, 3]],
    'stress': [per graph, [3, 3] or None]}.  Stress is predicted for the batches with stress
    labels; `model` is a GauntMACE or its exported TorchScript module."""
    errors = ErrorAccumulator()
    energies, forces, stresses = [], [], []
    was_training = model.training
    model.eval()
    for batch in batches(graphs, batch_size, None):
        batch = batch.to(device, dtype)
        want_stress = batch.stress is not None
        pred = model(batch.inputs(), compute_forces=True, compute_stress=want_stress)
        volume = torch.linalg.det(batch.cell).abs() if want_stress else None
        errors.add(pred["energy"], batch.energy, batch.num_atoms, pred["forces"], batch.forces,
                   pred.get("stress"), batch.stress, batch.stress_mask, volume)
        energies.extend(pred["energy"].detach().cpu().tolist())
        forces.extend(torch.split(pred["forces"].detach().cpu(), batch.num_atoms.tolist()))
        if want_stress:
            stresses.extend(s.numpy() if m else None
                            for s, m in zip(pred["stress"].detach().cpu().double(), batch.stress_mask.tolist()))
        else:
            stresses.extend([None] * batch.num_graphs)
    model.train(was_training)
    return {"metrics": errors.summary(), "energy": energies, "forces": [f.numpy() for f in forces],
            "stress": stresses}
