"""The triton route of gaunt_md::conv: per block of edges the radial MLP and the edge
couplings sh @ coupling stay PyTorch matmuls, the tensor product and the neighbour sum (and
the first-order backward of that part) run as the kernels of triton_kernels.py."""
from __future__ import annotations

from typing import List, Optional

import torch
from torch import Tensor

from .plan import ConvPlan
from .radial_mlp import radial_backward, radial_forward, radial_weights


def _kernels():
    from . import triton_kernels
    return triton_kernels


def forward(x: Tensor, radial: Tensor, sh: Tensor, weights: List[Tensor], coupling: Tensor,
            receivers: Tensor, senders: Tensor, plan: ConvPlan, block_size: int) -> Tensor:
    out = x.new_zeros(x.shape[0], plan.out_dim(coupling), x.shape[2])
    tables = plan.triton_tables(x.device)
    for s in range(0, radial.shape[0], block_size):
        e = min(s + block_size, radial.shape[0])
        r = radial_weights(radial[s:e], weights, x.shape[2])
        v = (sh[s:e] @ coupling).view(e - s, plan.rows, -1)
        _kernels().conv_forward_triton(x, r, v, senders[s:e], receivers[s:e], tables, out)
    return out


def _block_backward(x: Tensor, radial: Tensor, sh: Tensor, weights: List[Tensor], coupling: Tensor,
                    tables, grad: Tensor, senders: Tensor, receivers: Tensor, gx: Optional[Tensor],
                    need_radial: bool, need_sh: bool, need_w: List[bool]):
    """One block's backward: adds the x gradient into gx (whole [N, Din, C]) and returns
    (g_radial, g_sh, g_ws) of the block."""
    r, zs, pre = radial_forward(radial, weights, x.shape[2])
    v = (sh @ coupling).view(radial.shape[0], -1, grad.shape[1])
    need_r = need_radial or any(need_w)
    g_r, g_v = _kernels().conv_backward_triton(x, r, v, grad, senders, receivers, tables, gx, need_r, need_sh)
    g_sh = g_v.view(radial.shape[0], -1) @ coupling.t() if need_sh else None
    if not need_r:
        return None, g_sh, [None] * len(weights)
    g_radial, g_ws = radial_backward(g_r, weights, zs, pre, need_radial, need_w)
    return g_radial, g_sh, g_ws


def backward(x, radial, sh, weights, coupling, receivers, senders, plan: ConvPlan, block: int, grad, needs):
    """First-order backward (not differentiable again): (gx, g_radial, g_sh, weight grads)."""
    need_x, need_radial, need_sh, need_w = needs
    x, grad = x.contiguous(), grad.contiguous()
    tables = plan.triton_tables(x.device)
    gx = torch.zeros(x.shape, dtype=x.dtype, device=x.device) if need_x else None
    g_radial = torch.zeros_like(radial) if need_radial else None
    g_sh = torch.zeros_like(sh) if need_sh else None
    weight_grads: List[Optional[Tensor]] = [torch.zeros_like(w) if n else None for w, n in zip(weights, need_w)]
    for s in range(0, radial.shape[0], block):
        e = min(s + block, radial.shape[0])
        br, bs, bw = _block_backward(x, radial[s:e], sh[s:e], weights, coupling, tables, grad,
                                     senders[s:e], receivers[s:e], gx, need_radial, need_sh, list(need_w))
        if br is not None:
            g_radial[s:e] = br
        if bs is not None:
            g_sh[s:e] = bs
        for i, g in enumerate(bw):
            if g is not None:
                weight_grads[i].add_(g)
    return gx, g_radial, g_sh, weight_grads


__all__ = ["backward", "forward"]
