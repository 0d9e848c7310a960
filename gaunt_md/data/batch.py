"""Several graphs as one disconnected graph."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import List, Optional

import torch

from .graph import AtomicGraph
from .inputs import ModelInputs


@dataclass
class Batch:
    positions: torch.Tensor     # [N, 3]
    species: torch.Tensor       # [N] long
    edge_index: torch.Tensor    # [2, E] long, offset into the batch's atoms
    shifts: torch.Tensor        # [E, 3]
    batch: torch.Tensor         # [N] long, graph of each atom
    ptr: torch.Tensor           # [G+1] long, atoms of graph g are ptr[g]:ptr[g+1]
    cell: torch.Tensor          # [G, 3, 3]
    pbc: torch.Tensor           # [G, 3] bool
    num_atoms: torch.Tensor     # [G] long
    num_graphs: int
    # A label is None when no graph of the batch has it; otherwise graphs without it hold
    # zeros there and are False in the matching [G] mask.
    energy: Optional[torch.Tensor]   # [G]
    forces: Optional[torch.Tensor]   # [N, 3]
    stress: Optional[torch.Tensor]   # [G, 3, 3]
    energy_mask: torch.Tensor        # [G] bool
    forces_mask: torch.Tensor        # [G] bool (per atom: forces_mask[batch])
    stress_mask: torch.Tensor        # [G] bool
    energy_weight: torch.Tensor      # [G]
    forces_weight: torch.Tensor      # [G]
    stress_weight: torch.Tensor      # [G]

    def to(self, device=None, dtype: Optional[torch.dtype] = None) -> "Batch":
        """Moves every tensor to `device`; floating tensors also become `dtype` (if given)."""
        moved = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, torch.Tensor):
                value = value.to(device=device, dtype=dtype if dtype is not None and value.is_floating_point() else None)
            moved[f.name] = value
        return Batch(**moved)

    def inputs(self) -> ModelInputs:
        """What the model is called with: `model(batch.inputs(), compute_forces=..., ...)`."""
        return ModelInputs(self.positions, self.species, self.edge_index, self.shifts, self.batch, self.cell,
                           self.num_graphs)


def _labels(values: List[Optional[torch.Tensor]], shapes: List[tuple], cat: bool):
    mask = torch.tensor([v is not None for v in values], dtype=torch.bool)
    if not mask.any():
        return None, mask
    like = next(v for v in values if v is not None)
    filled = [v if v is not None else like.new_zeros(shape) for v, shape in zip(values, shapes)]
    return (torch.cat(filled) if cat else torch.stack(filled)), mask


def collate(graphs: List[AtomicGraph]) -> Batch:
    if not graphs:
        raise ValueError("cannot collate an empty list of graphs")
    sizes = torch.tensor([g.num_atoms for g in graphs], dtype=torch.long)
    ptr = torch.zeros(len(graphs) + 1, dtype=torch.long)
    ptr[1:] = torch.cumsum(sizes, 0)
    energy, energy_mask = _labels([g.energy for g in graphs], [()] * len(graphs), cat=False)
    forces, forces_mask = _labels([g.forces for g in graphs], [(g.num_atoms, 3) for g in graphs], cat=True)
    stress, stress_mask = _labels([g.stress for g in graphs], [(3, 3)] * len(graphs), cat=False)
    dtype = graphs[0].positions.dtype
    return Batch(
        positions=torch.cat([g.positions for g in graphs]),
        species=torch.cat([g.species for g in graphs]),
        edge_index=torch.cat([g.edge_index + ptr[k] for k, g in enumerate(graphs)], dim=1),
        shifts=torch.cat([g.shifts for g in graphs]),
        batch=torch.repeat_interleave(torch.arange(len(graphs)), sizes),
        ptr=ptr,
        cell=torch.stack([g.cell for g in graphs]),
        pbc=torch.stack([g.pbc for g in graphs]),
        num_atoms=sizes,
        num_graphs=len(graphs),
        energy=energy,
        forces=forces,
        stress=stress,
        energy_mask=energy_mask,
        forces_mask=forces_mask,
        stress_mask=stress_mask,
        energy_weight=torch.tensor([g.energy_weight for g in graphs], dtype=dtype),
        forces_weight=torch.tensor([g.forces_weight for g in graphs], dtype=dtype),
        stress_weight=torch.tensor([g.stress_weight for g in graphs], dtype=dtype),
    )
