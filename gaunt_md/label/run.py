"""`gaunt-md label`: DFT energies and forces for every frame of an extxyz file, resumable.

OUT is appended one labelled frame at a time (written in one piece, flushed and fsynced), and
every frame carries the index of its input frame (info `label_source_index`; -1 for the
isolated atoms) and the settings it was computed with (`label_settings`).  Running the same
command again continues where the last run stopped: frames already in OUT are skipped, a
half-written last frame (a crash during the write) is dropped and computed again, and an OUT
written with other settings or from another input file is refused."""
from __future__ import annotations

import io
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple

import ase.io
import numpy as np
from ase import Atoms
from ase.data import chemical_symbols

from ..data.e0s import ISOLATED_ATOM
from ..data.extxyz import read_extxyz_frames
from .pyscf_label import (Label, SCFNotConverged, available_threads, check_settings, compute_label, pyscf_version,
                          set_threads)
from .settings import LabelSettings, isolated_atom_spin, resolve_spin

SOURCE_INDEX = "label_source_index"     # info: the input frame's index (ISOLATED_SOURCE: an isolated atom)
SETTINGS_KEY = "label_settings"         # info: LabelSettings.record() plus the label keys
ISOLATED_SOURCE = -1
POSITION_ATOL = 1e-5                    # A: an OUT frame belongs to the input frame it names


def read_input(path) -> List[Atoms]:
    """The frames of IN (labels, if any, are not needed), checked for what a molecular DFT
    calculation needs: atoms, finite positions, known elements, no periodic cell."""
    path = Path(path)
    frames = read_extxyz_frames(path)
    for number, atoms in enumerate(frames):
        where = f"{path}, frame {number}"
        if len(atoms) == 0:
            raise ValueError(f"{where}: structure has no atoms")
        if np.any(atoms.numbers <= 0):
            raise ValueError(f"{where}: unknown element (atomic number 0, symbol X)")
        if not np.all(np.isfinite(atoms.positions)):
            raise ValueError(f"{where}: positions contain NaN or infinite values")
        if atoms.pbc.any():
            raise ValueError(f"{where}: periodic (pbc={''.join('T' if p else 'F' for p in atoms.pbc)}); "
                             f"gaunt-md label computes molecules and clusters only")
    return frames


def settings_record(settings: LabelSettings, energy_key: str, forces_key: str) -> Dict:
    """What each labelled frame stores under SETTINGS_KEY, as it reads back from extxyz."""
    record = settings.record()
    record.update(program="pyscf", energy_key=energy_key, forces_key=forces_key)
    return json.loads(json.dumps(record))


# ----------------------------------------------------------------------------- OUT, as found

@dataclass
class Existing:
    """What an OUT file from an earlier run holds."""
    frames: List[Atoms] = field(default_factory=list)
    complete_bytes: int = 0          # OUT up to here holds whole frames
    partial_bytes: int = 0           # and after it, this many bytes of an unfinished frame
    sources: Set[int] = field(default_factory=set)      # input frames labelled
    atoms: Set[int] = field(default_factory=set)        # isolated atoms labelled (atomic numbers)


def _next_line(data: bytes, pos: int) -> int:
    """The position after the line starting at pos, or -1 when that line is unfinished."""
    end = data.find(b"\n", pos)
    return -1 if end < 0 else end + 1


def scan_output(path) -> Existing:
    """The whole frames of OUT, and the size of an unfinished last frame (which a crash while
    writing leaves; frames are written in one piece, so only the last one can be cut)."""
    path = Path(path)
    data = path.read_bytes()
    found = Existing()
    pos = 0
    while pos < len(data):
        start = pos
        if not data[pos:].strip():            # only whitespace left: nothing of a frame
            break
        after_header = _next_line(data, pos)
        if after_header < 0:
            break
        header = data[pos:after_header].strip()
        try:
            n_atoms = int(header)
        except ValueError:
            raise ValueError(f"{path}: frame {len(found.frames)} (byte {pos}) does not start with an atom "
                             f"count ({header[:40]!r}): not a file written by gaunt-md label; "
                             f"write to another OUT") from None
        end = after_header
        for _ in range(n_atoms + 1):        # the comment line and one line per atom
            end = _next_line(data, end)
            if end < 0:
                break
        if end < 0:
            break
        try:
            atoms = ase.io.read(io.StringIO(data[start:end].decode("utf-8")), format="extxyz")
        except Exception as err:
            if data[end:].strip():
                raise ValueError(f"{path}: frame {len(found.frames)} cannot be read ({type(err).__name__}: "
                                 f"{err}); the file is damaged: write to another OUT") from None
            break                           # a damaged last frame: computed again
        found.frames.append(atoms)
        pos = end
    found.complete_bytes = pos
    found.partial_bytes = len(data) - pos
    return found


def check_existing(found: Existing, out_path, in_path, frames: Sequence[Atoms], record: Dict) -> None:
    """Fills found.sources / found.atoms, or a ValueError when OUT cannot be continued with
    these settings and this input."""
    for number, atoms in enumerate(found.frames):
        where = f"{out_path}, frame {number}"
        source, stored = atoms.info.get(SOURCE_INDEX), atoms.info.get(SETTINGS_KEY)
        if source is None or not isinstance(stored, dict):
            raise ValueError(f"{where} was not written by gaunt-md label (no {SOURCE_INDEX} and {SETTINGS_KEY}); "
                             f"write to another OUT")
        if stored != record:
            names = sorted(set(stored) | set(record))
            differ = [f"{name} {stored.get(name, '(none)')!r} there, {record.get(name, '(none)')!r} now"
                      for name in names if stored.get(name) != record.get(name)]
            raise ValueError(f"{out_path} was labelled with other settings ({'; '.join(differ)}): "
                             f"continue it with the same options, or write to another OUT")
        source = int(source)
        if source == ISOLATED_SOURCE:
            if len(atoms) != 1 or atoms.info.get("config_type") != ISOLATED_ATOM:
                raise ValueError(f"{where}: {SOURCE_INDEX} {ISOLATED_SOURCE} on a frame that is not an "
                                 f"isolated atom; the file is damaged: write to another OUT")
            z = int(atoms.numbers[0])
            if z in found.atoms:
                raise ValueError(f"{where}: a second isolated {chemical_symbols[z]} atom; the file is damaged")
            found.atoms.add(z)
            continue
        if not 0 <= source < len(frames):
            raise ValueError(f"{where} is labelled input frame {source}, but {in_path} has {len(frames)} frames: "
                             f"{out_path} was written from another input; write to another OUT")
        ref = frames[source]
        if (len(ref) != len(atoms) or not np.array_equal(ref.numbers, atoms.numbers)
                or not np.allclose(ref.positions, atoms.positions, rtol=0.0, atol=POSITION_ATOL)):
            raise ValueError(f"{where} (input frame {source}) is not frame {source} of {in_path}: "
                             f"{out_path} was written from another input; write to another OUT")
        if source in found.sources:
            raise ValueError(f"{where}: input frame {source} a second time; the file is damaged")
        found.sources.add(source)


# ----------------------------------------------------------------------------- writing

def append_frame(path, atoms: Atoms) -> None:
    """One frame added to `path` in one write, flushed and fsynced before returning."""
    buf = io.StringIO()
    ase.io.write(buf, atoms, format="extxyz")
    path = Path(path)
    new = not path.exists()
    with open(path, "ab") as f:
        f.write(buf.getvalue().encode("utf-8"))
        f.flush()
        os.fsync(f.fileno())
    if new:     # the file's directory entry, too
        try:
            fd = os.open(path.parent, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)


def _labelled_frame(src: Atoms, label: Label, source: int, record: Dict, version: str, wall_s: float) -> Atoms:
    energy_key, forces_key = record["energy_key"], record["forces_key"]
    atoms = Atoms(numbers=src.numbers, positions=src.positions, cell=src.cell, pbc=src.pbc)
    for key, value in src.arrays.items():
        if key not in ("numbers", "positions", forces_key):
            atoms.arrays[key] = np.array(value)
    for key, value in src.info.items():
        if key != energy_key and not key.startswith("label_"):
            atoms.info[key] = value
    atoms.info[energy_key] = float(label.energy)
    atoms.arrays[forces_key] = np.asarray(label.forces, dtype=np.float64)
    atoms.info[SOURCE_INDEX] = int(source)
    atoms.info[SETTINGS_KEY] = record
    atoms.info["label_program"] = f"pyscf {version}"
    atoms.info["label_scf"] = label.method
    atoms.info["label_spin"] = int(label.spin)
    atoms.info["label_charge"] = int(label.charge)
    atoms.info["label_auxbasis"] = label.auxbasis or "none"
    if label.scf_cycles is not None:
        atoms.info["label_scf_cycles"] = int(label.scf_cycles)
    atoms.info["label_wall_s"] = round(float(wall_s), 2)
    return atoms


def _isolated_atom(z: int) -> Atoms:
    atoms = Atoms(numbers=[z], positions=[[0.0, 0.0, 0.0]], pbc=False)
    atoms.info["config_type"] = ISOLATED_ATOM
    return atoms


# ----------------------------------------------------------------------------- the loop

def _stderr(line: str) -> None:
    from tqdm.auto import tqdm

    tqdm.write(line, file=sys.stderr)


@dataclass
class LabelSummary:
    out: str
    labelled: int             # frames computed by this run
    already: int              # frames found in OUT from earlier runs
    total: int                # frames in OUT now
    dropped_partial_bytes: int
    wall_s: float


def label_file(in_path, out_path, settings: Optional[LabelSettings] = None, energy_key: str = "energy",
               forces_key: str = "forces", isolated_atoms: bool = False, max_frames: Optional[int] = None,
               log: Optional[Callable[[str], None]] = _stderr, show_progress: bool = True) -> LabelSummary:
    """Label the frames of in_path (the first max_frames of them) into out_path, continuing an
    earlier run's out_path.  isolated_atoms: also one free atom of each element of in_path
    (ground-state spin, config_type IsolatedAtom: the trainer's E0s).  Everything is checked
    before the first SCF."""
    settings = settings or LabelSettings()
    log = log or (lambda line: None)
    for name, key in (("energy key", energy_key), ("forces key", forces_key)):
        if not key or not str(key).strip() or any(c.isspace() or c in "=\"'" for c in str(key)):
            raise ValueError(f"{name} {key!r} is not a valid extxyz key")
    if energy_key == forces_key:
        raise ValueError(f"energy and forces keys must differ (both {energy_key!r})")
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"--max-frames must be >= 1, got {max_frames}")
    in_path, out_path = Path(in_path), Path(out_path)
    frames = read_input(in_path)
    if out_path.exists() and out_path.resolve() == in_path.resolve():
        raise ValueError(f"OUT is IN ({out_path}): write the labels to another file")
    if out_path.exists() and not out_path.is_file():
        raise ValueError(f"{out_path}: not a file")
    selected = range(len(frames) if max_frames is None else min(max_frames, len(frames)))
    spins = {i: resolve_spin(frames[i].numbers, settings, f"{in_path}, frame {i}") for i in selected}
    elements = sorted({int(z) for atoms in frames for z in atoms.numbers})
    atom_spins: Dict[int, int] = {}
    if isolated_atoms:
        given = {int(frames[i].numbers[0]) for i in selected
                 if len(frames[i]) == 1 and frames[i].info.get("config_type") == ISOLATED_ATOM}
        atom_spins = {z: isolated_atom_spin(z) for z in elements if z not in given}
    check_settings(settings, elements)          # PySCF installed, functional and basis known
    version = pyscf_version()
    record = settings_record(settings, energy_key, forces_key)
    start = time.perf_counter()

    found = Existing()
    if out_path.exists():
        found = scan_output(out_path)
        check_existing(found, out_path, in_path, frames, record)
    else:
        out_path.parent.mkdir(parents=True, exist_ok=True)
    if found.partial_bytes:
        log(f"label: {out_path} ends in an unfinished frame ({found.partial_bytes} bytes, an interrupted "
            f"write): dropped, it is computed again")
        with open(out_path, "r+b") as f:
            f.truncate(found.complete_bytes)
            f.flush()
            os.fsync(f.fileno())
    todo: List[Tuple[int, int]] = [(ISOLATED_SOURCE, z) for z in atom_spins if z not in found.atoms]
    todo += [(i, -1) for i in selected if i not in found.sources]
    already = len(found.frames)
    threads = available_threads() if settings.threads is None else int(settings.threads)
    if already:
        log(f"label: continuing {out_path}: {already} frames done, {len(todo)} to go")
    log(f"label: {len(todo)} structures with {settings.xc}/{settings.basis} "
        f"({'density fitting' if settings.density_fit else 'exact integrals'}, grid level {settings.grid_level}), "
        f"PySCF {version} on {threads} thread{'s' if threads != 1 else ''}")

    threads_before = set_threads(threads)     # OpenMP threads are process-wide: restored at the end
    try:
        done = _label_all(todo, frames, in_path, out_path, settings, spins, atom_spins, record, version,
                          show_progress, log)
    finally:
        set_threads(threads_before)
    return LabelSummary(out=str(out_path), labelled=done, already=already, total=already + done,
                        dropped_partial_bytes=found.partial_bytes, wall_s=time.perf_counter() - start)


def _label_all(todo, frames, in_path, out_path, settings, spins, atom_spins, record, version,
               show_progress, log) -> int:
    done = 0
    for source, z in _bar(todo, show_progress):
        t0 = time.perf_counter()
        if source == ISOLATED_SOURCE:
            src, what = _isolated_atom(z), f"isolated {chemical_symbols[z]} atom"
            spin, charge = atom_spins[z], 0
        else:
            src, what = frames[source], f"frame {source}"
            spin, charge = spins[source], settings.charge
        try:
            label = compute_label(src, settings, forces=True, spin=spin, charge=charge)
        except SCFNotConverged as err:
            raise SCFNotConverged(f"{in_path}, {what}: {err}") from None
        wall = time.perf_counter() - t0
        append_frame(out_path, _labelled_frame(src, label, source, record, version, wall))
        done += 1
        fmax = float(np.abs(label.forces).max()) if len(src) > 1 else 0.0
        log(f"label: {what} ({len(src)} atoms, {label.method} 2S={label.spin}): E = {label.energy:.6f} eV, "
            f"max |F| = {fmax:.3f} eV/A, {wall:.1f} s")
    return done


def _bar(items, show: bool):
    from ..train.progress import progress

    if not show:
        return items
    return progress(items, total=len(items), unit="structure", desc="label")
