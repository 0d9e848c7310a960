"""Which E0s a training run uses, and from where (said in the log).

data.e0s_file: the isolated atoms of that file.  data.e0s: a mapping {element: eV}, "isolated"
(frames with config_type IsolatedAtom in the training file), "least_squares" or "average".
Neither given: the IsolatedAtom frames when they cover every element, else least squares."""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

from ase.data import chemical_symbols

from ..data.e0s import (
    ISOLATED_ATOM, e0s_by_average, e0s_by_least_squares, e0s_from_isolated_atoms, e0s_from_mapping,
)


def _complete(e0s: Dict[int, float], numbers: Sequence[int], where: str) -> Dict[int, float]:
    missing = [z for z in numbers if z not in e0s]
    if missing:
        raise ValueError(f"{where} has no isolated-atom energy for atomic numbers {missing} "
                         f"({', '.join(chemical_symbols[z] for z in missing)})")
    return {int(z): float(e0s[z]) for z in numbers}


def choose_e0s(d, train_frames: List, isolated: Dict[int, float], numbers: Sequence[int]) -> Tuple[Dict[int, float], str]:
    """(E0s for `numbers`, a phrase saying where they came from)."""
    if d.e0s_file:
        return _complete(e0s_from_isolated_atoms(d.e0s_file, d.energy_key), numbers, d.e0s_file), \
            f"the isolated atoms of {d.e0s_file}"
    choice = d.e0s
    if isinstance(choice, dict):
        return _complete(e0s_from_mapping(choice), numbers, "data.e0s"), "data.e0s"
    in_file = f"the {ISOLATED_ATOM} frames of {d.train_file}"
    if choice == "isolated" or (choice is None and isolated and all(z in isolated for z in numbers)):
        return _complete(isolated, numbers, in_file), in_file
    if choice == "average":
        return e0s_by_average(train_frames, d.energy_key, numbers), "the average energy per atom (all elements alike)"
    return e0s_by_least_squares(train_frames, d.energy_key, numbers), "least squares on the training frames"
