"""Energy, force, stress and virial error statistics in the units people quote (meV, meV/atom,
meV/A, meV/A^3, virial in meV/atom)."""
from __future__ import annotations

from typing import Dict, Optional

import torch


class ErrorAccumulator:
    def __init__(self):
        self.e_err, self.e_err_per_atom, self.f_err = [], [], []
        self.s_err, self.v_err_per_atom = [], []

    def add(self, pred_energy, ref_energy, num_atoms, pred_forces=None, ref_forces=None,
            pred_stress=None, ref_stress=None, stress_mask: Optional[torch.Tensor] = None,
            volume: Optional[torch.Tensor] = None) -> None:
        """Energies [G], forces [N, 3], stress [G, 3, 3] (rows where stress_mask is False skipped),
        volume [G] (A^3) for the virial errors, -V * stress per atom."""
        de = (pred_energy - ref_energy).detach().double().cpu()
        n = num_atoms.detach().double().cpu()
        self.e_err.append(de)
        self.e_err_per_atom.append(de / n)
        if pred_forces is not None and ref_forces is not None:
            self.f_err.append((pred_forces - ref_forces).detach().double().cpu().flatten())
        if pred_stress is not None and ref_stress is not None:
            keep = (torch.ones(len(de), dtype=torch.bool) if stress_mask is None else stress_mask.detach().cpu())
            ds = (pred_stress - ref_stress).detach().double().cpu()[keep]
            self.s_err.append(ds.flatten())
            if volume is not None:
                v = volume.detach().double().cpu()[keep]
                self.v_err_per_atom.append((ds * (v / n[keep])[:, None, None]).flatten())

    def summary(self) -> Dict[str, float]:
        out: Dict[str, float] = {}
        if self.e_err:
            e = torch.cat(self.e_err) * 1000
            ea = torch.cat(self.e_err_per_atom) * 1000
            out.update(
                e_rmse_meV=float(e.pow(2).mean().sqrt()), e_mae_meV=float(e.abs().mean()),
                e_rmse_meV_per_atom=float(ea.pow(2).mean().sqrt()), e_mae_meV_per_atom=float(ea.abs().mean()),
            )
        if self.f_err:
            f = torch.cat(self.f_err) * 1000
            out.update(f_rmse_meV_per_A=float(f.pow(2).mean().sqrt()), f_mae_meV_per_A=float(f.abs().mean()))
        s = torch.cat(self.s_err) * 1000 if self.s_err else torch.zeros(0)
        if s.numel():
            out.update(s_rmse_meV_per_A3=float(s.pow(2).mean().sqrt()), s_mae_meV_per_A3=float(s.abs().mean()))
        v = torch.cat(self.v_err_per_atom) * 1000 if self.v_err_per_atom else torch.zeros(0)
        if v.numel():
            out.update(v_rmse_meV_per_atom=float(v.pow(2).mean().sqrt()), v_mae_meV_per_atom=float(v.abs().mean()))
        return out
