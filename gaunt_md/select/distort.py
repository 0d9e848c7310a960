"""Training frames where the hole scans look: distorted copies of known frames, to be labelled.

Frames from MD at 300 K never show an H bent halfway onto the next heavy atom, a bond pulled
to 1.5x, or an H pressed against an atom three bonds away; a potential learns nothing there and
may put a hole there.  Each frame made here takes one base frame, moves it along one scan
coordinate of `gaunt_md.md.scans` (the same bends, stretches and contacts), to a random point
short of the scans' end points, and shakes every atom a little (so no two frames lie on one
line).  Which move, where it ended and from which base frame is kept in the frame's info.
Label them with `gaunt-md label`; train on them with `data.extra_train_files`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np
from ase import Atoms

from ..md.connectivity import Connectivity, pair_distances
from ..md.scans import KINDS, angle_deg, bend_geometries, contact_geometries, scan_moves, stretch_geometries


@dataclass
class DistortRanges:
    """Where a distorted frame may end, per kind (uniform in each range)."""
    bend_deg: Tuple[float, float] = (70.0, 100.0)       # H-X-Y angle
    stretch_factor: Tuple[float, float] = (1.15, 1.6)   # bond length / its length in the base frame
    contact_A: Tuple[float, float] = (1.2, 1.8)         # H to the contact atom
    min_bend_step_deg: float = 10.0                     # a bend closes the angle by at least this
    jitter_A: float = 0.02                              # Gaussian shake of every coordinate
    min_pair_A: float = 0.7                             # no frame has two atoms closer than this

    def __post_init__(self):
        for name in ("bend_deg", "stretch_factor", "contact_A"):
            lo, hi = getattr(self, name)
            if not 0 < lo <= hi:
                raise ValueError(f"{name} must be (low, high) with 0 < low <= high, got {(lo, hi)}")
        if self.jitter_A < 0:
            raise ValueError(f"jitter_A must be >= 0, got {self.jitter_A}")


def _move(atoms: Atoms, conn: Connectivity, kind: str, idx: tuple, rng: np.random.Generator,
          r: DistortRanges):
    """(moved copy, coordinate reached) or None when the move cannot reach its range."""
    pos = atoms.get_positions()
    if kind == "bend":
        h, x, y = idx
        start = angle_deg(pos[h] - pos[x], pos[y] - pos[x])
        hi = min(r.bend_deg[1], start - r.min_bend_step_deg)
        if hi < r.bend_deg[0]:
            return None
        angle = float(rng.uniform(r.bend_deg[0], hi))
        return bend_geometries(atoms, h, x, y, [angle])[0], angle
    if kind == "stretch":
        factor = float(rng.uniform(*r.stretch_factor))
        return stretch_geometries(atoms, conn, idx[0], idx[1], [factor])[0], factor
    h, target = idx
    distance = float(rng.uniform(*r.contact_A))
    if distance >= np.linalg.norm(pos[h] - pos[target]):
        return None
    return contact_geometries(atoms, h, target, [distance])[0], distance


def distorted_frames(bases: Sequence[Atoms], count: int, seed: int = 0, kinds: Sequence[str] = KINDS,
                     ranges: DistortRanges = DistortRanges(), exclude: Sequence[str] = (),
                     base_ids: Sequence[int] = (), config_type: str = "distorted") -> List[Atoms]:
    """`count` distorted frames, the kinds in turn, each from a random base frame and a random
    move of that kind (none whose label is in `exclude`: keep the moves a reference comparison
    tests out of the training data).  `base_ids` names the bases in the frames' info (default
    their positions in `bases`); `config_type` lets `data.config_type_weights` weigh them (their
    forces reach ~10 eV/A, ten times a 300 K frame's).  The same arguments give the same frames."""
    if not bases:
        raise ValueError("no base frames to distort")
    unknown = set(kinds) - set(KINDS)
    if unknown or not kinds:
        raise ValueError(f"kinds must be a non-empty subset of {KINDS}, got {list(kinds)}")
    ids = list(base_ids) if base_ids else list(range(len(bases)))
    if len(ids) != len(bases):
        raise ValueError(f"{len(ids)} base_ids for {len(bases)} bases")
    rng = np.random.default_rng(seed)
    excluded = set(exclude)
    moves_of: Dict[int, tuple] = {}  # base index -> (its bond graph, its moves)
    frames: List[Atoms] = []
    attempts = 0
    while len(frames) < count:
        attempts += 1
        if attempts > 100 * count + 100:
            raise RuntimeError(f"made only {len(frames)} of {count} frames: the ranges are out of reach")
        kind = kinds[len(frames) % len(kinds)]
        b = int(rng.integers(len(bases)))
        base = bases[b]
        if b not in moves_of:
            conn = Connectivity.from_atoms(base)
            moves_of[b] = conn, scan_moves(base, conn)
        conn, base_moves = moves_of[b]
        moves = [m for m in base_moves[kind] if m[0] not in excluded]
        if not moves:
            raise ValueError(f"base frame {ids[b]} has no {kind} move left after exclude")
        label, idx = moves[int(rng.integers(len(moves)))]
        moved = _move(base, conn, kind, idx, rng, ranges)
        if moved is None:
            continue
        frame, coordinate = moved
        frame.set_positions(frame.get_positions() + rng.normal(0.0, ranges.jitter_A, (len(frame), 3)))
        d = pair_distances(frame.get_positions())
        np.fill_diagonal(d, np.inf)
        if d.min() < ranges.min_pair_A:
            continue
        frame.calc = None
        for key in list(frame.arrays):
            if key not in ("numbers", "positions"):
                del frame.arrays[key]
        frame.info = {"config_type": config_type, "distort_kind": kind, "distort_move": label,
                      "distort_coordinate": round(coordinate, 4), "distort_base": int(ids[b])}
        frames.append(frame)
    return frames
