"""Fused Gaunt convolution: radial MLP, Gaunt-coupled channelwise tensor product and the sum
over neighbours in one blocked pass over the edges (gaunt_md::conv).

For edge e (receiver i, sender j), channel c and coupling path p = (l1, l2, l3):

    R[e, p, c]       = MLP(radial[e])[p, c]                    (SiLU MLP, last layer linear)
    H[e, q, c]       = R[e, p(q), c] * x[j, l1(q) m1(q), c]      q runs over the (path, m1) pairs
    V[e, q, l3 m3]   = sum_m2 coupling[l2 m2, q, l3 m3] * sh[e, l2 m2]
    out[i, l3 m3, c] = sum_{e -> i} sum_q V[e, q, l3 m3] H[e, q, c]

Only the (path, m1) rows with a non-zero Gaunt block exist (q has sum_p (2 l1 + 1) entries, not
paths x (Lin+1)^2), the path weights land in their output slots through the same contraction,
and the coupling carries the 1/avg_num_neighbors normalisation.  Nothing of size [edges,
channels, ...] is ever materialised in full: the edges are processed in blocks whose
intermediates stay in cache, the messages are added into the node output block by block, and
the backward pass recomputes each block (the radial MLP included) instead of storing it.
Memory is O(nodes x channels + edges x (radial + sh)), not O(edges x channels x paths).  On CPU
with several torch threads, ranges of blocks run side by side on worker threads (each with
single-threaded ops) and their node sums are added at the end.

Backward: without create_graph (energy + forces, inference) a hand-written blocked pass
(_block_backward) gives the gradients for x, radial, sh and the weights.  With create_graph
(training on forces) autograd runs on each recomputed block and the graph-carrying block
gradients are joined with differentiable ops, so the op is differentiable to any order.

Routes (environment variable GAUNT_MD_CONV = auto | torch | triton, see routes.py): on the
Triton route (by default for CUDA tensors when triton is installed) each block's tensor
product and neighbour sum, and the first-order backward of that part, run as the kernels of
triton_conv.py (H is never materialised, sums by atomic adds); the radial MLP and the edge
couplings sh @ coupling stay PyTorch matmuls.  A differentiated backward takes the PyTorch route.

Layouts are channel-last: x [N, Din, C], out [N, Dout, C].  weights are the radial MLP's
Linear weights ([out, in], no biases), the last one ordered so that its output is [P, C].
groups lists (first path, number of paths, l1) for each l1, paths sorted by l1.
"""
from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional, Tuple

import torch
from torch import Tensor
from torch.nn import functional as F
from torch.profiler import record_function

from ..so3 import gaunt_block, sh_dim
from .routes import call_kernel, kernel_route

ROUTE_VARIABLE = "GAUNT_MD_CONV"


def _triton():
    from . import triton_conv
    return triton_conv


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


def default_block_size(rows: int, channels: int, device_type: str = "cpu") -> int:
    """Edges per block.  CPU: the largest per-block tensor [B, rows, C] stays near 2 MB in
    float64 (cache-sized).  CUDA: near 256 MB, so that a 5k-atom box is a few blocks, not
    thousands of small kernel launches (measured on an H100 with the CPU size: 1.0 CPU core
    busy, 1.6 s per energy+forces call at 5k atoms in float32).  On CUDA a multiple of 16, so
    that every block's slice of the edge index starts 16-byte aligned."""
    if device_type == "cuda":
        return int(max(16, (1 << 25) // max(1, rows * channels) // 16 * 16))
    return int(min(4096, max(16, (1 << 18) // max(1, rows * channels))))


def silu_mlp(z: Tensor, weights: List[Tensor]) -> Tensor:
    """The radial MLP (nn.RadialMLP runs this too): bias-free linears, SiLU between them."""
    for w in weights[:-1]:
        z = F.silu(F.linear(z, w))
    return F.linear(z, weights[-1])


def _radial_weights(radial: Tensor, weights: List[Tensor], channels: int) -> Tensor:
    return silu_mlp(radial, weights).view(radial.shape[0], -1, channels)  # [B, P, C]


def _messages(xb: Tensor, radial: Tensor, sh: Tensor, weights: List[Tensor], coupling: Tensor,
              groups: List[int]) -> Tensor:
    """[B, Dout, C]: the messages of one block of edges (xb = sender features [B, Din, C]).
    Differentiable (the create_graph route and conv_reference use it)."""
    b, _, c = xb.shape
    r = _radial_weights(radial, weights, c)
    parts: List[Tensor] = []
    for k in range(0, len(groups), 3):
        p0, count, l1 = groups[k], groups[k + 1], groups[k + 2]
        d = 2 * l1 + 1
        part = r[:, p0:p0 + count, None, :] * xb[:, None, l1 * l1:l1 * l1 + d, :]
        parts.append(part.reshape(b, count * d, c))
    h = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)  # [B, Q, C]
    v = (sh @ coupling).view(b, h.shape[1], -1)  # [B, Q, Dout]
    return torch.bmm(v.transpose(1, 2), h)


def _fill_h(h: Tensor, r: Tensor, xb: Tensor, groups: List[int]) -> Tensor:
    """H [B, Q, C] written group by group into the buffer h (no autograd)."""
    b, _, c = xb.shape
    start = 0
    for k in range(0, len(groups), 3):
        p0, count, l1 = groups[k], groups[k + 1], groups[k + 2]
        d = 2 * l1 + 1
        torch.mul(r[:, p0:p0 + count, None, :], xb[:, None, l1 * l1:l1 * l1 + d, :],
                  out=h[:b, start:start + count * d, :].view(b, count, d, c))
        start += count * d
    return h[:b]


def _radial_forward(radial: Tensor, weights: List[Tensor], channels: int):
    """The radial MLP's output [B, P, C] with what its backward needs (inputs, pre-activations)."""
    zs = [radial]
    pre: List[Tensor] = []
    z = radial
    for w in weights[:-1]:
        a = F.linear(z, w)
        pre.append(a)
        z = F.silu(a)
        zs.append(z)
    return F.linear(z, weights[-1]).view(radial.shape[0], -1, channels), zs, pre


def _radial_backward(g_r: Tensor, weights: List[Tensor], zs: List[Tensor], pre: List[Tensor], need_radial: bool,
                     need_w: List[bool]):
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


def _block_backward_triton(x: Tensor, radial: Tensor, sh: Tensor, weights: List[Tensor], coupling: Tensor,
                           tables, grad: Tensor, senders: Tensor, receivers: Tensor, gx: Optional[Tensor],
                           need_radial: bool, need_sh: bool, need_w: List[bool]):
    """_block_backward on the Triton route for edges senders/receivers: adds the x gradient into
    gx (whole [N, Din, C]) and returns (g_radial, g_sh, g_ws) of the block."""
    r, zs, pre = _radial_forward(radial, weights, x.shape[2])
    v = (sh @ coupling).view(radial.shape[0], -1, grad.shape[1])
    need_r = need_radial or any(need_w)
    g_r, g_v = _triton().conv_backward_triton(x, r, v, grad, senders, receivers, tables, gx, need_r, need_sh)
    g_sh = g_v.view(radial.shape[0], -1) @ coupling.t() if need_sh else None
    if not need_r:
        return None, g_sh, [None] * len(weights)
    g_radial, g_ws = _radial_backward(g_r, weights, zs, pre, need_radial, need_w)
    return g_radial, g_sh, g_ws


def _block_backward(xb: Tensor, radial: Tensor, sh: Tensor, weights: List[Tensor], coupling: Tensor,
                    groups: List[int], grad: Tensor, need_x: bool, need_radial: bool, need_sh: bool,
                    need_w: List[bool], profiling: bool):
    """Gradients of <grad, _messages(...)> for one block, written out (no autograd graph).
    grad [B, Dout, C] holds the output gradient of each edge's receiver."""
    b, _, c = xb.shape
    with _scope(profiling, "gaunt_md.radial_mlp"):
        r, zs, pre = _radial_forward(radial, weights, c)  # r [B, P, C]
    with _scope(profiling, "gaunt_md.interaction"):
        v = (sh @ coupling).view(b, -1, grad.shape[1])  # [B, Q, Dout]
        t = torch.bmm(v, grad)  # [B, Q, C]: gradient of H
        g_x = torch.zeros_like(xb) if need_x else None
        need_r = need_radial or any(need_w)
        g_r = torch.empty_like(r) if need_r else None
        start = 0
        for k in range(0, len(groups), 3):
            p0, count, l1 = groups[k], groups[k + 1], groups[k + 2]
            d = 2 * l1 + 1
            t_g = t[:, start:start + count * d, :].view(b, count, d, c)
            x_g = xb[:, None, l1 * l1:l1 * l1 + d, :]
            if g_r is not None:
                torch.sum(t_g * x_g, dim=2, out=g_r[:, p0:p0 + count, :])
            if g_x is not None:
                g_x[:, l1 * l1:l1 * l1 + d, :] += (t_g * r[:, p0:p0 + count, None, :]).sum(dim=1)
            start += count * d
        g_sh = None
        if need_sh:
            h = _fill_h(torch.empty_like(t), r, xb, groups)
            g_v = torch.bmm(h, grad.transpose(1, 2))  # [B, Q, Dout]
            g_sh = g_v.view(b, -1) @ coupling.t()
    g_ws: List[Optional[Tensor]] = [None] * len(weights)
    g_radial = None
    if g_r is not None:
        with _scope(profiling, "gaunt_md.radial_mlp"):
            g_radial, g_ws = _radial_backward(g_r, weights, zs, pre, need_radial, need_w)
    return g_x, g_radial, g_sh, g_ws


def _scope(enabled: bool, name: str):
    return record_function(name) if enabled else contextlib.nullcontext()


class _WorkerPool:
    """Threads that run ranges of edge blocks side by side on CPU, each with single-threaded
    torch ops.  Intra-op threading of the many small block ops does not pay, and with the cores
    shared (another process busy) its spinning OpenMP barriers made a call many times slower.
    The pool is made once per process (again after a fork) with torch.get_num_threads() workers."""

    def __init__(self):
        self._executor = None
        self._key = None

    def size(self) -> int:
        return torch.get_num_threads()

    def _get(self, n: int):
        key = (n, os.getpid())
        if self._key != key:
            if self._executor is not None and self._key[1] == os.getpid():
                self._executor.shutdown(wait=True)
            main_threads = torch.get_num_threads()
            barrier = threading.Barrier(n)

            def init(_):
                torch.get_num_threads()  # this thread's lazy thread-count set-up happens now ...
                torch.set_num_threads(1)  # ... so that this sticks: its ops run single-threaded
                barrier.wait()  # n tasks held together: n distinct threads

            executor = ThreadPoolExecutor(max_workers=n, thread_name_prefix="gaunt_md_conv")
            list(executor.map(init, range(n)))
            torch.set_num_threads(main_threads)  # the global default, for every other thread
            self._executor, self._key = executor, key
        return self._executor

    def map(self, fn, items):
        """[fn(item) for item in items], the items on different workers (len(items) <= size()),
        without autograd recording (grad mode is per thread)."""
        def run(item):
            with torch.no_grad():
                return fn(item)
        return list(self._get(self.size()).map(run, items))


_workers = _WorkerPool()


def _split(edges: int, block_size: int, like: Tensor, profiling: bool) -> List[Tuple[int, int]]:
    """Edge ranges (whole blocks) for the workers: one range off CPU, under the profiler (which
    records this thread), when torch.compile traces (its tensor subclasses and modes live in
    this thread) or when there are fewer blocks than threads."""
    blocks = -(-edges // block_size)
    tracing = type(like) is not torch.Tensor and not isinstance(like, torch.nn.Parameter)
    n = 1 if like.device.type != "cpu" or profiling or tracing else min(_workers.size(), blocks)
    if n <= 1:
        return [(0, edges)]
    bounds = [min(edges, (blocks * k // n) * block_size) for k in range(n + 1)]
    return [(bounds[k], bounds[k + 1]) for k in range(n)]


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


def _rows(groups: List[int]) -> int:
    return sum(groups[k + 1] * (2 * groups[k + 2] + 1) for k in range(0, len(groups), 3))


def _forward_range(x: Tensor, radial: Tensor, sh: Tensor, weights: List[Tensor], coupling: Tensor,
                   receivers: Tensor, senders: Tensor, groups: List[int], block_size: int, first: int, last: int,
                   profiling: bool) -> Tensor:
    """The sum over edges [first, last), block by block, into a fresh [N, Dout, C]."""
    rows = _rows(groups)
    out = x.new_zeros(x.shape[0], coupling.shape[1] // rows, x.shape[2])
    if last <= first:
        return out
    h = x.new_empty(min(block_size, last - first), rows, x.shape[2])
    for s in range(first, last, block_size):
        e = min(s + block_size, last)
        with _scope(profiling, "gaunt_md.radial_mlp"):
            r = _radial_weights(radial[s:e], weights, x.shape[2])
        with _scope(profiling, "gaunt_md.interaction"):
            hb = _fill_h(h, r, x.index_select(0, senders[s:e]), groups)
            v = (sh[s:e] @ coupling).view(e - s, rows, -1)
            out.index_add_(0, receivers[s:e], torch.bmm(v.transpose(1, 2), hb))
    return out


def _forward_triton(x: Tensor, radial: Tensor, sh: Tensor, weights: List[Tensor], coupling: Tensor,
                    receivers: Tensor, senders: Tensor, groups: List[int], block_size: int) -> Tensor:
    rows = _rows(groups)
    out = x.new_zeros(x.shape[0], coupling.shape[1] // rows, x.shape[2])
    tables = _triton().path_tables(groups, x.device)
    for s in range(0, radial.shape[0], block_size):
        e = min(s + block_size, radial.shape[0])
        r = _radial_weights(radial[s:e], weights, x.shape[2])
        v = (sh[s:e] @ coupling).view(e - s, rows, -1)
        _triton().conv_forward_triton(x, r, v, senders[s:e], receivers[s:e], tables, out)
    return out


@torch.library.custom_op("gaunt_md::conv", mutates_args=())
def conv_op(x: Tensor, radial: Tensor, sh: Tensor, weights: List[Tensor], coupling: Tensor,
            receivers: Tensor, senders: Tensor, groups: List[int], block_size: int) -> Tensor:
    _check(x, radial, sh, weights, coupling, receivers, senders, groups, block_size)
    args = (x, radial, sh, weights, coupling, receivers, senders, groups, block_size)
    if kernel_route(ROUTE_VARIABLE, x.device) == "triton":
        return call_kernel(ROUTE_VARIABLE, lambda: _forward_triton(*args), lambda: _forward_torch(*args))
    return _forward_torch(*args)


def _forward_torch(x: Tensor, radial: Tensor, sh: Tensor, weights: List[Tensor], coupling: Tensor,
                   receivers: Tensor, senders: Tensor, groups: List[int], block_size: int) -> Tensor:
    profiling = torch._C._autograd._profiler_enabled()
    ranges = _split(radial.shape[0], block_size, x, profiling)
    if len(ranges) == 1:
        return _forward_range(x, radial, sh, weights, coupling, receivers, senders, groups, block_size,
                              0, radial.shape[0], profiling)
    parts = _workers.map(lambda r: _forward_range(x, radial, sh, weights, coupling, receivers, senders, groups,
                                                  block_size, r[0], r[1], False), ranges)
    out = parts[0]
    for part in parts[1:]:
        out += part
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
    flags = [need_x, need_radial, need_sh] + list(need_w)
    if not any(flags):
        return None, None, None, [None] * len(weights), None, None, None, None, None
    if torch.is_grad_enabled():
        return _backward_create_graph(x, radial, sh, weights, coupling, receivers, senders, groups, block, grad,
                                      flags)
    args = (x, radial, sh, weights, coupling, receivers, senders, groups, block, grad, ctx.needs)
    if kernel_route(ROUTE_VARIABLE, x.device) == "triton":
        return call_kernel(ROUTE_VARIABLE, lambda: _backward_triton(*args), lambda: _backward_torch(*args))
    return _backward_torch(*args)


def _backward_torch(x, radial, sh, weights, coupling, receivers, senders, groups, block, grad, needs):
    """The blocked backward without create_graph (on CPU, ranges of blocks on worker threads)."""
    need_x, need_radial, need_sh, need_w = needs
    profiling = torch._C._autograd._profiler_enabled()
    g_radial = torch.zeros_like(radial) if need_radial else None
    g_sh = torch.zeros_like(sh) if need_sh else None

    def backward_range(r):
        gx_r = torch.zeros_like(x) if need_x else None
        gw_r = [torch.zeros_like(w) if n else None for w, n in zip(weights, need_w)]
        for s in range(r[0], r[1], block):
            e = min(s + block, r[1])
            send = senders[s:e]
            bx, br, bs, bw = _block_backward(x.index_select(0, send), radial[s:e], sh[s:e], weights, coupling,
                                             groups, grad.index_select(0, receivers[s:e]),
                                             need_x, need_radial, need_sh, list(need_w), profiling)
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

    ranges = _split(radial.shape[0], block, x, profiling)
    parts = [backward_range(ranges[0])] if len(ranges) == 1 else _workers.map(backward_range, ranges)
    gx, weight_grads = parts[0]
    for gx_r, gw_r in parts[1:]:
        if gx is not None:
            gx += gx_r
        weight_grads = [a if a is None else a + b for a, b in zip(weight_grads, gw_r)]
    return gx, g_radial, g_sh, weight_grads, None, None, None, None, None


def _backward_triton(x, radial, sh, weights, coupling, receivers, senders, groups, block, grad, needs):
    need_x, need_radial, need_sh, need_w = needs
    x, grad = x.contiguous(), grad.contiguous()
    tables = _triton().path_tables(groups, x.device)
    gx = torch.zeros(x.shape, dtype=x.dtype, device=x.device) if need_x else None
    g_radial = torch.zeros_like(radial) if need_radial else None
    g_sh = torch.zeros_like(sh) if need_sh else None
    weight_grads: List[Optional[Tensor]] = [torch.zeros_like(w) if n else None for w, n in zip(weights, need_w)]
    for s in range(0, radial.shape[0], block):
        e = min(s + block, radial.shape[0])
        br, bs, bw = _block_backward_triton(x, radial[s:e], sh[s:e], weights, coupling, tables, grad,
                                            senders[s:e], receivers[s:e], gx, need_radial, need_sh, list(need_w))
        if br is not None:
            g_radial[s:e] = br
        if bs is not None:
            g_sh[s:e] = bs
        for i, g in enumerate(bw):
            if g is not None:
                weight_grads[i].add_(g)
    return gx, g_radial, g_sh, weight_grads, None, None, None, None, None


def _backward_create_graph(x, radial, sh, weights, coupling, receivers, senders, groups, block, grad, flags):
    """Backward that stays differentiable (training on forces): autograd on each recomputed
    block with create_graph, the graph-carrying block gradients joined by differentiable ops."""
    need_x, need_radial, need_sh = flags[:3]
    need_w = flags[3:]
    edges = radial.shape[0]
    parts_x: List[Tensor] = []
    parts_radial: List[Tensor] = []
    parts_sh: List[Tensor] = []
    gw: List[Optional[Tensor]] = [None] * len(weights)
    for s in range(0, edges, block):
        e = min(s + block, edges)
        xb = x.index_select(0, senders[s:e])
        rb, shb = radial[s:e], sh[s:e]
        leaves = [t for t, n in zip([xb, rb, shb] + list(weights), flags) if n]
        messages = _messages(xb, rb, shb, list(weights), coupling, groups)
        grads = list(torch.autograd.grad(messages, leaves, grad.index_select(0, receivers[s:e]),
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


__all__ = ["ROUTE_VARIABLE", "conv_op", "conv_reference", "default_block_size", "fused_coupling"]
