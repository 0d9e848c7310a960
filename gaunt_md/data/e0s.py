"""Reference (isolated-atom) energies E0 per element, in eV."""
from __future__ import annotations

from typing import Dict, List, Sequence

import numpy as np
from ase.data import chemical_symbols

from .extxyz import read_labelled_structures
from .labels import find_label


def e0s_from_isolated_atoms(path, energy_key: str = "energy") -> Dict[int, float]:
    """{atomic number: energy} from a file of single-atom frames (one per element)."""
    e0s: Dict[int, float] = {}
    for number, atoms in enumerate(read_labelled_structures(path, energy_key, forces_key=None)):
        if len(atoms) != 1:
            raise ValueError(f"{path}, frame {number}: expected one isolated atom, found {len(atoms)}")
        z = int(atoms.numbers[0])
        if z in e0s:
            raise ValueError(f"{path}, frame {number}: a second isolated {chemical_symbols[z]} atom")
        e0s[z] = float(atoms.info[energy_key])
    return e0s


def e0s_by_least_squares(atoms_list: List, energy_key: str, atomic_numbers: Sequence[int]) -> Dict[int, float]:
    """E0s that best fit energy ~ sum over atoms of E0[element] (counts @ e0 = energies)."""
    numbers = [int(z) for z in atomic_numbers]
    if not atoms_list:
        raise ValueError("E0s by least squares need at least one structure")
    energies = []
    for k, atoms in enumerate(atoms_list):
        energy = find_label(atoms, energy_key, per_atom=False)
        if energy is None:
            raise ValueError(f"structure {k} has no {energy_key!r} energy for the E0 fit")
        energies.append(float(energy.reshape(())))
        unknown = set(atoms.numbers.tolist()) - set(numbers)
        if unknown:
            raise ValueError(f"structure {k} contains elements {sorted(unknown)} outside {numbers}")
    counts = np.array([[np.sum(a.numbers == z) for z in numbers] for a in atoms_list], dtype=np.float64)
    if np.linalg.matrix_rank(counts) < len(numbers):
        raise ValueError(
            f"E0s by least squares are underdetermined: the element counts of {len(atoms_list)} "
            f"structures do not fix {len(numbers)} E0s (e.g. all have the same composition); "
            f"give an isolated-atoms file (data.e0s_file)"
        )
    solution, *_ = np.linalg.lstsq(counts, np.array(energies), rcond=None)
    return {z: float(e) for z, e in zip(numbers, solution)}
