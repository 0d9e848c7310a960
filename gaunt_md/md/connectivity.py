"""Bond graph of a reference geometry: which pairs are bonded, and how long each bond is.

Two atoms are bonded when their distance is below `mult` times the sum of their covalent radii
(ase.neighborlist.natural_cutoffs; mult 1.2 finds every C-H, C-C, C-N, C-O, N-H and O-H bond of
an organic molecule at equilibrium and no 1-3 pair)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.neighborlist import natural_cutoffs

BOND_MULT = 1.2


def pair_distances(positions: np.ndarray) -> np.ndarray:
    """[N, N] matrix of interatomic distances (non-periodic)."""
    diff = positions[:, None, :] - positions[None, :, :]
    return np.sqrt((diff * diff).sum(-1))


@dataclass
class Connectivity:
    symbols: list                # chemical symbols, atom order
    pairs: np.ndarray            # [B, 2] bonded atom pairs, i < j
    ref_lengths: np.ndarray      # [B] bond lengths in the reference geometry (Angstrom)
    bond_cutoff: np.ndarray      # [N, N] distance below which a pair counts as bonded
    bonded: np.ndarray           # [N, N] bool, reference bonds (symmetric)
    is_h: np.ndarray             # [N] bool, hydrogen atoms

    @classmethod
    def from_atoms(cls, atoms: Atoms, mult: float = BOND_MULT) -> "Connectivity":
        if atoms.pbc.any():
            raise ValueError("the stability criteria are for isolated molecules (pbc must be False)")
        radii = np.asarray(natural_cutoffs(atoms, mult=mult), dtype=float)
        cutoff = radii[:, None] + radii[None, :]
        dist = pair_distances(atoms.get_positions())
        bonded = dist < cutoff
        np.fill_diagonal(bonded, False)
        i, j = np.nonzero(np.triu(bonded, k=1))
        pairs = np.stack([i, j], axis=1)
        return cls(
            symbols=atoms.get_chemical_symbols(), pairs=pairs, ref_lengths=dist[i, j],
            bond_cutoff=cutoff, bonded=bonded, is_h=atoms.numbers == 1,
        )

    @property
    def n_bonds(self) -> int:
        return len(self.pairs)

    def bond_lengths(self, positions: np.ndarray) -> np.ndarray:
        """[B] current lengths of the reference bonds."""
        d = positions[self.pairs[:, 0]] - positions[self.pairs[:, 1]]
        return np.sqrt((d * d).sum(-1))

    def bond_types(self) -> list:
        """'C-H', 'C-C', ... for each bond (elements in alphabetical order)."""
        return ["-".join(sorted((self.symbols[i], self.symbols[j]))) for i, j in self.pairs]

    def label(self, i: int, j: int) -> str:
        return f"{self.symbols[i]}{i}-{self.symbols[j]}{j}"
