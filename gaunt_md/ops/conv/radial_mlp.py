"""The radial MLP inside gaunt_md::conv (nn.RadialMLP runs the same function): bias-free
linears with SiLU between them, and its hand-written backward for the blocked routes."""
from __future__ import annotations

from typing import List, Optional, Tuple

import torch
from torch import Tensor
from torch.nn import functional as F


def silu_mlp(z: Tensor, weights: List[Tensor]) -> Tensor:
    for w in weights[:-1]:
        z = F.silu(F.linear(z, w))
    return F.linear(z, weights[-1])


def radial_weights(radial: Tensor, weights: List[Tensor], channels: int) -> Tensor:
    """R [B, P, C]: the MLP's output, the last layer ordered [paths, channels]."""
    return silu_mlp(radial, weights).view(radial.shape[0], weights[-1].shape[0] // channels, channels)


def radial_forward(radial: Tensor, weights: List[Tensor], channels: int) -> Tuple[Tensor, List[Tensor], List[Tensor]]:
    """R [B, P, C] with what radial_backward needs (the layer inputs and pre-activations)."""
    zs = [radial]
    pre: List[Tensor] = []
    z = radial
    for w in weights[:-1]:
        a = F.linear(z, w)
        pre.append(a)
        z = F.silu(a)
        zs.append(z)
    return F.linear(z, weights[-1]).view(radial.shape[0], weights[-1].shape[0] // channels, channels), zs, pre


def radial_backward(g_r: Tensor, weights: List[Tensor], zs: List[Tensor], pre: List[Tensor], need_radial: bool,
                    need_w: List[bool]) -> Tuple[Optional[Tensor], List[Optional[Tensor]]]:
    """(gradient of the radial features, gradients of the weights) from the gradient of R."""
    g_ws: List[Optional[Tensor]] = [None] * len(weights)
    g_radial = None
    g = g_r.reshape(g_r.shape[0], -1)
    if need_w[-1]:
        g_ws[-1] = g.t() @ zs[-1]
    for i in range(len(weights) - 1, 0, -1):
        g = torch.ops.aten.silu_backward(g @ weights[i], pre[i - 1])
        if need_w[i - 1]:
            g_ws[i - 1] = g.t() @ zs[i - 1]
    if need_radial:
        g_radial = g @ weights[0]
    return g_radial, g_ws


__all__ = ["radial_backward", "radial_forward", "radial_weights", "silu_mlp"]
