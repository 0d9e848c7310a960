"""Batches over a list of graphs, optionally shuffled reproducibly."""
from __future__ import annotations

import math
from typing import Iterator, Optional, Sequence

import torch

from .batch import Batch, collate
from .graph import AtomicGraph


class GraphDataLoader:
    """Iterating gives one epoch of Batches.  With shuffle, the order comes from a
    torch.Generator seeded once with `seed`, so epoch k has the same order in every run
    with the same seed (and epochs differ from one another)."""

    def __init__(self, graphs: Sequence[AtomicGraph], batch_size: int, shuffle: bool = False,
                 seed: int = 0, drop_last: bool = False):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.graphs = list(graphs)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = torch.Generator().manual_seed(int(seed))

    def __len__(self) -> int:
        rounding = math.floor if self.drop_last else math.ceil
        return int(rounding(len(self.graphs) / self.batch_size))

    def __iter__(self) -> Iterator[Batch]:
        n = len(self.graphs)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        for k in range(len(self)):
            chosen = order[k * self.batch_size:(k + 1) * self.batch_size]
            yield collate([self.graphs[int(i)] for i in chosen])
