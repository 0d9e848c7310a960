"""Fused Gaunt convolution: radial MLP, Gaunt-coupled channelwise tensor product and the sum
over neighbours in one blocked pass over the edges (gaunt_md::conv).

For edge e (receiver i, sender j), channel c and coupling path p = (l1, l2, l3):

    R[e, p, c]       = MLP(radial[e])[p, c]                    (SiLU MLP, last layer linear)
    H[e, q, c]       = R[e, p(q), c] * x[j, l1(q) m1(q), c]      q runs over the (path, m1) pairs
    V[e, q, l3 m3]   = sum_m2 coupling[l2 m2, q, l3 m3] * sh[e, l2 m2]
    out[i, l3 m3, c] = sum_{e -> i} sum_q V[e, q, l3 m3] H[e, q, c]

Only the (path, m1) rows with a non-zero Gaunt block exist (q has sum_p (2 l1 + 1) entries, not
paths x (Lin+1)^2), the path weights land in their output slots through the same contraction,
and the coupling carries the normalisation.  Nothing of size [edges, channels, ...] is ever
materialised in full: the edges are processed in blocks whose intermediates stay in cache, the
messages are added into the node output block by block, and the backward pass recomputes
each block (the radial MLP included) instead of storing it.  Memory is O(nodes + edges x
(radial + sh)), not O(edges x channels x paths).

The backward of a block is taken by autograd on the recomputed block, so the op is
differentiable to any order: with create_graph (training on forces) the per-block graphs are
kept and joined, and double backward runs through them.

Layouts are channel-last: x [N, Din, C], out [N, Dout, C].  weights are the radial MLP's
Linear weights ([out, in], no biases), the last one ordered so that its output is [P, C].
groups lists (first path, number of paths, l1) for each l1, paths sorted by l1.
"""
from __future__ import annotations

from typing import List, Tuple

import torch
from torch import Tensor
from torch.nn import functional as F

from ..so3 import gaunt_block, sh_dim


def fused_coupling(paths: List[Tuple[int, int, int]], lmax_edge: int, lmax_out: int,
                   scale: float = 1.0) -> Tuple[Tensor, List[int]]:
    """coupling [(lmax_edge+1)^2, Q * (lmax_out+1)^2] (float64) and the flat group list.

    Row q = (path p, m1): coupling[l2 m2, q, l3 m3] = G_p[m1, m2, m3] / |G_p[:, :, m3]| * scale,
    the normalised Gaunt block of the reference path (GauntInteraction)."""
    groups: List[int] = []
    rows: List[Tuple[int, int]] = []
    for p, (l1, _, _) in enumerate(paths):
        if not groups or groups[-1] != l1:
            if any(g == l1 for g in groups[2::3]):
                raise ValueError("paths must be sorted by l1")
            groups += [p, 0, l1]
        groups[-2] += 1
        rows += [(p, m1) for m1 in range(2 * l1 + 1)]
    coupling = torch.zeros(sh_dim(lmax_edge), len(rows), sh_dim(lmax_out), dtype=torch.float64)
    for q, (p, m1) in enumerate(rows):
        l1, l2, l3 = paths[p]
        block = gaunt_block(l1, l2, l3)
        block = block / block.pow(2).sum(dim=(0, 1)).sqrt()
        coupling[l2 * l2:(l2 + 1) ** 2, q, l3 * l3:(l3 + 1) ** 2] = block[m1] * scale
    return coupling.reshape(sh_dim(lmax_edge), -1), groups


def default_block_size(rows: int, channels: int) -> int:
    """Edges per block: the largest per-block tensor [B, rows, C] stays near 2 MB in float64."""
    return int(min(4096, max(16, (1 << 18) // max(1, rows * channels))))


def _messages(xb: Tensor, radial: Tensor, sh: Tensor, weights: List[Tensor], coupling: Tensor,
              groups: List[int]) -> Tensor:
    """[B, Dout, C]: the messages of one block of edges (xb = sender features [B, Din, C])."""
    b, _, c = xb.shape
    z = radial
    for w in weights[:-1]:
        z = F.silu(F.linear(z, w))
    r = F.linear(z, weights[-1]).view(b, -1, c)  # [B, P, C]
    parts: List[Tensor] = []
    for k in range(0, len(groups), 3):
        p0, count, l1 = groups[k], groups[k + 1], groups[k + 2]
        d = 2 * l1 + 1
        part = r[:, p0:p0 + count, None, :] * xb[:, None, l1 * l1:l1 * l1 + d, :]
        parts.append(part.reshape(b, count * d, c))
    h = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)  # [B, Q, C]
    v = (sh @ coupling).view(b, h.shape[1], -1)  # [B, Q, Dout]
    return torch.bmm(v.transpose(1, 2), h)


def _check(x: Tensor, radial: Tensor, sh: Tensor, weights: List[Tensor], coupling: Tensor,
           receivers: Tensor, senders: Tensor, groups: List[int], block_size: int) -> None:
    if x.dim() != 3:
        raise ValueError(f"x must be [nodes, Din, channels], got {tuple(x.shape)}")
    if radial.dim() != 2 or sh.dim() != 2 or radial.shape[0] != sh.shape[0]:
        raise ValueError(f"radial [E, nb] and sh [E, Dy] must have the same edges, got "
                         f"{tuple(radial.shape)} and {tuple(sh.shape)}")
    edges = radial.shape[0]
    if receivers.shape != (edges,) or senders.shape != (edges,):
        raise ValueError("receivers and senders must be [E] index tensors")
    if len(weights) == 0 or len(groups) % 3 != 0 or len(groups) == 0:
        raise ValueError("weights and groups must not be empty")
    if coupling.dim() != 2 or coupling.shape[0] != sh.shape[1]:
        raise ValueError(f"coupling must be [Dy, Q * Dout], got {tuple(coupling.shape)}")
    rows = sum(groups[k + 1] * (2 * groups[k + 2] + 1) for k in range(0, len(groups), 3))
    paths = sum(groups[k + 1] for k in range(0, len(groups), 3))
    if coupling.shape[1] % rows != 0:
        raise ValueError(f"coupling columns {coupling.shape[1]} are not a multiple of {rows} rows")
    if weights[-1].shape[0] != paths * x.shape[2]:
        raise ValueError(f"the last radial layer gives {weights[-1].shape[0]} weights, "
                         f"expected paths x channels = {paths} x {x.shape[2]}")
    if block_size < 1:
        raise ValueError("block_size must be positive")
    if coupling.requires_grad:
        raise ValueError("coupling is a constant")


@torch.library.custom_op("gaunt_md::conv", mutates_args=())
def conv_op(x: Tensor, radial: Tensor, sh: Tensor, weights: List[Tensor], coupling: Tensor,
            receivers: Tensor, senders: Tensor, groups: List[int], block_size: int) -> Tensor:
    _check(x, radial, sh, weights, coupling, receivers, senders, groups, block_size)
    rows = sum(groups[k + 1] * (2 * groups[k + 2] + 1) for k in range(0, len(groups), 3))
    out = x.new_zeros(x.shape[0], coupling.shape[1] // rows, x.shape[2])
    edges = radial.shape[0]
    for s in range(0, edges, block_size):
        e = min(s + block_size, edges)
        xb = x.index_select(0, senders[s:e])
        out.index_add_(0, receivers[s:e], _messages(xb, radial[s:e], sh[s:e], weights, coupling, groups))
    return out


@conv_op.register_fake
def _(x, radial, sh, weights, coupling, receivers, senders, groups, block_size):
    rows = sum(groups[k + 1] * (2 * groups[k + 2] + 1) for k in range(0, len(groups), 3))
    return x.new_empty(x.shape[0], coupling.shape[1] // rows, x.shape[2])


def _setup(ctx, inputs, output):
    x, radial, sh, weights, coupling, receivers, senders, groups, block_size = inputs
    ctx.save_for_backward(x, radial, sh, coupling, receivers, senders, *weights)
    ctx.needs = (x.requires_grad, radial.requires_grad, sh.requires_grad, [w.requires_grad for w in weights])
    ctx.groups = groups
    ctx.block_size = block_size


def _backward(ctx, grad: Tensor):
    x, radial, sh, coupling, receivers, senders, *weights = ctx.saved_tensors
    need_x, need_radial, need_sh, need_w = ctx.needs
    groups, block = ctx.groups, ctx.block_size
    create_graph = torch.is_grad_enabled()
    edges = radial.shape[0]
    flags = [need_x, need_radial, need_sh] + list(need_w)
    if not any(flags):
        return None, None, None, [None] * len(weights), None, None, None, None, None
    # without create_graph: accumulate in place; with it: collect the (graph-carrying) block
    # gradients and join them with differentiable ops at the end
    gx = torch.zeros_like(x) if need_x and not create_graph else None
    g_radial = torch.zeros_like(radial) if need_radial and not create_graph else None
    g_sh = torch.zeros_like(sh) if need_sh and not create_graph else None
    gw: List[Tensor] = [torch.zeros_like(w) for w in weights]
    parts_x: List[Tensor] = []
    parts_radial: List[Tensor] = []
    parts_sh: List[Tensor] = []
    for s in range(0, edges, block):
        e = min(s + block, edges)
        send, recv = senders[s:e], receivers[s:e]
        with torch.enable_grad():
            xb = x.index_select(0, send)
            rb, shb = radial[s:e], sh[s:e]
            ws = list(weights)
            if not create_graph:
                xb = xb.detach().requires_grad_(need_x)
                rb = rb.detach().requires_grad_(need_radial)
                shb = shb.detach().requires_grad_(need_sh)
                ws = [w.detach().requires_grad_(n) for w, n in zip(ws, need_w)]
            leaves = [t for t, n in zip([xb, rb, shb] + ws, flags) if n]
            messages = _messages(xb, rb, shb, ws, coupling, groups)
            grads = torch.autograd.grad(messages, leaves, grad.index_select(0, recv),
                                        create_graph=create_graph, allow_unused=True)
        grads = list(grads)
        k = 0
        if need_x:
            g = grads[k] if grads[k] is not None else torch.zeros_like(xb)
            if create_graph:
                parts_x.append(g)
            else:
                gx.index_add_(0, send, g)
            k += 1
        if need_radial:
            g = grads[k] if grads[k] is not None else torch.zeros_like(rb)
            if create_graph:
                parts_radial.append(g)
            else:
                g_radial[s:e] = g
            k += 1
        if need_sh:
            g = grads[k] if grads[k] is not None else torch.zeros_like(shb)
            if create_graph:
                parts_sh.append(g)
            else:
                g_sh[s:e] = g
            k += 1
        for i, n in enumerate(need_w):
            if n:
                if grads[k] is not None:
                    gw[i] = gw[i] + grads[k] if create_graph else gw[i].add_(grads[k])
                k += 1
    if create_graph:
        if need_x:
            gx = torch.zeros_like(x).index_add(0, senders, _join(parts_x, x, edges))
        if need_radial:
            g_radial = _join(parts_radial, radial, edges)
        if need_sh:
            g_sh = _join(parts_sh, sh, edges)
    weight_grads = [g if n else None for g, n in zip(gw, need_w)]
    return gx, g_radial, g_sh, weight_grads, None, None, None, None, None


def _join(parts: List[Tensor], like: Tensor, edges: int) -> Tensor:
    if parts:
        return torch.cat(parts, dim=0)
    return like.new_zeros((edges,) + tuple(like.shape[1:])) if like.dim() > 1 else like.new_zeros(edges)


conv_op.register_autograd(_backward, setup_context=_setup)


def conv_reference(x: Tensor, radial: Tensor, sh: Tensor, weights: List[Tensor], coupling: Tensor,
                   receivers: Tensor, senders: Tensor, groups: List[int]) -> Tensor:
    """The same sum in one unblocked pass of plain (autograd-differentiable) torch ops."""
    messages = _messages(x.index_select(0, senders), radial, sh, weights, coupling, groups)
    return x.new_zeros(x.shape[0], messages.shape[1], x.shape[2]).index_add(0, receivers, messages)


__all__ = ["conv_op", "conv_reference", "default_block_size", "fused_coupling"]
