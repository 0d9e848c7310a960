"""Reference (isolated-atom) energies E0 per element, in eV."""
from __future__ import annotations

from typing import Dict, List, Mapping, Sequence, Tuple, Union

import numpy as np
from ase.data import atomic_numbers as symbol_numbers
from ase.data import chemical_symbols

from .extxyz import read_labelled_structures
from .labels import find_label


def e0s_from_isolated_atoms(path, energy_key: str = "energy") -> Dict[int, float]:
    """{atomic number: energy} from a file of single-atom frames (one per element)."""
    e0s: Dict[int, float] = {}
    for number, atoms in enumerate(read_labelled_structures(path, energy_key, forces_key=None)):
        _add_isolated_atom(e0s, atoms, energy_key, f"{path}, frame {number}")
    return e0s


def _add_isolated_atom(e0s: Dict[int, float], atoms, energy_key: str, where: str) -> None:
    """e0s[Z] = the energy of `atoms`, a single atom not seen before (else a clear error)."""
    if len(atoms) != 1:
        raise ValueError(f"{where}: expected one isolated atom, found {len(atoms)}")
    z = int(atoms.numbers[0])
    if z in e0s:
        raise ValueError(f"{where}: a second isolated {chemical_symbols[z]} atom")
    e0s[z] = float(atoms.info[energy_key])


ISOLATED_ATOM = "IsolatedAtom"   # config_type of isolated-atom frames inside a training file


def is_isolated_atom(atoms) -> bool:
    """Is this frame marked as an isolated atom (an E0, not a training structure)?"""
    return atoms.info.get("config_type") == ISOLATED_ATOM


def e0s_from_mapping(mapping: Mapping[Union[int, str], float]) -> Dict[int, float]:
    """{atomic number: energy} from a mapping keyed by element symbol or atomic number."""
    out: Dict[int, float] = {}
    for key, energy in mapping.items():
        if isinstance(key, str) and key.strip().isdigit():
            key = int(key)
        z = key if isinstance(key, int) else symbol_numbers.get(str(key).strip())
        if z is None or not 0 < z < len(chemical_symbols):
            raise ValueError(f"data.e0s: {key!r} is not an element symbol or atomic number")
        if z in out:
            raise ValueError(f"data.e0s: {chemical_symbols[z]} given twice")
        out[z] = float(energy)
    return out


def split_isolated_atoms(frames: List, energy_key: str) -> Tuple[List, Dict[int, float]]:
    """(the other frames, {atomic number: energy}) of frames with info["config_type"] ==
    "IsolatedAtom" (single atoms, as mace-torch marks them in a training file)."""
    rest, e0s = [], {}
    for number, atoms in enumerate(frames):
        if not is_isolated_atom(atoms):
            rest.append(atoms)
            continue
        _add_isolated_atom(e0s, atoms, energy_key, f"frame {number} (config_type {ISOLATED_ATOM})")
    return rest, e0s


def e0s_by_average(atoms_list: List, energy_key: str, atomic_numbers: Sequence[int]) -> Dict[int, float]:
    """Every element the same E0: the mean energy per atom of the structures (defined for any
    data set, one composition included; the network learns what differs between elements)."""
    energies = [float(find_label(a, energy_key, per_atom=False).reshape(())) for a in atoms_list]
    per_atom = sum(energies) / sum(len(a) for a in atoms_list)
    return {int(z): per_atom for z in atomic_numbers}


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
            f"give an isolated-atoms file (data.e0s_file), the energies (data.e0s: {{H: -13.6, ...}}) "
            f"or data.e0s: average"
        )
    solution, *_ = np.linalg.lstsq(counts, np.array(energies), rcond=None)
    return {z: float(e) for z, e in zip(numbers, solution)}
