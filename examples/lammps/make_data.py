"""Write the LAMMPS data files of the examples from examples/data/3bpa_start.xyz:

  3bpa.data   one 3BPA molecule, open boundaries
  box.data    27 randomly rotated 3BPA molecules on a 3x3x3 grid, periodic cube

Atom types 1-4 are C H N O, matching `pair_coeff * * <model> C H N O` in the inputs.

    python examples/lammps/make_data.py [--spacing 10.0] [--seed 7]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import read, write

HERE = Path(__file__).resolve().parent
START = HERE.parent / "data" / "3bpa_start.xyz"
TYPES = ["C", "H", "N", "O"]


def molecule_box(molecule: Atoms, per_side: int, spacing: float, seed: int, min_distance: float = 1.8) -> Atoms:
    """per_side^3 copies on a cubic grid, each randomly rotated until it keeps
    `min_distance` from the copies already placed (periodic images included)."""
    rng = np.random.default_rng(seed)
    box = Atoms(cell=np.eye(3) * per_side * spacing, pbc=True)
    centred = molecule.copy()
    centred.positions -= centred.get_center_of_mass()
    for corner in np.ndindex(per_side, per_side, per_side):
        for _ in range(200):
            copy = centred.copy()
            copy.rotate(rng.uniform(0, 360), rng.normal(size=3), center=(0, 0, 0))
            copy.translate((np.array(corner) + 0.5) * spacing)
            trial = box + copy
            if len(box) == 0 or _closest_contact(trial, len(box)) >= min_distance:
                box = trial
                break
        else:
            raise RuntimeError(f"no rotation fits at grid point {corner}: increase --spacing")
    box.wrap()
    return box


def _closest_contact(atoms: Atoms, first_new: int) -> float:
    """Smallest distance between atoms [first_new, N) and [0, first_new)."""
    old = np.arange(first_new)
    return float(min(atoms.get_distances(i, old, mic=True).min() for i in range(first_new, len(atoms))))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spacing", type=float, default=10.0, help="grid spacing of the box (A)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    molecule = read(START)
    single = molecule.copy()
    single.center(vacuum=15.0)
    write(HERE / "3bpa.data", single, format="lammps-data", specorder=TYPES, masses=True, atom_style="atomic")
    box = molecule_box(molecule, 3, args.spacing, args.seed)
    write(HERE / "box.data", box, format="lammps-data", specorder=TYPES, masses=True, atom_style="atomic")
    print(f"wrote 3bpa.data ({len(single)} atoms) and box.data ({len(box)} atoms, {box.cell[0, 0]:.1f} A cube)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
