"""Per-atom stresses (ASE's `stresses`) of an exported model: each edge's virial term split
half-and-half between its two atoms, as the LAMMPS pair style splits it for per-atom virials,
divided by the cell volume.  They sum to the stress of the cell."""
from __future__ import annotations

import torch


def atom_stresses(module, positions: torch.Tensor, species: torch.Tensor, edge_index: torch.Tensor,
                  shifts: torch.Tensor, volume: float) -> torch.Tensor:
    """[N, 3, 3] in eV/A^3 (ASE's sign: positive under tension)."""
    vectors = (positions[edge_index[1]] - positions[edge_index[0]] + shifts).detach().requires_grad_(True)
    energy = module.node_energies(vectors, species, edge_index).sum()
    (de_dvec,) = torch.autograd.grad([energy], [vectors], allow_unused=False)
    edge_virial = -vectors.detach()[:, :, None] * de_dvec[:, None, :]      # [E, 3, 3]
    half = 0.5 * edge_virial
    virial = torch.zeros((positions.shape[0], 3, 3), dtype=positions.dtype, device=positions.device)
    virial = virial.index_add(0, edge_index[0], half).index_add(0, edge_index[1], half)
    return -virial / volume
