"""From the training config to graphs: read, split, E0s, species, statistics, batches."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional

import torch

from ..data import SpeciesTable, collate, graph_from_atoms, read_labelled_structures, train_valid_split
from ..data.e0s import split_isolated_atoms
from .e0s_choice import choose_e0s
from .progress import progress


@dataclass
class PreparedData:
    train: List
    valid: List
    test: List                       # data.test_file's graphs (empty without one)
    species: SpeciesTable
    e0s: Dict[int, float]
    avg_num_neighbors: float
    scale: float                     # RMS force component (eV/A)
    mean_energy: float               # mean per-atom energy above the E0s (eV/atom)
    closest_pairs: Dict[str, float]  # shortest training distance per species pair ("1-6": H-C), A


def frame_weight(atoms, weights) -> float:
    """The config_type weight of a frame (data.config_type_weights; 1 when not listed)."""
    return float(weights.get(str(atoms.info.get("config_type", "Default")), 1.0))


def graphs_of(frames, species, r_max: float, cfg, desc: str) -> List:
    """Graphs kept in float64 (labels exact); batches take the training or validation dtype.
    Each frame's energy, forces and stress terms carry its config_type weight."""
    d = cfg.data
    graphs = []
    for a in progress(frames, desc=desc, leave=False):
        w = frame_weight(a, d.config_type_weights)
        graphs.append(graph_from_atoms(a, species, r_max, energy_key=d.energy_key, forces_key=d.forces_key,
                                       stress_key=d.stress_key, dtype=torch.float64, energy_weight=w,
                                       forces_weight=w, stress_weight=w))
    return graphs


def _read(path, d) -> List:
    return read_labelled_structures(path, d.energy_key, d.forces_key, d.stress_key)


def split_seed(cfg) -> int:
    """Seed of the train/valid split of train_file: data.split_seed, else the run's seed."""
    return cfg.seed if cfg.data.split_seed is None else cfg.data.split_seed


def prepare_data(cfg, log=print) -> PreparedData:
    d = cfg.data
    r_max = float(cfg.model.get("r_max", 5.0))
    frames, isolated = split_isolated_atoms(_read(d.train_file, d), d.energy_key)
    if not frames:
        raise ValueError(f"{d.train_file}: no structures besides the isolated atoms")
    if d.valid_file:
        train_frames = frames
        valid_frames = split_isolated_atoms(_read(d.valid_file, d), d.energy_key)[0]
    else:
        train_idx, valid_idx = train_valid_split(len(frames), d.n_valid, split_seed(cfg))
        train_frames = [frames[i] for i in train_idx]
        valid_frames = [frames[i] for i in valid_idx]
    extra = [a for path in d.extra_train_files for a in split_isolated_atoms(_read(path, d), d.energy_key)[0]]
    train_frames = train_frames + extra
    test_frames = split_isolated_atoms(_read(d.test_file, d), d.energy_key)[0] if d.test_file else []
    numbers = d.atomic_numbers or sorted({int(z) for a in frames + extra for z in a.numbers} | set(isolated))
    species = SpeciesTable(numbers)
    e0s, source = choose_e0s(d, train_frames, isolated, numbers)
    added = f" (+{len(extra)} from extra_train_files)" if extra else ""
    log(f"data: {len(train_frames)} train{added}, {len(valid_frames)} valid, {len(test_frames)} test frames; "
        f"elements {species.symbols}")
    log(f"data: E0s from {source}: " + ", ".join(f"{s} {e0s[z]:.6g}" for s, z in zip(species.symbols, numbers)))
    train = graphs_of(train_frames, species, r_max, cfg, "train graphs")
    valid = graphs_of(valid_frames, species, r_max, cfg, "valid graphs")
    test = graphs_of(test_frames, species, r_max, cfg, "test graphs")
    avg_nb, mean_energy, scale = _statistics(train, e0s, species)
    log(f"data: avg neighbours {avg_nb:.2f}, mean energy above E0s {mean_energy:.4f} eV/atom, "
        f"RMS force {scale:.4f} eV/A")
    closest = closest_pairs(train, species)
    log("data: closest pairs (A) " + ", ".join(f"{k} {v:.3f}" for k, v in closest.items()))
    return PreparedData(train, valid, test, species, e0s, avg_nb, scale, mean_energy, closest)


def closest_pairs(graphs: List, species: SpeciesTable) -> Dict[str, float]:
    """{'1-6': the shortest H-C edge of any training graph, ...} over the species pairs that meet
    within the cutoff (keys as ModelConfig.radial_floor: atomic numbers, smaller first)."""
    from ..nn.radial import pair_key

    s = len(species.atomic_numbers)
    best = torch.full((s * s,), float("inf"), dtype=torch.float64)
    for g in graphs:
        if g.edge_index.shape[1] == 0:
            continue
        i, j = g.edge_index
        lengths = (g.positions[j] - g.positions[i] + g.shifts).norm(dim=-1).double()
        best = best.scatter_reduce(0, g.species[i] * s + g.species[j], lengths, reduce="amin")
    out = {}
    for a in range(s):
        for b in range(s):
            if torch.isfinite(best[a * s + b]):
                key = pair_key(species.atomic_numbers[a], species.atomic_numbers[b])
                out[key] = min(out.get(key, float("inf")), float(best[a * s + b]))
    return dict(sorted(out.items()))


def _statistics(graphs: List, e0s: Dict[int, float], species: SpeciesTable):
    """Average neighbour count, mean per-atom energy above the E0s, RMS force component."""
    e0 = torch.tensor([e0s[z] for z in species.atomic_numbers], dtype=torch.float64)
    edges = sum(g.edge_index.shape[1] for g in graphs)
    atoms = sum(g.positions.shape[0] for g in graphs)
    avg_nb = edges / max(atoms, 1)
    labelled = [g for g in graphs if g.energy is not None]
    residual = sum(float(g.energy) - float(e0[g.species].sum()) for g in labelled)
    mean_energy = residual / max(sum(g.positions.shape[0] for g in labelled), 1)
    forces = [g.forces.reshape(-1).double() for g in graphs if g.forces is not None]
    scale = float(torch.cat(forces).pow(2).mean().sqrt()) if forces else 1.0
    return avg_nb, mean_energy, scale if scale > 0 else 1.0


def batches(graphs: List, batch_size: int, generator: Optional[torch.Generator]) -> Iterator:
    order = torch.randperm(len(graphs), generator=generator) if generator is not None else torch.arange(len(graphs))
    for start in range(0, len(graphs), batch_size):
        yield collate([graphs[int(i)] for i in order[start:start + batch_size]])
