"""From the training config to graphs: read, split, E0s, species, statistics, batches."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional

import torch
from tqdm.auto import tqdm

from ..data import (
    SpeciesTable, collate, e0s_by_least_squares, e0s_from_isolated_atoms, graph_from_atoms,
    read_labelled_structures, train_valid_split,
)


@dataclass
class PreparedData:
    train: List
    valid: List
    species: SpeciesTable
    e0s: Dict[int, float]
    avg_num_neighbors: float
    scale: float                     # RMS force component (eV/A)
    mean_energy: float               # mean per-atom energy above the E0s (eV/atom)


def _graphs(frames, species, r_max: float, cfg, desc: str) -> List:
    """Graphs kept in float64 (labels exact); batches take the training or validation dtype."""
    d = cfg.data
    return [
        graph_from_atoms(a, species, r_max, energy_key=d.energy_key, forces_key=d.forces_key,
                         stress_key=d.stress_key, dtype=torch.float64)
        for a in tqdm(frames, desc=desc, leave=False)
    ]


def prepare_data(cfg, log=print) -> PreparedData:
    d = cfg.data
    r_max = float(cfg.model.get("r_max", 5.0))
    frames = read_labelled_structures(d.train_file, d.energy_key, d.forces_key, d.stress_key)
    if d.valid_file:
        train_frames = frames
        valid_frames = read_labelled_structures(d.valid_file, d.energy_key, d.forces_key, d.stress_key)
    else:
        train_idx, valid_idx = train_valid_split(len(frames), d.n_valid, cfg.seed)
        train_frames = [frames[i] for i in train_idx]
        valid_frames = [frames[i] for i in valid_idx]
    numbers = d.atomic_numbers or sorted({int(z) for a in frames for z in a.numbers})
    species = SpeciesTable(numbers)
    if d.e0s_file:
        e0s = e0s_from_isolated_atoms(d.e0s_file, d.energy_key)
        missing = [z for z in numbers if z not in e0s]
        if missing:
            raise ValueError(f"{d.e0s_file} has no isolated-atom energy for atomic numbers {missing}")
        e0s = {z: e0s[z] for z in numbers}
    else:
        e0s = e0s_by_least_squares(train_frames, d.energy_key, numbers)
    log(f"data: {len(train_frames)} train, {len(valid_frames)} valid frames; elements {species.symbols}")
    train = _graphs(train_frames, species, r_max, cfg, "train graphs")
    valid = _graphs(valid_frames, species, r_max, cfg, "valid graphs")
    avg_nb, mean_energy, scale = _statistics(train, e0s, species)
    log(f"data: avg neighbours {avg_nb:.2f}, mean energy above E0s {mean_energy:.4f} eV/atom, "
        f"RMS force {scale:.4f} eV/A")
    return PreparedData(train, valid, species, e0s, avg_nb, scale, mean_energy)


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
