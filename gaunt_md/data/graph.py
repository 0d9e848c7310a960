"""One structure as tensors: atoms, edges within the cutoff, optional labels."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

from .labels import find_label, stress_as_3x3
from .neighbours import neighbour_list
from .species import SpeciesTable


@dataclass
class AtomicGraph:
    positions: torch.Tensor          # [N, 3], Angstrom
    species: torch.Tensor            # [N] long, index into the SpeciesTable
    edge_index: torch.Tensor         # [2, E] long: row 0 centre i, row 1 neighbour j (see neighbours.py)
    shifts: torch.Tensor             # [E, 3] Cartesian periodic shifts, Angstrom
    cell: torch.Tensor               # [3, 3], rows are lattice vectors
    pbc: torch.Tensor                # [3] bool
    energy: Optional[torch.Tensor] = None   # scalar, eV
    forces: Optional[torch.Tensor] = None   # [N, 3], eV/A
    stress: Optional[torch.Tensor] = None   # [3, 3], eV/A^3
    energy_weight: float = 1.0
    forces_weight: float = 1.0
    stress_weight: float = 1.0

    @property
    def num_atoms(self) -> int:
        return int(self.positions.shape[0])

    @property
    def num_edges(self) -> int:
        return int(self.edge_index.shape[1])


def graph_from_atoms(atoms, z_table: SpeciesTable, cutoff: float, energy_key: Optional[str] = None,
                     forces_key: Optional[str] = None, stress_key: Optional[str] = None,
                     dtype: torch.dtype = torch.float64, energy_weight: float = 1.0,
                     forces_weight: float = 1.0, stress_weight: float = 1.0) -> AtomicGraph:
    """Labels are looked up in atoms.info / atoms.arrays, then in atoms.calc results; a key
    that is given but absent leaves that label None (read_labelled_structures is the place
    that insists on labels).  Stress may be 3x3 or Voigt."""
    species = z_table.index(atoms.numbers)
    edge_index, shifts = neighbour_list(atoms.positions, atoms.cell.array, atoms.pbc, cutoff)
    as_float = lambda value: torch.as_tensor(np.asarray(value), dtype=dtype)
    energy = find_label(atoms, energy_key, per_atom=False) if energy_key else None
    forces = find_label(atoms, forces_key, per_atom=True) if forces_key else None
    stress = find_label(atoms, stress_key, per_atom=False) if stress_key else None
    return AtomicGraph(
        positions=as_float(atoms.positions),
        species=torch.as_tensor(species, dtype=torch.long),
        edge_index=torch.as_tensor(edge_index, dtype=torch.long),
        shifts=as_float(shifts),
        cell=as_float(atoms.cell.array),
        pbc=torch.as_tensor(np.asarray(atoms.pbc, dtype=bool)),
        energy=None if energy is None else as_float(energy.reshape(())),
        forces=None if forces is None else as_float(forces.reshape(len(atoms), 3)),
        stress=None if stress is None else as_float(stress_as_3x3(stress)),
        energy_weight=float(energy_weight),
        forces_weight=float(forces_weight),
        stress_weight=float(stress_weight),
    )
