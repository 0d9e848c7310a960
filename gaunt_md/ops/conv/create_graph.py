"""The backward of gaunt_md::conv that stays differentiable (training on forces, and the
reference route): autograd on each recomputed block with create_graph, the graph-carrying
block gradients joined by differentiable ops, so the op is differentiable to any order."""
from __future__ import annotations

from typing import List, Optional

import torch
from torch import Tensor

from .plan import ConvPlan
from .reference import messages


def _join(parts: List[Tensor], like: Tensor, edges: int) -> Tensor:
    if parts:
        return torch.cat(parts, dim=0)
    return like.new_zeros((edges,) + tuple(like.shape[1:])) if like.dim() > 1 else like.new_zeros(edges)


def backward(x, radial, sh, weights, coupling, receivers, senders, plan: ConvPlan, block: int, grad, flags):
    """(gx, g_radial, g_sh, weight grads); flags = [need_x, need_radial, need_sh, *need_w]."""
    need_x, need_radial, need_sh = flags[:3]
    need_w = flags[3:]
    edges = radial.shape[0]
    block = max(1, block)
    parts_x: List[Tensor] = []
    parts_radial: List[Tensor] = []
    parts_sh: List[Tensor] = []
    gw: List[Optional[Tensor]] = [None] * len(weights)
    for s in range(0, edges, block):
        e = min(s + block, edges)
        xb = x.index_select(0, senders[s:e])
        rb, shb = radial[s:e], sh[s:e]
        leaves = [t for t, n in zip([xb, rb, shb] + list(weights), flags) if n]
        out = messages(xb, rb, shb, list(weights), coupling, plan)
        grads = list(torch.autograd.grad(out, leaves, grad.index_select(0, receivers[s:e]),
                                         create_graph=True, allow_unused=True))
        k = 0
        for parts, block_input, need in ((parts_x, xb, need_x), (parts_radial, rb, need_radial),
                                         (parts_sh, shb, need_sh)):
            if need:
                parts.append(grads[k] if grads[k] is not None else torch.zeros_like(block_input))
                k += 1
        for i, n in enumerate(need_w):
            if n:
                if grads[k] is not None:
                    gw[i] = grads[k] if gw[i] is None else gw[i] + grads[k]
                k += 1
    gx = torch.zeros_like(x).index_add(0, senders, _join(parts_x, x, edges)) if need_x else None
    g_radial = _join(parts_radial, radial, edges) if need_radial else None
    g_sh = _join(parts_sh, sh, edges) if need_sh else None
    weight_grads = [(g if g is not None else torch.zeros_like(w)) if n else None
                    for g, w, n in zip(gw, weights, need_w)]
    return gx, g_radial, g_sh, weight_grads


__all__ = ["backward"]
