"""Small molecules and cheap settings for the `gaunt-md label` tests (each SCF well under 1 s)."""
from __future__ import annotations

import numpy as np
from ase import Atoms

# LDA in a minimal basis: the code paths of the production settings (density fitting,
# spherical functions, RKS/UKS, analytic gradients) at a fraction of the cost
CHEAP = dict(xc="lda,vwn", basis="sto-3g", threads=1)
CHEAP_CLI = ["--method", "lda,vwn", "--basis", "sto-3g", "--threads", "1"]

WATER = np.array([[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0]])


def water_frames(n: int = 3, seed: int = 0):
    """n distorted water molecules, with labels from "another method" that must be replaced."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n):
        atoms = Atoms("OH2", positions=WATER + rng.normal(0.0, 0.04, WATER.shape))
        atoms.info["energy"] = 123.0
        atoms.arrays["forces"] = np.full((3, 3), 9.0)
        atoms.info["config_type"] = "md"
        atoms.info["step"] = i
        frames.append(atoms)
    return frames
