"""One structure as tensors: atoms, edges within the cutoff, optional labels."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

from .neighbours import neighbour_list
from .species import SpeciesTable


@dataclass
class AtomicGraph:
    positions: torch.Tensor          # [N, 3]
    species: torch.Tensor            # [N] long, index into the SpeciesTable
    edge_index: torch.Tensor         # [2, E] long: receiver i, neighbour j
    shifts: torch.Tensor             # [E, 3] Cartesian periodic shifts
    cell: torch.Tensor               # [3, 3]
    pbc: torch.Tensor                # [3] bool
    energy: Optional[torch.Tensor] = None   # scalar, eV
    forces: Optional[torch.Tensor] = None   # [N, 3], eV/A
    stress: Optional[torch.Tensor] = None   # [3, 3], eV/A^3

    @property
    def num_atoms(self) -> int:
        return int(self.positions.shape[0])


def graph_from_atoms(atoms, species: SpeciesTable, cutoff: float, energy_key: Optional[str] = None,
                     forces_key: Optional[str] = None, stress_key: Optional[str] = None,
                     dtype: torch.dtype = torch.float64) -> AtomicGraph:
    edge_index, shifts = neighbour_list(atoms.positions, atoms.cell.array, atoms.pbc, cutoff)
    label = lambda value: None if value is None else torch.as_tensor(np.asarray(value), dtype=dtype)
    return AtomicGraph(
        positions=torch.as_tensor(atoms.positions, dtype=dtype),
        species=torch.as_tensor(species.index(atoms.numbers), dtype=torch.long),
        edge_index=torch.as_tensor(edge_index, dtype=torch.long),
        shifts=torch.as_tensor(shifts, dtype=dtype),
        cell=torch.as_tensor(atoms.cell.array, dtype=dtype),
        pbc=torch.as_tensor(np.asarray(atoms.pbc, dtype=bool)),
        energy=label(atoms.info.get(energy_key)) if energy_key else None,
        forces=label(atoms.arrays.get(forces_key)) if forces_key else None,
        stress=label(atoms.info.get(stress_key)) if stress_key else None,
    )
