"""Model predictions and error metrics over a list of graphs."""
from __future__ import annotations

from typing import List

import torch

from .dataset import batches
from .metrics import ErrorAccumulator


def evaluate(model, graphs: List, batch_size: int, device, dtype) -> dict:
    """{'metrics': {...}, 'energy': [per graph], 'forces': [per graph, [N, 3]]}."""
    errors = ErrorAccumulator()
    energies, forces = [], []
    was_training = model.training
    model.eval()
    for batch in batches(graphs, batch_size, None):
        batch = batch.to(device, dtype)
        pred = model(batch.positions, batch.species, batch.edge_index, batch.shifts, batch.batch,
                     batch.cell, batch.num_graphs, True, False, False)
        errors.add(pred["energy"], batch.energy, batch.num_atoms, pred["forces"], batch.forces)
        energies.extend(pred["energy"].detach().cpu().tolist())
        forces.extend(torch.split(pred["forces"].detach().cpu(), batch.num_atoms.tolist()))
    model.train(was_training)
    return {"metrics": errors.summary(), "energy": energies, "forces": [f.numpy() for f in forces]}
