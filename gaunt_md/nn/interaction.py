"""Interaction block: channelwise coupling of neighbour features with edge harmonics, weighted
per edge, channel and path by a radial MLP, summed over neighbours.

Coupling paths (l1, l2, l3) are those with non-zero Gaunt coefficients (l1+l2+l3 even), so
natural-parity features stay natural-parity.  Each path's coupling block is the Gaunt block,
rescaled so that every output component has unit norm over (m1, m2).

Per edge e, U_e[(l1 m1), (p m3)] = sum_m2 G_p[m1, m2, m3] Y_e[l2 m2] is channel independent;
the channel work is then one batched matmul  h_j[c, :] @ U_e  followed by the radial weights.

Two routes compute the same sum: `forward` uses the fused, blocked op gaunt_md::conv (radial
MLP, coupling and scatter-sum in one pass over blocks of edges; see gaunt_md/ops/conv.py), and
`forward_reference` is the plain dense formulation above (kept as the reference the fused
route is tested against; `fused = False` selects it in `forward`).
"""
from __future__ import annotations

from typing import List, Tuple

import torch
from torch import nn
from torch.profiler import record_function

from ..ops.conv import default_block_size, fused_coupling
from ..so3 import gaunt_block, sh_dim
from .linear import DegreeLinear
from .radial import RadialMLP


def coupling_paths(lmax_in: int, lmax_edge: int, lmax_out: int) -> List[Tuple[int, int, int]]:
    return [
        (l1, l2, l3)
        for l1 in range(lmax_in + 1)
        for l2 in range(lmax_edge + 1)
        for l3 in range(abs(l1 - l2), min(l1 + l2, lmax_out) + 1)
        if (l1 + l2 + l3) % 2 == 0
    ]


def _path_tensors(paths, lmax_in: int, lmax_edge: int, lmax_out: int):
    """Stacked coupling [D_in, D_edge, P]; 0/1 matrices spreading path weights over the stacked
    columns and summing columns into output coefficients (matmuls: fast forward and backward)."""
    columns = sum(2 * l3 + 1 for _, _, l3 in paths)
    coupling = torch.zeros(sh_dim(lmax_in), sh_dim(lmax_edge), columns, dtype=torch.float64)
    path_to_columns = torch.zeros(len(paths), columns, dtype=torch.float64)
    columns_to_slots = torch.zeros(columns, sh_dim(lmax_out), dtype=torch.float64)
    start = 0
    for p, (l1, l2, l3) in enumerate(paths):
        block = gaunt_block(l1, l2, l3)
        block = block / block.pow(2).sum(dim=(0, 1)).sqrt()
        width = 2 * l3 + 1
        coupling[l1 * l1:(l1 + 1) ** 2, l2 * l2:(l2 + 1) ** 2, start:start + width] = block
        path_to_columns[p, start:start + width] = 1.0
        columns_to_slots[torch.arange(start, start + width), torch.arange(l3 * l3, (l3 + 1) ** 2)] = 1.0
        start += width
    return coupling, path_to_columns, columns_to_slots


class GauntInteraction(nn.Module):
    def __init__(self, channels: int, lmax_in: int, lmax_edge: int, lmax_out: int,
                 num_radial: int, radial_hidden: List[int], avg_num_neighbors: float):
        super().__init__()
        self.channels = channels
        self.dim_out = sh_dim(lmax_out)
        self.paths = coupling_paths(lmax_in, lmax_edge, lmax_out)
        self.num_paths = len(self.paths)
        coupling, path_to_columns, columns_to_slots = _path_tensors(self.paths, lmax_in, lmax_edge, lmax_out)
        self.register_buffer("coupling", coupling)
        self.register_buffer("path_to_columns", path_to_columns)
        self.register_buffer("columns_to_slots", columns_to_slots)
        self.linear_up = DegreeLinear(channels, channels, lmax_in)
        self.radial = RadialMLP([num_radial] + radial_hidden + [channels * self.num_paths])
        self.linear_out = DegreeLinear(channels, channels, lmax_out)
        self.inv_avg_neighbors = 1.0 / avg_num_neighbors
        # fused route: coupling rows (path, m1) with the 1/avg_num_neighbors normalisation, and
        # the row order that makes the last radial layer's output [paths, channels]
        fused, groups = fused_coupling(self.paths, lmax_edge, lmax_out, self.inv_avg_neighbors)
        self.register_buffer("fused_coupling", fused, persistent=False)
        self.groups = groups
        order = torch.arange(channels * self.num_paths).view(channels, self.num_paths).t().reshape(-1)
        self.register_buffer("radial_order", order, persistent=False)
        rows = fused.shape[1] // sh_dim(lmax_out)
        self.block_size = default_block_size(rows, channels)
        self.cuda_block_size = default_block_size(rows, channels, "cuda")
        self.fused = True

    def forward(self, node_features: torch.Tensor, edge_sh: torch.Tensor, radial_basis: torch.Tensor,
                edge_index: torch.Tensor) -> torch.Tensor:
        if self.fused:
            return self.forward_fused(node_features, edge_sh, radial_basis, edge_index)
        return self.forward_reference(node_features, edge_sh, radial_basis, edge_index)

    def forward_fused(self, node_features: torch.Tensor, edge_sh: torch.Tensor, radial_basis: torch.Tensor,
                      edge_index: torch.Tensor) -> torch.Tensor:
        with record_function("gaunt_md.linear_up"):
            x = self.linear_up(node_features).transpose(1, 2).contiguous()      # [N, D_in, C]
        with record_function("gaunt_md.interaction"):
            weights = self.radial.weights()
            weights[-1] = torch.index_select(weights[-1], 0, self.radial_order)
            summed = torch.ops.gaunt_md.conv(
                x, radial_basis, edge_sh, weights, self.fused_coupling, edge_index[0], edge_index[1],
                self.groups, self.cuda_block_size if x.is_cuda else self.block_size,
            )                                                                    # [N, D_out, C]
        with record_function("gaunt_md.linear_out"):
            out = self.linear_out(summed.transpose(1, 2))
        return out

    def forward_reference(self, node_features: torch.Tensor, edge_sh: torch.Tensor, radial_basis: torch.Tensor,
                edge_index: torch.Tensor) -> torch.Tensor:
        receivers, senders = edge_index[0], edge_index[1]
        num_nodes = node_features.shape[0]
        with record_function("gaunt_md.linear_up"):
            x = self.linear_up(node_features)
        with record_function("gaunt_md.radial_mlp"):
            weights = self.radial(radial_basis).view(-1, self.channels, self.num_paths)
        with record_function("gaunt_md.interaction"):
            h = torch.index_select(x, 0, senders)                                # [E, C, D_in]
            coupling_e = torch.einsum("ej,ijk->eik", edge_sh, self.coupling)     # [E, D_in, P]
            messages = torch.bmm(h, coupling_e)                                  # [E, C, P]
            messages = messages * (weights @ self.path_to_columns)
            summed = messages.new_zeros(num_nodes, self.channels, messages.shape[-1]).index_add(0, receivers, messages)
            summed = (summed @ self.columns_to_slots) * self.inv_avg_neighbors
        with record_function("gaunt_md.linear_out"):
            out = self.linear_out(summed)
        return out
