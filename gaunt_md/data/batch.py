"""Several graphs as one disconnected graph."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import List, Optional

import torch

from .graph import AtomicGraph


@dataclass
class Batch:
    positions: torch.Tensor
    species: torch.Tensor
    edge_index: torch.Tensor
    shifts: torch.Tensor
    batch: torch.Tensor         # [N] graph of each atom
    ptr: torch.Tensor           # [G+1] atom offsets
    cell: torch.Tensor          # [G, 3, 3]
    num_atoms: torch.Tensor     # [G]
    num_graphs: int
    energy: Optional[torch.Tensor] = None   # [G]
    forces: Optional[torch.Tensor] = None   # [N, 3]
    stress: Optional[torch.Tensor] = None   # [G, 3, 3]

    def to(self, device, dtype: torch.dtype) -> "Batch":
        moved = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, torch.Tensor):
                value = value.to(device=device, dtype=dtype if value.is_floating_point() else value.dtype)
            moved[f.name] = value
        return Batch(**moved)


def _stack_labels(values: List[Optional[torch.Tensor]], cat: bool) -> Optional[torch.Tensor]:
    if any(v is None for v in values):
        return None  # a label is used only when every graph of the batch has it
    return torch.cat(values) if cat else torch.stack(values)


def collate(graphs: List[AtomicGraph]) -> Batch:
    if not graphs:
        raise ValueError("cannot collate an empty list of graphs")
    sizes = torch.tensor([g.num_atoms for g in graphs], dtype=torch.long)
    ptr = torch.zeros(len(graphs) + 1, dtype=torch.long)
    ptr[1:] = torch.cumsum(sizes, 0)
    return Batch(
        positions=torch.cat([g.positions for g in graphs]),
        species=torch.cat([g.species for g in graphs]),
        edge_index=torch.cat([g.edge_index + ptr[k] for k, g in enumerate(graphs)], dim=1),
        shifts=torch.cat([g.shifts for g in graphs]),
        batch=torch.repeat_interleave(torch.arange(len(graphs)), sizes),
        ptr=ptr,
        cell=torch.stack([g.cell for g in graphs]),
        num_atoms=sizes,
        num_graphs=len(graphs),
        energy=_stack_labels([g.energy for g in graphs], cat=False),
        forces=_stack_labels([g.forces for g in graphs], cat=True),
        stress=_stack_labels([g.stress for g in graphs], cat=False),
    )
