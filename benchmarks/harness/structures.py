"""Test structures: the 27-atom 3BPA molecule and periodic boxes of it at liquid density."""
from __future__ import annotations

from pathlib import Path
from typing import List

import numpy as np

from .paths import MOLECULE, STRUCTURES


def molecule():
    from ase.io import read
    return read(MOLECULE)


def random_packing(n_molecules: int, density: float, min_distance: float, seed: int, batch: int = 64,
                    max_batches: int = 4000):
    """n randomly rotated copies of the 3BPA molecule placed one at a time at random positions in
    a periodic cube of the given density (g/cm^3), each keeping min_distance (A) from every atom
    already placed (random sequential addition; trial placements are tested in batches)."""
    from ase import Atoms
    from scipy.spatial import cKDTree
    from scipy.spatial.transform import Rotation

    mol = molecule()
    centred = mol.positions - mol.get_center_of_mass()
    grams_per_amu = 1.66053906660e-24
    side = (n_molecules * mol.get_masses().sum() * grams_per_amu / density) ** (1 / 3) * 1e8  # A
    rng = np.random.default_rng(seed)
    placed: List[np.ndarray] = []
    tree = None
    for k in range(n_molecules):
        for _ in range(max_batches):
            rot = Rotation.random(batch, random_state=rng).as_matrix()
            trial = np.einsum("bij,aj->bai", rot, centred) + rng.uniform(0, side, (batch, 1, 3))
            if tree is None:
                ok = np.ones(batch, dtype=bool)
            else:
                hits = tree.query_ball_point((trial % side).reshape(-1, 3), min_distance, return_length=True)
                ok = ~(hits.reshape(batch, -1) > 0).any(axis=1)
            if ok.any():
                placed.append(trial[int(np.argmax(ok))])
                break
        else:
            raise RuntimeError(f"placed only {k} of {n_molecules} molecules at min_distance {min_distance}")
        tree = cKDTree(np.concatenate(placed) % side, boxsize=side)
    symbols = mol.get_chemical_symbols() * n_molecules
    atoms = Atoms(symbols, positions=np.concatenate(placed), cell=np.eye(3) * side, pbc=True)
    atoms.wrap()
    return atoms


def _near_cubic_factors(k: int) -> tuple:
    """(a, b, c) with a*b*c == k, as close to a cube as possible."""
    best = (k, 1, 1)
    for a in range(1, k + 1):
        if k % a:
            continue
        for b in range(1, k // a + 1):
            if (k // a) % b:
                continue
            c = k // a // b
            if max(a, b, c) < max(best):
                best = tuple(sorted((a, b, c), reverse=True))
    return best


BASE_MOLECULES = 37          # 999 atoms: the randomly packed box that larger boxes repeat
DENSITY = 1.0                # g/cm^3, liquid-like
MIN_DISTANCE = 1.4           # A between atoms of different molecules (random packing jams above
                             # ~1.5 A at this density; contacts are unphysical but the edge count
                             # per atom, which sets the cost, is that of a liquid)


def molecule_box(target_atoms: int, seed: int = 7) -> "object":
    """A periodic box of 3BPA molecules at ~1 g/cm^3 with about target_atoms atoms: the
    999-atom randomly packed box repeated k = round(target / 999) times (as a near-cubic
    a x b x c supercell), cached as extxyz under benchmarks/results/structures/."""
    from ase.io import read, write

    STRUCTURES.mkdir(parents=True, exist_ok=True)
    base_path = STRUCTURES / f"3bpa_box_{BASE_MOLECULES * 27}_seed{seed}.xyz"
    if base_path.exists():
        base = read(base_path)
    else:
        base = random_packing(BASE_MOLECULES, DENSITY, MIN_DISTANCE, seed)
        write(base_path, base, format="extxyz")
    copies = max(1, round(target_atoms / len(base)))
    reps = _near_cubic_factors(copies)
    path = STRUCTURES / f"3bpa_box_{len(base) * copies}_seed{seed}.xyz"
    if not path.exists():
        write(path, base.repeat(reps), format="extxyz")
    return path


def structure_path(name: str) -> Path:
    """'3bpa' -> the 27-atom molecule (open boundaries); an integer string -> a box of about
    that many atoms."""
    if name == "3bpa":
        return MOLECULE
    return molecule_box(int(name))
