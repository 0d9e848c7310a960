"""Per-atom stresses (ASE's `stresses`) of an exported model: each edge's virial term split
half-and-half between its two atoms (the model's `forward_local` per-atom virial, as the LAMMPS
pair style uses it), divided by the cell volume.  They sum to the stress of the cell."""
from __future__ import annotations

import torch

from ..data.inputs import ModelInputs


def atom_stresses(module, inputs: ModelInputs, volume: float) -> torch.Tensor:
    """[N, 3, 3] in eV/A^3 (ASE's sign: positive under tension) of the one graph in `inputs`."""
    num_atoms = int(inputs.positions.shape[0])
    atom_virial = module.forward_local(inputs, num_atoms, compute_virial=True)["atom_virial"]
    return -atom_virial / volume
