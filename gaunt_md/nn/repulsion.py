"""ZBL screened nuclear repulsion: a physical short-range prior added to the learned energy.

    E_ij = k_e Z_i Z_j / r  phi(r / a_ij)  f(r / r_c,ij),   a_ij = 0.46850 / (Z_i^0.23 + Z_j^0.23) A

with the universal screening function phi of Ziegler, Biersack and Littmark ("The Stopping and
Range of Ions in Solids", 1985) and a polynomial envelope f (p = 6) that takes the term to zero
at r_c,ij.  With cutoff_at="covalent" (the default) r_c,ij is the sum of the two covalent radii
(Cordero et al. 2008, ase.data.covalent_radii), or the pair's radial floor (see
radial.RadialFloor) where that is longer: below the floor the network no longer resolves
distance, so the prior must own that range.  On 3BPA frames the covalent sum reaches some bonds
(aromatic C-C, C=O): ~1 eV/A RMS of force that the network learns to cancel.  "floor" ends
every pair with a floor at the floor itself (below every training distance: exactly zero on
every training frame); pairs without one end at the covalent sum.  "hydrogen" takes the
covalent end for pairs with an H and the floor for pairs of heavy atoms: the covalent sums of
heavy atoms reach their bonds (the force the network cancels), those with an H do not (H-C 1.07
A against a 1.09 A bond) but keep a compressed X-H, or an H pushed at an N or O, repelled where
the floor alone leaves the network to extrapolate.  Either way it is the bare
Coulomb repulsion of the nuclei, screened by their electrons: tens of eV when two atoms are
pushed to 0.5 A, whatever the training data sampled.

Each directed edge gives half the pair energy to its receiving atom, so per-atom energies and
the LAMMPS energy split stay consistent."""
from __future__ import annotations

from typing import List, Optional

import torch
from ase.data import covalent_radii
from torch import nn

from .radial import polynomial_envelope

COULOMB_EV_A = 14.399645  # e^2 / (4 pi eps0) in eV A
SCREENING_LENGTH_A = 0.46850  # 0.8854 x Bohr radius
SCREENING_EXPONENT = 0.23
PHI_COEFFICIENTS = (0.18175, 0.50986, 0.28022, 0.02817)
PHI_EXPONENTS = (3.19980, 0.94229, 0.40290, 0.20162)
ENVELOPE_P = 6.0
CUTOFF_MODES = ("covalent", "floor", "hydrogen")


class ZBLRepulsion(nn.Module):
    def __init__(self, atomic_numbers: List[int], floors: Optional[torch.Tensor] = None, cutoff_at: str = "covalent"):
        super().__init__()
        if cutoff_at not in CUTOFF_MODES:
            raise ValueError(f"ZBL cutoff_at must be one of {CUTOFF_MODES}, got {cutoff_at!r}")
        z = torch.tensor([float(a) for a in atomic_numbers], dtype=torch.float64)
        radii = torch.tensor([float(covalent_radii[a]) for a in atomic_numbers], dtype=torch.float64)
        zp = z.pow(SCREENING_EXPONENT)
        cutoff = radii[:, None] + radii[None, :]
        if floors is not None:
            floors = floors.to(torch.float64)
            at_floor = torch.where(floors > 0, floors, cutoff)
            at_covalent = torch.maximum(cutoff, floors)
            if cutoff_at == "floor":
                cutoff = at_floor
            elif cutoff_at == "covalent":
                cutoff = at_covalent
            else:
                has_h = (z[:, None] == 1) | (z[None, :] == 1)
                cutoff = torch.where(has_h, at_covalent, at_floor)
        # per species pair, rebuilt from atomic_numbers (not saved in checkpoints)
        self.register_buffer("charge_product", z[:, None] * z[None, :], persistent=False)
        self.register_buffer("screening", SCREENING_LENGTH_A / (zp[:, None] + zp[None, :]), persistent=False)
        self.register_buffer("cutoff", cutoff, persistent=False)
        self.register_buffer("phi_coefficients", torch.tensor(PHI_COEFFICIENTS, dtype=torch.float64),
                             persistent=False)
        self.register_buffer("phi_exponents", torch.tensor(PHI_EXPONENTS, dtype=torch.float64), persistent=False)
        self.coulomb = COULOMB_EV_A
        self.envelope_p = ENVELOPE_P

    def pair_energy(self, lengths: torch.Tensor, species_i: torch.Tensor, species_j: torch.Tensor) -> torch.Tensor:
        """[E] distances of species pairs -> [E] ZBL energies (eV)."""
        pair = species_i * self.cutoff.shape[0] + species_j
        screening = self.screening.reshape(-1).index_select(0, pair)
        cutoff = self.cutoff.reshape(-1).index_select(0, pair)
        charges = self.charge_product.reshape(-1).index_select(0, pair)
        x = lengths / screening
        phi = (self.phi_coefficients * torch.exp(-self.phi_exponents * x.unsqueeze(-1))).sum(-1)
        envelope = polynomial_envelope(lengths / cutoff, self.envelope_p)
        # lengths beyond every cutoff never divide by a tiny number: clamp keeps 0/0 out of the graph
        return self.coulomb * charges / lengths.clamp_min(1e-6) * phi * envelope

    def forward(self, lengths: torch.Tensor, species: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        """[E] edge lengths -> [N] energy per atom."""
        energy = self.pair_energy(lengths, species[edge_index[0]], species[edge_index[1]])
        return torch.zeros(species.shape[0], dtype=lengths.dtype, device=lengths.device).index_add(
            0, edge_index[0], 0.5 * energy)
