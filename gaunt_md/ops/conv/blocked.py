"""The torch route of gaunt_md::conv: the edges in blocks whose intermediates stay in cache,
the messages added into the node output block by block, and a hand-written backward that
recomputes each block (the radial MLP included) instead of storing it.  On CPU with several
torch threads, ranges of blocks run side by side on worker threads (workers.py)."""
from __future__ import annotations

from typing import List, Optional

import torch
from torch import Tensor

from .plan import ConvPlan
from .radial_mlp import radial_backward, radial_forward, radial_weights
from .workers import edge_ranges, profiler_scope, workers


def profiling() -> bool:
    return torch._C._autograd._profiler_enabled()


def fill_h(h: Tensor, r: Tensor, xb: Tensor, plan: ConvPlan) -> Tensor:
    """H [B, Q, C] written group by group into the buffer h (no autograd)."""
    b, _, c = xb.shape
    for start, g in plan.row_groups():
        torch.mul(r[:, g.first_path:g.first_path + g.count, None, :],
                  xb[:, None, g.x_start:g.x_start + g.width, :],
                  out=h[:b, start:start + g.rows, :].view(b, g.count, g.width, c))
    return h[:b]


def _forward_range(x: Tensor, radial: Tensor, sh: Tensor, weights: List[Tensor], coupling: Tensor,
                   receivers: Tensor, senders: Tensor, plan: ConvPlan, block_size: int, first: int, last: int,
                   profile: bool) -> Tensor:
    """The sum over edges [first, last), block by block, into a fresh [N, Dout, C]."""
    out = x.new_zeros(x.shape[0], plan.out_dim(coupling), x.shape[2])
    if last <= first:
        return out
    h = x.new_empty(min(block_size, last - first), plan.rows, x.shape[2])
    for s in range(first, last, block_size):
        e = min(s + block_size, last)
        with profiler_scope(profile, "gaunt_md.radial_mlp"):
            r = radial_weights(radial[s:e], weights, x.shape[2])
        with profiler_scope(profile, "gaunt_md.interaction"):
            hb = fill_h(h, r, x.index_select(0, senders[s:e]), plan)
            v = (sh[s:e] @ coupling).view(e - s, plan.rows, -1)
            out.index_add_(0, receivers[s:e], torch.bmm(v.transpose(1, 2), hb))
    return out


def forward(x: Tensor, radial: Tensor, sh: Tensor, weights: List[Tensor], coupling: Tensor,
            receivers: Tensor, senders: Tensor, plan: ConvPlan, block_size: int) -> Tensor:
    profile = profiling()
    ranges = edge_ranges(radial.shape[0], block_size, x, profile)
    if len(ranges) == 1:
        return _forward_range(x, radial, sh, weights, coupling, receivers, senders, plan, block_size,
                              0, radial.shape[0], profile)
    parts = workers.map(lambda r: _forward_range(x, radial, sh, weights, coupling, receivers, senders, plan,
                                                 block_size, r[0], r[1], False), ranges)
    out = parts[0]
    for part in parts[1:]:
        out += part
    return out


def block_backward(xb: Tensor, radial: Tensor, sh: Tensor, weights: List[Tensor], coupling: Tensor,
                   plan: ConvPlan, grad: Tensor, need_x: bool, need_radial: bool, need_sh: bool,
                   need_w: List[bool], profile: bool):
    """Gradients of <grad, messages(...)> for one block, written out (no autograd graph).
    grad [B, Dout, C] holds the output gradient of each edge's receiver."""
    b, _, c = xb.shape
    with profiler_scope(profile, "gaunt_md.radial_mlp"):
        r, zs, pre = radial_forward(radial, weights, c)  # r [B, P, C]
    with profiler_scope(profile, "gaunt_md.interaction"):
        v = (sh @ coupling).view(b, -1, grad.shape[1])  # [B, Q, Dout]
        t = torch.bmm(v, grad)  # [B, Q, C]: gradient of H
        g_x = torch.zeros_like(xb) if need_x else None
        need_r = need_radial or any(need_w)
        g_r = torch.empty_like(r) if need_r else None
        for start, g in plan.row_groups():
            t_g = t[:, start:start + g.rows, :].view(b, g.count, g.width, c)
            x_g = xb[:, None, g.x_start:g.x_start + g.width, :]
            if g_r is not None:
                torch.sum(t_g * x_g, dim=2, out=g_r[:, g.first_path:g.first_path + g.count, :])
            if g_x is not None:
                r_g = r[:, g.first_path:g.first_path + g.count, None, :]
                g_x[:, g.x_start:g.x_start + g.width, :] += (t_g * r_g).sum(dim=1)
        g_sh = None
        if need_sh:
            h = fill_h(torch.empty_like(t), r, xb, plan)
            g_v = torch.bmm(h, grad.transpose(1, 2))  # [B, Q, Dout]
            g_sh = g_v.view(b, -1) @ coupling.t()
    g_ws: List[Optional[Tensor]] = [None] * len(weights)
    g_radial = None
    if g_r is not None:
        with profiler_scope(profile, "gaunt_md.radial_mlp"):
            g_radial, g_ws = radial_backward(g_r, weights, zs, pre, need_radial, need_w)
    return g_x, g_radial, g_sh, g_ws


def backward(x, radial, sh, weights, coupling, receivers, senders, plan: ConvPlan, block: int, grad, needs):
    """The blocked backward without create_graph: (gx, g_radial, g_sh, weight grads)."""
    need_x, need_radial, need_sh, need_w = needs
    profile = profiling()
    g_radial = torch.zeros_like(radial) if need_radial else None
    g_sh = torch.zeros_like(sh) if need_sh else None

    def backward_range(r):
        gx_r = torch.zeros_like(x) if need_x else None
        gw_r = [torch.zeros_like(w) if n else None for w, n in zip(weights, need_w)]
        for s in range(r[0], r[1], block):
            e = min(s + block, r[1])
            send = senders[s:e]
            bx, br, bs, bw = block_backward(x.index_select(0, send), radial[s:e], sh[s:e], weights, coupling,
                                            plan, grad.index_select(0, receivers[s:e]),
                                            need_x, need_radial, need_sh, list(need_w), profile)
            if bx is not None:
                gx_r.index_add_(0, send, bx)
            if br is not None:
                g_radial[s:e] = br  # edge slices of different ranges never overlap
            if bs is not None:
                g_sh[s:e] = bs
            for i, g in enumerate(bw):
                if g is not None:
                    gw_r[i].add_(g)
        return gx_r, gw_r

    ranges = edge_ranges(radial.shape[0], block, x, profile)
    parts = [backward_range(ranges[0])] if len(ranges) == 1 else workers.map(backward_range, ranges)
    gx, weight_grads = parts[0]
    for gx_r, gw_r in parts[1:]:
        if gx is not None:
            gx += gx_r
        weight_grads = [a if a is None else a + b for a, b in zip(weight_grads, gw_r)]
    return gx, g_radial, g_sh, weight_grads


__all__ = ["backward", "block_backward", "fill_h", "forward"]
