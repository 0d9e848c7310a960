"""How much the members of a committee of models disagree on each frame."""
from __future__ import annotations

from typing import Iterable, List, Sequence

import numpy as np
from tqdm.auto import tqdm

from ..calculators import GauntCalculator
from .candidates import Candidate

SCORES = ("force_std", "energy_std_per_atom")


def committee_scores(candidates: List[Candidate], models: Sequence[str], device: str = "auto",
                     dtype=None, progress: bool = True) -> None:
    """Sets candidate.scores["force_std"] (eV/A: the largest over atoms of the committee's standard
    deviation of the force vector, sqrt(sum of the per-component variances)) and
    ["energy_std_per_atom"] (eV) for every candidate.  Needs two or more models."""
    if len(models) < 2:
        raise ValueError(f"committee disagreement needs two or more models, got {len(models)}")
    calc = GauntCalculator(list(models), device=device, dtype=dtype)
    for candidate in tqdm(candidates, desc="committee", unit="frame", disable=not progress):
        atoms = candidate.atoms.copy()
        atoms.calc = calc
        atoms.get_forces()
        forces_var = calc.results["forces_var"]
        candidate.scores["force_std"] = float(np.sqrt(forces_var.sum(axis=1)).max())
        candidate.scores["energy_std_per_atom"] = float(np.sqrt(calc.results["energy_var"]) / len(atoms))
