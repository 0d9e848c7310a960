"""The "what" of gaunt_md::conv: its coupling paths, described once and used by every route.

Path p = (l1, l2, l3) couples sender features of degree l1 with edge harmonics of degree l2
into degree l3.  Only the (path, m1) pairs with a non-zero Gaunt block are rows of the
product, so a path has width 2 l1 + 1 rows and reads the sender rows l1^2 .. l1^2 + 2 l1.
Paths are sorted by l1 and grouped: a group is (first path, number of paths, l1).

The op's schema carries the groups flat (List[int], 3 entries per group) because that is what
TorchScript can pass; ConvPlan.from_flat rebuilds the plan from it once per distinct list.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Dict, Iterator, List, NamedTuple, Sequence, Tuple

import torch
from torch import Tensor

from ...so3 import gaunt_block, sh_dim

Path = Tuple[int, int, int]


class PathGroup(NamedTuple):
    first_path: int
    count: int
    l1: int

    @property
    def width(self) -> int:
        """Rows of each path: m1 = 0 .. 2 l1."""
        return 2 * self.l1 + 1

    @property
    def x_start(self) -> int:
        """First sender-feature row the group reads (degree l1 starts at l1^2)."""
        return self.l1 * self.l1

    @property
    def rows(self) -> int:
        return self.count * self.width


@dataclass(frozen=True)
class ConvPlan:
    groups: Tuple[PathGroup, ...]

    @staticmethod
    def for_paths(paths: Sequence[Path]) -> "ConvPlan":
        groups: List[PathGroup] = []
        for p, (l1, _, _) in enumerate(paths):
            if groups and groups[-1].l1 == l1:
                groups[-1] = groups[-1]._replace(count=groups[-1].count + 1)
                continue
            if any(g.l1 == l1 for g in groups):
                raise ValueError("paths must be sorted by l1")
            groups.append(PathGroup(p, 1, l1))
        return ConvPlan(tuple(groups))

    @staticmethod
    def from_flat(flat: Sequence[int]) -> "ConvPlan":
        if len(flat) == 0 or len(flat) % 3 != 0:
            raise ValueError(f"groups must be (first path, count, l1) triples, got {list(flat)}")
        return _from_flat(tuple(int(v) for v in flat))

    def flat(self) -> List[int]:
        """The groups as the op's List[int] argument."""
        return [v for group in self.groups for v in group]

    @functools.cached_property
    def num_paths(self) -> int:
        return sum(g.count for g in self.groups)

    @functools.cached_property
    def rows(self) -> int:
        """Q: the (path, m1) rows of the product."""
        return sum(g.rows for g in self.groups)

    def row_groups(self) -> Iterator[Tuple[int, PathGroup]]:
        """(first row, group) for each group, in row order."""
        start = 0
        for group in self.groups:
            yield start, group
            start += group.rows

    def out_dim(self, coupling: Tensor) -> int:
        """Dout of a coupling [Dy, Q * Dout] for this plan."""
        return coupling.shape[1] // self.rows

    def block_size(self, channels: int, device_type: str = "cpu") -> int:
        """Edges per block.  CPU: the largest per-block tensor [B, rows, C] stays near 2 MB in
        float64 (cache-sized).  CUDA: near 256 MB, so that a 5k-atom box is a few blocks, not
        thousands of small kernel launches (measured on an H100 with the CPU size: 1.0 CPU core
        busy, 1.6 s per energy+forces call at 5k atoms in float32).  On CUDA a multiple of 16,
        so that every block's slice of the edge index starts 16-byte aligned."""
        size = max(1, self.rows * channels)
        if device_type == "cuda":
            return int(max(16, (1 << 25) // size // 16 * 16))
        return int(min(4096, max(16, (1 << 18) // size)))

    def triton_tables(self, device: torch.device) -> Tuple[Tensor, Tensor, Tensor]:
        """(first row, first sender row, width) per path, int32 on the device, for the Triton
        kernels: the rows q of path p are q_start[p] .. q_start[p] + width[p] - 1."""
        return _triton_tables(self, torch.device(device))


@functools.lru_cache(maxsize=None)
def _from_flat(flat: Tuple[int, ...]) -> ConvPlan:
    return ConvPlan(tuple(PathGroup(*flat[k:k + 3]) for k in range(0, len(flat), 3)))


@functools.lru_cache(maxsize=None)
def _triton_tables(plan: ConvPlan, device: torch.device) -> Tuple[Tensor, Tensor, Tensor]:
    q_start: List[int] = []
    row_start: List[int] = []
    width: List[int] = []
    for start, group in plan.row_groups():
        for k in range(group.count):
            q_start.append(start + k * group.width)
            row_start.append(group.x_start)
            width.append(group.width)
    as_tensor = lambda values: torch.tensor(values, dtype=torch.int32, device=device)
    return as_tensor(q_start), as_tensor(row_start), as_tensor(width)


def output_slots(paths: Sequence[Path], lmax_out: int, separate_paths: bool = False) -> List[int]:
    """First output slot of each path's 2 l3 + 1 components.  Summed paths: the slots are the
    (l3, m3) coefficients, shared by every path of a degree.  Separate paths: each path has its
    own slots, grouped by degree (l3 = 0 paths first, in path order, then l3 = 1, ...)."""
    if not separate_paths:
        return [l3 * l3 for _, _, l3 in paths]
    starts, slot = [0] * len(paths), 0
    for degree in range(lmax_out + 1):
        for p, (_, _, l3) in enumerate(paths):
            if l3 == degree:
                starts[p] = slot
                slot += 2 * l3 + 1
    return starts


def paths_per_degree(paths: Sequence[Path], lmax_out: int) -> List[int]:
    return [sum(1 for _, _, l3 in paths if l3 == degree) for degree in range(lmax_out + 1)]


def coupling_matrix(paths: Sequence[Path], lmax_edge: int, lmax_out: int, scale: float = 1.0,
                    separate_paths: bool = False) -> Tensor:
    """coupling [(lmax_edge+1)^2, Q * Dout] (float64), rows in ConvPlan.for_paths order; Dout the
    output slots (output_slots: (lmax_out+1)^2 with paths summed, one block per path if not).

    Row q = (path p, m1): coupling[l2 m2, q, slot_p + m3] = G_p[m1, m2, m3] / |G_p[:, :, m3]| * scale,
    the normalised Gaunt block of the reference path (GauntInteraction)."""
    rows = [(p, m1) for p, (l1, _, _) in enumerate(paths) for m1 in range(2 * l1 + 1)]
    slots = output_slots(paths, lmax_out, separate_paths)
    dout = sum(2 * l3 + 1 for _, _, l3 in paths) if separate_paths else sh_dim(lmax_out)
    coupling = torch.zeros(sh_dim(lmax_edge), len(rows), dout, dtype=torch.float64)
    for q, (p, m1) in enumerate(rows):
        l1, l2, l3 = paths[p]
        block = gaunt_block(l1, l2, l3)
        block = block / block.pow(2).sum(dim=(0, 1)).sqrt()
        coupling[l2 * l2:(l2 + 1) ** 2, q, slots[p]:slots[p] + 2 * l3 + 1] = block[m1] * scale
    return coupling.reshape(sh_dim(lmax_edge), -1)


def coupling_paths(lmax_in: int, lmax_edge: int, lmax_out: int) -> List[Path]:
    """The paths with non-zero Gaunt coefficients (l1 + l2 + l3 even), sorted by l1."""
    return [
        (l1, l2, l3)
        for l1 in range(lmax_in + 1)
        for l2 in range(lmax_edge + 1)
        for l3 in range(abs(l1 - l2), min(l1 + l2, lmax_out) + 1)
        if (l1 + l2 + l3) % 2 == 0
    ]


def dense_coupling(paths: Sequence[Path], lmax_in: int, lmax_edge: int, lmax_out: int,
                   separate_paths: bool = False) -> Tuple[Tensor, Tensor, Tensor]:
    """The interaction's dense reference formulation (GauntInteraction.forward_reference):
    stacked coupling [D_in, D_edge, columns]; 0/1 matrices spreading path weights over the
    stacked columns and summing (or, with separate paths, permuting) columns into the output
    slots (matmuls: fast forward and backward).  All float64."""
    columns = sum(2 * l3 + 1 for _, _, l3 in paths)
    slots = output_slots(paths, lmax_out, separate_paths)
    dout = columns if separate_paths else sh_dim(lmax_out)
    coupling = torch.zeros(sh_dim(lmax_in), sh_dim(lmax_edge), columns, dtype=torch.float64)
    path_to_columns = torch.zeros(len(paths), columns, dtype=torch.float64)
    columns_to_slots = torch.zeros(columns, dout, dtype=torch.float64)
    start = 0
    for p, (l1, l2, l3) in enumerate(paths):
        block = gaunt_block(l1, l2, l3)
        block = block / block.pow(2).sum(dim=(0, 1)).sqrt()
        width = 2 * l3 + 1
        coupling[l1 * l1:(l1 + 1) ** 2, l2 * l2:(l2 + 1) ** 2, start:start + width] = block
        path_to_columns[p, start:start + width] = 1.0
        columns_to_slots[torch.arange(start, start + width), torch.arange(slots[p], slots[p] + width)] = 1.0
        start += width
    return coupling, path_to_columns, columns_to_slots


DENSE_COUPLING_NAMES = ("coupling", "path_to_columns", "columns_to_slots")


def dense_coupling_buffers(lmax_in: int, lmax_edge: int, lmax_out: int, like: Tensor,
                           separate_paths: bool = False) -> Dict[str, Tensor]:
    """dense_coupling of the interaction's paths by buffer name, in like's dtype and device."""
    paths = coupling_paths(lmax_in, lmax_edge, lmax_out)
    tensors = dense_coupling(paths, lmax_in, lmax_edge, lmax_out, separate_paths)
    return {name: t.to(dtype=like.dtype, device=like.device) for name, t in zip(DENSE_COUPLING_NAMES, tensors)}


__all__ = ["DENSE_COUPLING_NAMES", "ConvPlan", "Path", "PathGroup", "coupling_matrix", "coupling_paths",
           "dense_coupling", "dense_coupling_buffers", "output_slots", "paths_per_degree"]
