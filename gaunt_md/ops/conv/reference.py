"""The reference route of gaunt_md::conv: the messages of all edges in one unblocked pass of
plain torch ops, differentiated by autograd.  The create-graph backward runs the same
messages block by block."""
from __future__ import annotations

from typing import List

import torch
from torch import Tensor

from .plan import ConvPlan
from .radial_mlp import radial_weights


def messages(xb: Tensor, radial: Tensor, sh: Tensor, weights: List[Tensor], coupling: Tensor,
             plan: ConvPlan) -> Tensor:
    """[B, Dout, C]: the messages of a set of edges (xb = sender features [B, Din, C])."""
    b, _, c = xb.shape
    r = radial_weights(radial, weights, c)
    parts: List[Tensor] = []
    for g in plan.groups:
        part = r[:, g.first_path:g.first_path + g.count, None, :] * xb[:, None, g.x_start:g.x_start + g.width, :]
        parts.append(part.reshape(b, g.rows, c))
    h = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)  # [B, Q, C]
    v = (sh @ coupling).view(b, plan.rows, plan.out_dim(coupling))  # [B, Q, Dout]
    return torch.bmm(v.transpose(1, 2), h)


def conv_reference(x: Tensor, radial: Tensor, sh: Tensor, weights: List[Tensor], coupling: Tensor,
                   receivers: Tensor, senders: Tensor, plan: ConvPlan) -> Tensor:
    """The sum over neighbours [N, Dout, C] in one pass (autograd-differentiable)."""
    out = messages(x.index_select(0, senders), radial, sh, weights, coupling, plan)
    return x.new_zeros(x.shape[0], plan.out_dim(coupling), x.shape[2]).index_add(0, receivers, out)


__all__ = ["conv_reference", "messages"]
