"""Interaction block: channelwise coupling of neighbour features with edge harmonics, weighted
per edge, channel and path by a radial MLP, summed over neighbours.

Coupling paths (l1, l2, l3) are those with non-zero Gaunt coefficients (l1+l2+l3 even), so
natural-parity features stay natural-parity.  Each path's coupling block is the Gaunt block,
rescaled so that every output component has unit norm over (m1, m2).

The paths of one output degree are summed per channel and then mixed across channels, or, with
`separate_paths`, each path keeps its own output slots and its own mixing weights (MACE's linear
map after the convolution; ops.conv.output_slots lays the slots out).

Per edge e, U_e[(l1 m1), (p m3)] = sum_m2 G_p[m1, m2, m3] Y_e[l2 m2] is channel independent;
the channel work is then one batched matmul  h_j[c, :] @ U_e  followed by the radial weights.

Two routes compute the same sum: `forward` uses the fused, blocked op gaunt_md::conv (radial
MLP, coupling and scatter-sum in one pass over blocks of edges; see gaunt_md/ops/conv/), and
`forward_reference` is the plain dense formulation above (kept as the reference the fused
route is tested against; `use_route("reference")` selects it in `forward`, see
gaunt_md/ops/routes.py).
"""
from __future__ import annotations

from typing import List

import torch
from torch import nn
from torch.profiler import record_function

from ..ops.conv import (DENSE_COUPLING_NAMES, ConvPlan, coupling_matrix, coupling_paths, dense_coupling_buffers,
                        paths_per_degree)
from ..ops.routes import check_route
from ..so3 import sh_dim
from .linear import DegreeLinear, PathDegreeLinear
from .radial import RadialMLP

class GauntInteraction(nn.Module):
    def __init__(self, channels: int, lmax_in: int, lmax_edge: int, lmax_out: int,
                 num_radial: int, radial_hidden: List[int], avg_num_neighbors: float,
                 radial_parametrisation: str = "plain", separate_paths: bool = False):
        super().__init__()
        self.channels = channels
        self.lmax_in, self.lmax_edge, self.lmax_out = lmax_in, lmax_edge, lmax_out
        self.dim_out = sh_dim(lmax_out)
        self.paths = coupling_paths(lmax_in, lmax_edge, lmax_out)
        self.num_paths = len(self.paths)
        self.linear_up = DegreeLinear(channels, channels, lmax_in)
        self.radial = RadialMLP([num_radial] + radial_hidden + [channels * self.num_paths], radial_parametrisation)
        # summed paths: the paths of a degree add up per channel before the channel mixing;
        # separate paths: each path keeps its own output, mixed by its own weights (MACE)
        self.separate_paths = separate_paths
        if separate_paths:
            self.linear_out = PathDegreeLinear(channels, channels, paths_per_degree(self.paths, lmax_out))
        else:
            self.linear_out = DegreeLinear(channels, channels, lmax_out)
        self.inv_avg_neighbors = 1.0 / avg_num_neighbors
        # fused route: coupling rows (path, m1) with the 1/avg_num_neighbors normalisation, the
        # plan's groups and block sizes for the op, and the row order that makes the last radial
        # layer's output [paths, channels]
        plan = ConvPlan.for_paths(self.paths)
        fused = coupling_matrix(self.paths, lmax_edge, lmax_out, self.inv_avg_neighbors, separate_paths)
        self.register_buffer("fused_coupling", fused, persistent=False)
        self.groups = plan.flat()
        order = torch.arange(channels * self.num_paths).view(channels, self.num_paths).t().reshape(-1)
        self.register_buffer("radial_order", order, persistent=False)
        self.block_size = plan.block_size(channels)
        self.cuda_block_size = plan.block_size(channels, "cuda")
        # reference route: its dense tensors are built when it first runs (build_reference),
        # neither saved in checkpoints nor exported
        for name in DENSE_COUPLING_NAMES:
            self.register_buffer(name, torch.zeros(0, dtype=torch.float64), persistent=False)
        self._register_load_state_dict_pre_hook(_drop_reference_buffers)
        self.fused = True

    @torch.jit.unused
    def use_route(self, route: str) -> None:
        """'fused' (gaunt_md::conv) or 'reference' (the dense formulation, forward_reference)."""
        self.fused = check_route("interaction", route) == "fused"
        if not self.fused:
            self.build_reference()

    @torch.jit.unused
    def build_reference(self) -> None:
        if self.coupling.numel() == 0:
            buffers = dense_coupling_buffers(self.lmax_in, self.lmax_edge, self.lmax_out, self.fused_coupling,
                                             self.separate_paths)
            for name, tensor in buffers.items():
                setattr(self, name, tensor)

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
        if not torch.jit.is_scripting():
            self.build_reference()
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


def _drop_reference_buffers(state_dict, prefix, *args) -> None:
    """Checkpoints written before the reference tensors stopped being saved carry them: drop
    them (they are rebuilt from the paths when the reference route runs)."""
    for name in DENSE_COUPLING_NAMES:
        state_dict.pop(prefix + name, None)
