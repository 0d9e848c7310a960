"""What a Gaunt-MACE model is called with: `ModelInputs`, one or more graphs as one disconnected
graph, the same for training, evaluation, the ASE calculator and the LAMMPS pair style.

    model(inputs, compute_forces=True, compute_stress=False, training=False)
    model.forward_local(inputs, num_local, compute_virial=False)

Edges follow data/neighbours.py: for edge e with edge_index[:, e] = (i, j), the vector is
positions[j] - positions[i] + shifts[e].  `ModelInputs` is a NamedTuple, so TorchScript takes it
as the argument of an exported model's forward (any tuple of the same fields works there too)."""
from __future__ import annotations

from typing import NamedTuple, Optional

import torch


class ModelInputs(NamedTuple):
    positions: torch.Tensor     # [N, 3], Angstrom
    species: torch.Tensor       # [N] long, index into the model's elements (SpeciesTable)
    edge_index: torch.Tensor    # [2, E] long: row 0 centre i (receives), row 1 neighbour j
    shifts: torch.Tensor        # [E, 3] Cartesian periodic shifts, Angstrom
    batch: torch.Tensor         # [N] long, the graph of each atom
    cell: torch.Tensor          # [G, 3, 3], rows are lattice vectors (stress divides by |det|)
    num_graphs: int             # G


def single_graph_inputs(positions: torch.Tensor, species: torch.Tensor, edge_index: torch.Tensor,
                        shifts: Optional[torch.Tensor] = None,
                        cell: Optional[torch.Tensor] = None) -> ModelInputs:
    """ModelInputs of one graph: every atom in graph 0; no shifts (zeros) when the periodic images
    are atoms of their own (a LAMMPS rank's owned + ghost atoms); no cell (zeros) when no stress is
    asked for.  Tensors keep their device; shifts and cell take the positions' dtype."""
    num_edges = edge_index.shape[1]
    if shifts is None:
        shifts = positions.new_zeros((num_edges, 3))
    cell = positions.new_zeros((1, 3, 3)) if cell is None else cell.reshape(1, 3, 3)
    batch = torch.zeros(positions.shape[0], dtype=torch.long, device=positions.device)
    return ModelInputs(positions, species, edge_index, shifts, batch, cell, 1)
