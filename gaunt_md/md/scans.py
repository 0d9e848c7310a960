"""Energy scans that look for holes: bends, stretches and close contacts of a molecule.

A potential can fit its training frames and still have holes a few tenths of an angstrom away
from them, where MD falls in. These scans walk into the regions that thermal motion reaches
first, with any ASE calculator (so a baseline model or a quantum-chemistry code can walk the
same paths):

- bend: an H rotated in the plane of its bond X-H and a neighbour Y of X, towards Y, with X-H
  fixed, from its angle down to 60 deg (an H folding onto the next heavy atom);
- stretch: a bond pulled to twice its length, its lighter side moving (an H alone; otherwise
  the atom whose side of the bond graph is smaller, with that whole side);
- contact: an H pushed straight at the nearest atom three or more bonds away (whose path
  leaves H's own bonds alone), down to 0.5 A.

Physics says each climbs: by eV at a 60 deg bend (the H ends ~1.2 A from Y), by eV at twice a
bond length, steeply below 1 A of contact. `check_scans` says which do not.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
from ase import Atoms

from .connectivity import Connectivity


@dataclass
class Scan:
    kind: str                       # "bend" | "stretch" | "contact"
    label: str                      # e.g. "H15-N2 -> C1"
    atoms: tuple                    # the atom indices that define it
    coordinate: np.ndarray          # bend: angle (deg); stretch: length / start length; contact: distance (A)
    energy: np.ndarray = field(default_factory=lambda: np.zeros(0))  # eV, relative to the start

    def to_dict(self) -> dict:
        return {"kind": self.kind, "label": self.label, "atoms": list(map(int, self.atoms)),
                "coordinate": self.coordinate.tolist(), "energy": self.energy.tolist()}


@dataclass
class ScanLimits:
    """What a scan must show to pass (energies relative to the start, eV)."""
    bend_min_rise: float = 1.0           # at the end of a bend (60 deg)
    stretch_min_rise: float = 1.0        # at twice the bond length
    contact_min_rise: float = 2.0        # at the closest contact (0.5 A)
    tolerance: float = 0.005             # a monotonic climb may dip by this much (eV) between points


def _rotate_about(vector: np.ndarray, axis: np.ndarray, angle: float) -> np.ndarray:
    """Rodrigues' rotation of `vector` about the unit `axis` by `angle` (radians)."""
    return (vector * np.cos(angle) + np.cross(axis, vector) * np.sin(angle)
            + axis * np.dot(axis, vector) * (1.0 - np.cos(angle)))


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    """The angle between vectors `a` and `b`, in degrees."""
    cos = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def bend_geometries(atoms: Atoms, h: int, x: int, y: int, angles: Sequence[float]) -> List[Atoms]:
    """Copies of `atoms` with H `h` rotated about X `x` in the H-X-Y plane so that the angle
    H-X-Y takes each of `angles` (deg); the X-H length is unchanged."""
    pos = atoms.get_positions()
    xh, xy = pos[h] - pos[x], pos[y] - pos[x]
    normal = np.cross(xh, xy)
    if np.linalg.norm(normal) < 1e-8:
        raise ValueError(f"atoms {h}, {x}, {y} are collinear: no bending plane")
    normal /= np.linalg.norm(normal)
    start = angle_deg(xh, xy)
    frames = []
    for angle in angles:
        moved = atoms.copy()
        p = moved.get_positions()
        # rotating about +normal turns xh towards xy
        p[h] = pos[x] + _rotate_about(xh, normal, np.radians(start - angle))
        moved.set_positions(p)
        frames.append(moved)
    return frames


def _side(conn: Connectivity, keep: int, cut: int) -> List[int]:
    """Atoms reached from `keep` without crossing the bond keep-cut (keep included)."""
    seen, todo = {keep}, [keep]
    while todo:
        a = todo.pop()
        for b in np.nonzero(conn.bonded[a])[0]:
            b = int(b)
            if (a, b) in ((keep, cut), (cut, keep)) or b in seen:
                continue
            seen.add(b)
            todo.append(b)
    return sorted(seen)


def stretch_geometries(atoms: Atoms, conn: Connectivity, i: int, j: int, factors: Sequence[float]) -> List[Atoms]:
    """Copies with bond i-j at `factors` x its length: the smaller side of the bond (a ring bond
    has none: then atom j alone) moves along the bond."""
    side_i, side_j = _side(conn, i, j), _side(conn, j, i)
    if j in side_i:  # ring bond
        moving, fixed = [j], i
    elif len(side_j) <= len(side_i):
        moving, fixed = side_j, i
    else:
        moving, fixed = side_i, j
    mover = j if fixed == i else i
    pos = atoms.get_positions()
    bond = pos[mover] - pos[fixed]
    frames = []
    for factor in factors:
        moved = atoms.copy()
        p = moved.get_positions()
        p[moving] += (factor - 1.0) * bond
        moved.set_positions(p)
        frames.append(moved)
    return frames


def contact_geometries(atoms: Atoms, h: int, target: int, distances: Sequence[float]) -> List[Atoms]:
    """Copies with H `h` moved along the line to `target` to each of `distances` (A) from it."""
    pos = atoms.get_positions()
    direction = pos[h] - pos[target]
    direction /= np.linalg.norm(direction)
    frames = []
    for d in distances:
        moved = atoms.copy()
        p = moved.get_positions()
        p[h] = pos[target] + d * direction
        moved.set_positions(p)
        frames.append(moved)
    return frames


KINDS = ("bend", "stretch", "contact")


def _name(symbols, *idx) -> str:
    return "".join(f"{symbols[i]}{i}" for i in idx)


def scan_moves(atoms: Atoms, conn: Optional[Connectivity] = None,
               contact_end: float = 0.5) -> Dict[str, List[Tuple[str, tuple]]]:
    """Every move of each kind as (label, atom indices): each H bent towards each other
    neighbour Y of its heavy atom X ("H15-N0 -> C1", atoms (H, X, Y)), each bond stretched
    ("C8-H20", (i, j)), each H pushed at its `contact_target` ("H16 -> N2", (H, target))."""
    conn = conn if conn is not None else Connectivity.from_atoms(atoms)
    s = atoms.get_chemical_symbols()
    moves: Dict[str, List[Tuple[str, tuple]]] = {k: [] for k in KINDS}
    for h in map(int, np.nonzero(conn.is_h)[0]):
        for x in map(int, np.nonzero(conn.bonded[h])[0]):
            for y in map(int, np.nonzero(conn.bonded[x])[0]):
                if y != h:
                    moves["bend"].append((f"{_name(s, h)}-{_name(s, x)} -> {_name(s, y)}", (h, x, y)))
        target = contact_target(atoms, conn, h, contact_end)
        if target is not None:
            moves["contact"].append((f"{_name(s, h)} -> {_name(s, target)}", (h, int(target))))
    for i, j in conn.pairs:
        moves["stretch"].append((f"{_name(s, int(i))}-{_name(s, int(j))}", (int(i), int(j))))
    return moves


def _down_to(start: float, end: float, step: float) -> np.ndarray:
    """start, start - step, ... down to `end`, which is always the last point."""
    points = np.arange(start, end - 1e-9, -step)
    return np.append(points, end) if points[-1] > end + 1e-9 else points


def build_scans(atoms: Atoms, bend_step_deg: float = 5.0, bend_end_deg: float = 60.0,
                stretch_points: int = 11, contact_end: float = 0.5, contact_step: float = 0.1):
    """[(Scan, frames)] for every move of `scan_moves`: bends down to `bend_end_deg`, bonds
    stretched to 2x, contacts down to `contact_end`."""
    conn = Connectivity.from_atoms(atoms)
    pos = atoms.get_positions()
    moves = scan_moves(atoms, conn, contact_end)
    out = []
    for label, (h, x, y) in moves["bend"]:
        angles = _down_to(angle_deg(pos[h] - pos[x], pos[y] - pos[x]), bend_end_deg, bend_step_deg)
        out.append((Scan("bend", label, (h, x, y), angles), bend_geometries(atoms, h, x, y, angles)))
    factors = np.linspace(1.0, 2.0, stretch_points)
    for label, (i, j) in moves["stretch"]:
        out.append((Scan("stretch", label, (i, j), factors), stretch_geometries(atoms, conn, i, j, factors)))
    for label, (h, target) in moves["contact"]:
        distances = _down_to(float(np.linalg.norm(pos[h] - pos[target])), contact_end, contact_step)
        out.append((Scan("contact", label, (h, target), distances), contact_geometries(atoms, h, target, distances)))
    return out


def contact_target(atoms: Atoms, conn: Connectivity, h: int, contact_end: float = 0.5,
                   keep_bond: float = 0.85) -> Optional[int]:
    """The atom a contact scan pushes H `h` at: the nearest one at least three bonds away (a
    true non-bonded contact) whose straight path never squeezes H's own bonds below `keep_bond`
    of their length.  A geminal atom (two bonds away) is no contact: the straight path to it
    passes ~0.7 A from H's own heavy atom, so the energy peaks there and falls after, in the
    physics as much as in a model (the bend scans cover those atoms).  None if no atom qualifies."""
    pos = atoms.get_positions()
    bonded = conn.bonded
    near = bonded | ((bonded.astype(int) @ bonded.astype(int)) > 0)  # one or two bonds away
    own = np.nonzero(bonded[h])[0]
    own_lengths = np.linalg.norm(pos[own] - pos[h], axis=-1)
    best, best_d = None, np.inf
    for k in range(len(atoms)):
        d = float(np.linalg.norm(pos[h] - pos[k]))
        if k == h or near[h, k] or d >= best_d or d <= contact_end:
            continue
        direction = (pos[h] - pos[k]) / d
        path = pos[k] + np.linspace(d, contact_end, 32)[:, None] * direction
        squeezed = np.linalg.norm(path[:, None, :] - pos[own][None], axis=-1) < keep_bond * own_lengths
        if not squeezed.any():
            best, best_d = k, d
    return best


def run_scans(atoms: Atoms, calc, progress: Optional[Callable[[Iterable], Iterable]] = None, **options) -> List[Scan]:
    """Every scan of `build_scans`, energies from `calc` (any ASE calculator) relative to `atoms`."""
    reference = atoms.copy()
    reference.calc = calc
    e0 = reference.get_potential_energy()
    scans = build_scans(atoms, **options)
    iterate = progress(scans) if progress is not None else scans
    for scan, frames in iterate:
        energies = []
        for frame in frames:
            frame.calc = calc
            energies.append(frame.get_potential_energy() - e0)
        scan.energy = np.asarray(energies)
    return [scan for scan, _ in scans]


def scan_failures(scan: Scan, limits: ScanLimits = ScanLimits()) -> List[str]:
    """Why a scan fails (empty when it passes): a dip on the way, or too small a rise."""
    problems = []
    e = scan.energy
    if scan.kind == "stretch":
        climb, rise, need = e[: len(e) // 2 + 1], e[-1], limits.stretch_min_rise  # up to 1.5x
    elif scan.kind == "bend":
        climb, rise, need = e, e[-1], limits.bend_min_rise
    else:
        climb, rise, need = e[scan.coordinate <= 1.0 + 1e-9], e[-1], limits.contact_min_rise
        climb = np.concatenate([[e[0]], climb]) if scan.coordinate[0] > 1.0 else climb
    dips = np.diff(climb)
    if dips.size and dips.min() < -limits.tolerance:
        k = int(np.argmin(dips))
        problems.append(f"goes down by {-dips[k] * 1000:.0f} meV between points {k} and {k + 1}")
    if not e.min() >= -limits.tolerance:
        problems.append(f"falls {-e.min():.3f} eV below the start")
    if not rise >= need:
        problems.append(f"rises only {rise:.3f} eV (needs {need} eV)")
    return problems


def check_scans(scans: Sequence[Scan], limits: ScanLimits = ScanLimits()) -> Dict[str, List[str]]:
    """{label: problems} of the scans that fail."""
    failures = {}
    for scan in scans:
        problems = scan_failures(scan, limits)
        if problems:
            failures[f"{scan.kind} {scan.label}"] = problems
    return failures


def plot_scans(scans: Sequence[Scan], path, title: str = "") -> None:
    """One panel per kind of scan, every scan a line."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = [("bend", "H-X-Y angle (deg)"), ("stretch", "bond length / start length"), ("contact", "H contact distance (A)")]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for ax, (kind, xlabel) in zip(axes, kinds):
        for scan in (s for s in scans if s.kind == kind):
            failed = bool(scan_failures(scan))
            ax.plot(scan.coordinate, scan.energy, color="tab:red" if failed else "tab:blue", alpha=0.6, lw=1)
        ax.axhline(0.0, color="k", lw=0.5)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("E - E(start) (eV)")
        ax.set_title(f"{kind} (red: fails)")
        if kind in ("bend", "contact"):
            ax.invert_xaxis()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def scan_model(model: str, start: str, out_dir, dtype: Optional[str] = None, progress: bool = True,
               calculator: Optional[str] = None) -> dict:
    """`gaunt-md scan`: every scan of an exported model from `start`, written to out_dir as
    scans.json and scans.png; returns {"scans": n, "failures": {label: problems}}.  With
    `calculator` ('module:function' or 'file.py:function', as md-stability's --calculator) the
    model runs in the calculator that function returns for it (a baseline such as mace-torch)."""
    import json
    from pathlib import Path

    from ase.io import read
    from tqdm.auto import tqdm

    from .engines.external import build_calculator

    if calculator is not None and dtype is not None:
        raise ValueError("--dtype is for gaunt-md models; a --calculator sets its own precision")
    calc = build_calculator(model, calculator, dtype=dtype)
    atoms = read(start)
    scans = run_scans(atoms, calc,
                      progress=(lambda items: tqdm(items, desc="scans", leave=False)) if progress else None)
    failures = check_scans(scans)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "scans.json").write_text(json.dumps({"model": str(model), "calculator": calculator, "start": str(start),
                                                "failures": failures,
                                                "scans": [s.to_dict() for s in scans]}, indent=1))
    plot_scans(scans, out / "scans.png", title=f"{Path(model).name} from {Path(start).name}")
    return {"scans": len(scans), "failures": failures}
