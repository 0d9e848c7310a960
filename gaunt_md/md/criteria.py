"""Failure criteria of the stability protocol (after Fu et al. 2022, "Forces are not enough").

A configuration is unphysical — the run has failed — when any of these holds:

* non_finite:   energy, forces or positions contain NaN or infinity (or the engine failed);
* bond_stretch: a bond of the reference geometry deviates from its reference length by more
                than `max_bond_deviation` (0.5 A);
* h_detached:   a hydrogen is farther than `h_detach_distance` (2.5 A) from every heavy atom;
* new_bond:     two atoms that were not bonded in the reference come closer than the bond
                cutoff (`Connectivity`: 1.2 x the sum of covalent radii)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import List, Optional, Sequence

import numpy as np
from ase import Atoms

from .connectivity import BOND_MULT, Connectivity, pair_distances

KINDS = ("non_finite", "bond_stretch", "h_detached", "new_bond")


@dataclass(frozen=True)
class Criteria:
    max_bond_deviation: float = 0.5    # Angstrom
    h_detach_distance: float = 2.5     # Angstrom
    bond_mult: float = BOND_MULT       # covalent-radius multiplier of the bond cutoff
    check_new_bonds: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Failure:
    kind: str                          # first of KINDS that triggered
    step: int
    detail: str
    kinds: List[str] = field(default_factory=list)   # every criterion triggered at that step

    def to_dict(self, timestep_fs: Optional[float] = None) -> dict:
        d = {"kind": self.kind, "kinds": list(self.kinds), "step": self.step, "detail": self.detail}
        if timestep_fs is not None:
            d["time_ps"] = self.step * timestep_fs / 1000.0
        return d


@dataclass
class StepCheck:
    max_bond_deviation: float          # max over reference bonds of |d - d0| (nan if non-finite)
    failure: Optional[Failure]


def _all_finite(*arrays) -> bool:
    return all(a is None or bool(np.all(np.isfinite(np.asarray(a, dtype=float)))) for a in arrays)


class StabilityMonitor:
    """Checks one configuration at a time against the criteria, relative to a reference."""

    def __init__(self, reference: Atoms, criteria: Criteria = Criteria()):
        self.criteria = criteria
        self.connectivity = Connectivity.from_atoms(reference, mult=criteria.bond_mult)
        self.heavy = ~self.connectivity.is_h

    def check(self, step: int, positions: np.ndarray, energy: Optional[float] = None,
              forces: Optional[np.ndarray] = None, error: Optional[str] = None) -> StepCheck:
        c, conn = self.criteria, self.connectivity
        positions = np.asarray(positions, dtype=float)
        if error is not None or not _all_finite(positions, energy, forces):
            what = error or ", ".join(
                name for name, a in (("positions", positions), ("energy", energy), ("forces", forces))
                if a is not None and not _all_finite(a)
            ) + " not finite"
            return StepCheck(float("nan"), Failure("non_finite", step, what, ["non_finite"]))

        kinds, details = [], []
        lengths = conn.bond_lengths(positions)
        deviation = np.abs(lengths - conn.ref_lengths)
        max_dev = float(deviation.max()) if len(deviation) else 0.0
        if max_dev > c.max_bond_deviation:
            b = int(deviation.argmax())
            i, j = conn.pairs[b]
            kinds.append("bond_stretch")
            details.append(f"bond {conn.label(i, j)} {lengths[b]:.2f} A (reference {conn.ref_lengths[b]:.2f} A)")

        dist = pair_distances(positions)
        if self.heavy.any() and conn.is_h.any():
            nearest_heavy = dist[np.ix_(conn.is_h, self.heavy)].min(axis=1)
            far = nearest_heavy > c.h_detach_distance
            if far.any():
                h_index = np.nonzero(conn.is_h)[0]
                k = int(nearest_heavy.argmax())
                kinds.append("h_detached")
                details.append(f"H{h_index[k]} {nearest_heavy[k]:.2f} A from the nearest heavy atom"
                               + (f" ({int(far.sum())} H detached)" if far.sum() > 1 else ""))

        if c.check_new_bonds:
            new = (dist < conn.bond_cutoff) & ~conn.bonded
            np.fill_diagonal(new, False)
            if new.any():
                i, j = map(int, np.argwhere(np.triu(new, k=1))[0])
                kinds.append("new_bond")
                details.append(f"new bond {conn.label(i, j)} {dist[i, j]:.2f} A")

        failure = Failure(kinds[0], step, "; ".join(details), kinds) if kinds else None
        return StepCheck(max_dev, failure)


def first_failure(frames: Sequence[Atoms], reference: Optional[Atoms] = None,
                  energies: Optional[Sequence[float]] = None, forces: Optional[Sequence] = None,
                  criteria: Criteria = Criteria()) -> Optional[Failure]:
    """The first frame (its index is the step) of a trajectory that breaks the criteria, or None.
    The reference geometry defaults to the first frame."""
    monitor = StabilityMonitor(reference if reference is not None else frames[0], criteria)
    for step, atoms in enumerate(frames):
        result = monitor.check(
            step, atoms.positions,
            None if energies is None else energies[step],
            None if forces is None else forces[step],
        )
        if result.failure is not None:
            return result.failure
    return None
