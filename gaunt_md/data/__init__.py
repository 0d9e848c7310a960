"""extxyz -> graphs: labels, species, E0s, neighbour lists (vesin), batching."""
from .batch import Batch, collate
from .e0s import e0s_by_least_squares, e0s_from_isolated_atoms
from .extxyz import read_labelled_structures
from .graph import AtomicGraph, graph_from_atoms
from .inputs import ModelInputs, single_graph_inputs
from .loader import GraphDataLoader
from .neighbours import neighbour_list
from .species import SpeciesTable
from .splits import train_valid_split

__all__ = [
    "AtomicGraph", "Batch", "GraphDataLoader", "ModelInputs", "SpeciesTable", "collate", "e0s_by_least_squares",
    "e0s_from_isolated_atoms", "graph_from_atoms", "neighbour_list", "read_labelled_structures",
    "single_graph_inputs", "train_valid_split",
]
