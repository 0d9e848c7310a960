"""ASE calculator for exported Gaunt-MACE models: `atoms.calc = GauntCalculator("model.pt")`."""
from __future__ import annotations

from typing import List, Mapping, Optional, Sequence, Union

import numpy as np
import torch
from ase.calculators.calculator import Calculator, PropertyNotImplementedError, all_changes
from ase.stress import full_3x3_to_voigt_6_stress

from ..data import ModelInputs, SpeciesTable, collate, graph_from_atoms
from .atom_stress import atom_stresses
from ..deploy import LoadedModel, load_model
from ..deploy.guards import OVERLAP_DISTANCE, non_finite, overlapping_edges


class GauntCalculator(Calculator):
    """Energy, per-atom energies, forces and (periodic cells) stress and per-atom stresses
    (`get_stresses`: each edge's virial split between its atoms, summing to the stress) from one
    exported model, or from a committee of models (mean, plus `energy_var` / `forces_var` /
    `stress_var` across members).  `routes` ({op: route}, gaunt_md/ops/routes.py) chooses how
    the ops run, e.g. {"conv": "torch"}.  `flush_denormal`: see load_model (float32 on CPU)."""

    implemented_properties = ["energy", "free_energy", "energies", "forces", "stress", "stresses"]

    def __init__(self, model_path: Union[str, Sequence[str]], device: str = "auto",
                 dtype: Optional[str] = None, routes: Optional[Mapping[str, str]] = None,
                 flush_denormal: bool = True, **kwargs):
        super().__init__(**kwargs)
        paths = [model_path] if isinstance(model_path, (str, bytes)) or hasattr(model_path, "__fspath__") else list(model_path)
        if not paths:
            raise ValueError("GauntCalculator needs at least one model path")
        self.models: List[LoadedModel] = [load_model(p, device=device, dtype=dtype, routes=routes,
                                                            flush_denormal=flush_denormal) for p in paths]
        first = self.models[0]
        for other, path in zip(self.models[1:], paths[1:]):
            if other.atomic_numbers != first.atomic_numbers or other.r_max != first.r_max:
                raise ValueError(f"committee member {path} has different elements or r_max than {paths[0]}")
        self.species = SpeciesTable(first.atomic_numbers)
        self.r_max = first.r_max
        self.device = first.device
        self.dtype = first.dtype
        if len(self.models) > 1:
            self.implemented_properties = self.implemented_properties + ["energy_var", "forces_var", "stress_var"]

    def _inputs(self, atoms) -> ModelInputs:
        """The model's inputs for `atoms`, built as training builds them (graph_from_atoms)."""
        if not np.all(np.isfinite(atoms.positions)):
            raise ValueError("atoms.positions contains NaN or infinite values")
        graph = graph_from_atoms(atoms, self.species, self.r_max, dtype=torch.float64)
        _check_overlaps(atoms, graph.positions.numpy(), graph.edge_index.numpy(), graph.shifts.numpy())
        return collate([graph]).to(self.device, self.dtype).inputs()

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        want_atom_stress = "stresses" in properties
        want_stress = "stress" in properties or "stress_var" in properties or want_atom_stress
        if want_stress and not atoms.pbc.any():
            raise PropertyNotImplementedError("stress needs a periodic cell (atoms.pbc is all False)")
        if want_stress and abs(np.linalg.det(atoms.cell.array)) < 1e-9:
            # e.g. a slab whose non-periodic cell vector is zero: no volume to divide by
            raise PropertyNotImplementedError(f"stress needs a cell of non-zero volume, got\n{atoms.cell.array}")
        # forces and stress are autograd derivatives: they need grad mode whatever the caller's
        with torch.inference_mode(False), torch.enable_grad():
            inputs = self._inputs(atoms)
            outputs = [m.module(inputs, compute_forces=True, compute_stress=want_stress) for m in self.models]
            volume = abs(float(np.linalg.det(atoms.cell.array))) if want_atom_stress else 1.0
            per_atom = (torch.stack([atom_stresses(m.module, inputs, volume)
                                     for m in self.models]).detach().cpu().double().numpy()
                        if want_atom_stress else np.zeros(0))
        energy = torch.stack([o["energy"][0] for o in outputs]).detach().cpu().double().numpy()
        forces = torch.stack([o["forces"] for o in outputs]).detach().cpu().double().numpy()
        energies = torch.stack([o["node_energy"] for o in outputs]).detach().cpu().double().numpy()
        stress = (torch.stack([o["stress"][0] for o in outputs]).detach().cpu().double().numpy()
                  if want_stress else np.zeros(0))
        bad = non_finite({"energy": energy, "forces": forces, "energies": energies, "stress": stress,
                          "stresses": per_atom})
        if bad:
            raise FloatingPointError(f"the model gave non-finite {', '.join(bad)} for {atoms.get_chemical_formula()} "
                                     "(no result is returned)")
        self.results = {
            "energy": float(energy.mean()),
            "free_energy": float(energy.mean()),
            "energies": energies.mean(axis=0),
            "forces": forces.mean(axis=0),
        }
        if want_stress:
            self.results["stress"] = full_3x3_to_voigt_6_stress(stress.mean(axis=0))
        if want_atom_stress:
            self.results["stresses"] = full_3x3_to_voigt_6_stress(per_atom.mean(axis=0))
        if len(self.models) > 1:
            self.results["energy_var"] = float(energy.var())
            self.results["forces_var"] = forces.var(axis=0)
            if want_stress:
                self.results["stress_var"] = full_3x3_to_voigt_6_stress(stress).var(axis=0)


def _check_overlaps(atoms, positions: np.ndarray, edge_index: np.ndarray, shifts: np.ndarray) -> None:
    """ValueError naming the atoms that sit on top of each other (or of a periodic image)."""
    vectors = positions[edge_index[1]] - positions[edge_index[0]] + shifts
    pairs = overlapping_edges(vectors, edge_index)
    if not pairs:
        return
    symbols = atoms.get_chemical_symbols()
    text = "; ".join(
        f"atoms {i} ({symbols[i]}) and {j} ({symbols[j]}) {d:.2g} A apart" if i != j else
        f"atom {i} ({symbols[i]}) and its periodic image {d:.2g} A apart"
        for i, j, d in pairs[:5]
    )
    more = f" and {len(pairs) - 5} more pair(s)" if len(pairs) > 5 else ""
    raise ValueError(f"overlapping atoms (closer than {OVERLAP_DISTANCE:g} A): {text}{more}; "
                     "the model is undefined there")
