"""Energy and force error statistics in the units people quote (meV, meV/atom, meV/A)."""
from __future__ import annotations

from typing import Dict

import torch


class ErrorAccumulator:
    def __init__(self):
        self.e_err, self.e_err_per_atom, self.f_err = [], [], []

    def add(self, pred_energy, ref_energy, num_atoms, pred_forces=None, ref_forces=None) -> None:
        de = (pred_energy - ref_energy).detach().double().cpu()
        self.e_err.append(de)
        self.e_err_per_atom.append(de / num_atoms.detach().double().cpu())
        if pred_forces is not None and ref_forces is not None:
            self.f_err.append((pred_forces - ref_forces).detach().double().cpu().flatten())

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
        return out
