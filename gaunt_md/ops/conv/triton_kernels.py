"""Triton kernels for the Gaunt convolution's tensor product and neighbour sum (gaunt_md::conv).

For a block of edges, with the radial weights R [B, P, C] (the radial MLP's output) and the
edge couplings V [B, Q, Dout] (= sh @ coupling) computed by PyTorch matmuls:

    forward   out[recv[e], o, c] += sum_q V[e, q, o] * R[e, p(q), c] * x[send[e], row(q), c]
    backward  dR[e, p, c]        =  sum_{q in p} x[send[e], row(q), c] * T[e, q, c]
              dx[send[e], row(q), c] += R[e, p(q), c] * T[e, q, c]
              dV[e, q, o]        =  sum_c grad[recv[e], o, c] * R[e, p(q), c] * x[send[e], row(q), c]
              with T[e, q, c] = sum_o V[e, q, o] * grad[recv[e], o, c]

One program holds BLOCK_E edges x BLOCK_C channels (the backward: all channels, so that dV is
summed in registers); H = R * x and T are never written to memory, and the neighbour sums go
straight into the node tensors with atomic adds (sum order not fixed: results agree with the
PyTorch route to rounding).  The rows q of a path p are q_start[p] .. q_start[p] + width[p] - 1
and read x rows row_start[p] .. (width = 2 l1 + 1, row_start = l1^2): ConvPlan.triton_tables.
Forward and first-order backward only: a differentiated backward takes the PyTorch route.
"""
from __future__ import annotations

import torch

from ..triton_support import LAUNCH_OPTIONS, TRITON_AVAILABLE, check_usable, size_generic_jit

TILE_ELEMENTS = 4096  # BLOCK_E x BLOCK_OUT x BLOCK_C accumulator elements per program

if TRITON_AVAILABLE:
    import triton
    import triton.language as tl

    @triton.jit
    def _channel_rows(ptr, rows, C, c, mask):
        """[len(rows), len(c)] values ptr[rows * C + c] (rows int64)."""
        return tl.load(ptr + rows[:, None] * C + c[None, :], mask=mask, other=0.0)

    @triton.jit
    def _edge_tiles(send_ptr, recv_ptr, n_edges, C, c, DOUT: tl.constexpr, BLOCK_E: tl.constexpr,
                    BLOCK_OUT: tl.constexpr):
        """This program's edges e, output slots o, the [E, C] and [E, OUT] masks, and the
        edges' senders and receivers."""
        e = tl.program_id(0).to(tl.int64) * BLOCK_E + tl.arange(0, BLOCK_E)
        o = tl.arange(0, BLOCK_OUT)
        e_live = e < n_edges
        tile = e_live[:, None] & (c[None, :] < C)
        v_mask = e_live[:, None] & (o[None, :] < DOUT)
        send = tl.load(send_ptr + e, mask=e_live, other=0)
        recv = tl.load(recv_ptr + e, mask=e_live, other=0)
        return e, o, tile, v_mask, send, recv

    @size_generic_jit(sizes=["n_edges"], pointers=["send_ptr", "recv_ptr"])
    def _conv_forward_kernel(
        x_ptr, r_ptr, v_ptr, send_ptr, recv_ptr, q_start_ptr, row_start_ptr, width_ptr, out_ptr,
        n_edges, C,
        P: tl.constexpr, Q: tl.constexpr, DIN: tl.constexpr, DOUT: tl.constexpr,
        BLOCK_E: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_OUT: tl.constexpr,
    ):
        c = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)
        e, o, tile, v_mask, send, recv = _edge_tiles(send_ptr, recv_ptr, n_edges, C, c, DOUT, BLOCK_E, BLOCK_OUT)
        acc = tl.zeros((BLOCK_E, BLOCK_OUT, BLOCK_C), dtype=x_ptr.dtype.element_ty)
        for p in range(P):
            q0 = tl.load(q_start_ptr + p)
            row0 = tl.load(row_start_ptr + p)
            r = _channel_rows(r_ptr, e * P + p, C, c, tile)
            for k in range(tl.load(width_ptr + p)):
                h = r * _channel_rows(x_ptr, send * DIN + row0 + k, C, c, tile)
                v = tl.load(v_ptr + (e * Q + q0 + k)[:, None] * DOUT + o[None, :], mask=v_mask, other=0.0)
                acc += v[:, :, None] * h[:, None, :]
        target = ((recv * DOUT)[:, None, None] + o[None, :, None]) * C + c[None, None, :]
        tl.atomic_add(out_ptr + target, acc, mask=v_mask[:, :, None] & tile[:, None, :])

    @size_generic_jit(sizes=["n_edges"], pointers=["send_ptr", "recv_ptr"])
    def _conv_backward_kernel(
        x_ptr, r_ptr, v_ptr, grad_ptr, send_ptr, recv_ptr, q_start_ptr, row_start_ptr, width_ptr,
        gx_ptr, gr_ptr, gv_ptr, n_edges, C,
        P: tl.constexpr, Q: tl.constexpr, DIN: tl.constexpr, DOUT: tl.constexpr,
        BLOCK_E: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_OUT: tl.constexpr,
        NEED_X: tl.constexpr, NEED_R: tl.constexpr, NEED_V: tl.constexpr,
    ):
        c = tl.arange(0, BLOCK_C)
        e, o, tile, v_mask, send, recv = _edge_tiles(send_ptr, recv_ptr, n_edges, C, c, DOUT, BLOCK_E, BLOCK_OUT)
        go_offsets = ((recv * DOUT)[:, None, None] + o[None, :, None]) * C + c[None, None, :]
        go = tl.load(grad_ptr + go_offsets, mask=v_mask[:, :, None] & tile[:, None, :], other=0.0)
        for p in range(P):
            q0 = tl.load(q_start_ptr + p)
            row0 = tl.load(row_start_ptr + p)
            r = _channel_rows(r_ptr, e * P + p, C, c, tile)
            gr = tl.zeros((BLOCK_E, BLOCK_C), dtype=r.dtype)
            for k in range(tl.load(width_ptr + p)):
                x_rows = send * DIN + row0 + k
                x = _channel_rows(x_ptr, x_rows, C, c, tile)
                v_offsets = (e * Q + q0 + k)[:, None] * DOUT + o[None, :]
                if NEED_X or NEED_R:
                    v = tl.load(v_ptr + v_offsets, mask=v_mask, other=0.0)
                    t = tl.sum(v[:, :, None] * go, axis=1)                              # [E, C]
                    if NEED_R:
                        gr += t * x
                    if NEED_X:
                        tl.atomic_add(gx_ptr + x_rows[:, None] * C + c[None, :], t * r, mask=tile)
                if NEED_V:
                    tl.store(gv_ptr + v_offsets, tl.sum(go * (r * x)[:, None, :], axis=2), mask=v_mask)
            if NEED_R:
                tl.store(gr_ptr + (e * P + p)[:, None] * C + c[None, :], gr, mask=tile)


def _pow2(n: int) -> int:
    return triton.next_power_of_2(max(1, n))


def _block_e(block_out: int, block_c: int) -> int:
    return max(1, min(64, TILE_ELEMENTS // (block_out * block_c)))


def _check(x, r, v, senders, receivers, tables) -> None:
    check_usable(x.device)
    n_edges, paths, channels = r.shape
    if x.dim() != 3 or x.shape[2] != channels or v.dim() != 3 or v.shape[0] != n_edges:
        raise ValueError(f"expected x [N, Din, C], r [B, P, C], v [B, Q, Dout]; got {tuple(x.shape)}, "
                         f"{tuple(r.shape)}, {tuple(v.shape)}")
    if senders.shape != (n_edges,) or receivers.shape != (n_edges,):
        raise ValueError("senders and receivers must be [B] index tensors")
    if tables[0].shape != (paths,):
        raise ValueError(f"path tables cover {tables[0].shape[0]} paths, r has {paths}")
    for t in (r, v):
        if t.dtype != x.dtype or t.device != x.device:
            raise ValueError("x, r and v must share dtype and device")


def conv_forward_triton(x: torch.Tensor, r: torch.Tensor, v: torch.Tensor, senders: torch.Tensor,
                        receivers: torch.Tensor, tables, out: torch.Tensor) -> torch.Tensor:
    """out [N, Dout, C] += the messages of a block of edges (see the module docstring)."""
    _check(x, r, v, senders, receivers, tables)
    n_edges, paths, channels = r.shape
    if n_edges == 0:
        return out
    block_c = min(_pow2(channels), 64)
    block_out = _pow2(v.shape[2])
    block_e = _block_e(block_out, block_c)
    grid = (triton.cdiv(n_edges, block_e), triton.cdiv(channels, block_c))
    _conv_forward_kernel[grid](
        x.contiguous(), r.contiguous(), v.contiguous(), senders.contiguous(), receivers.contiguous(), *tables,
        out, n_edges, channels, P=paths, Q=v.shape[1], DIN=x.shape[1], DOUT=v.shape[2],
        BLOCK_E=block_e, BLOCK_C=block_c, BLOCK_OUT=block_out, **LAUNCH_OPTIONS,
    )
    return out


def conv_backward_triton(x: torch.Tensor, r: torch.Tensor, v: torch.Tensor, grad: torch.Tensor,
                         senders: torch.Tensor, receivers: torch.Tensor, tables, gx, need_r: bool,
                         need_v: bool):
    """For a block of edges and grad [N, Dout, C] (the gradient of the conv output): adds the
    block's x gradient into gx [N, Din, C] (when gx is not None); returns (dR [B, P, C] or None,
    dV [B, Q, Dout] or None)."""
    _check(x, r, v, senders, receivers, tables)
    n_edges, paths, channels = r.shape
    gr = torch.empty_like(r) if need_r else None
    gv = torch.empty_like(v) if need_v else None
    if n_edges == 0 or (gx is None and not need_r and not need_v):
        return gr, gv
    block_c = _pow2(channels)
    block_out = _pow2(v.shape[2])
    block_e = _block_e(block_out, block_c)
    dummy = r  # never read or written when its NEED_* flag is off
    _conv_backward_kernel[(triton.cdiv(n_edges, block_e),)](
        x.contiguous(), r.contiguous(), v.contiguous(), grad.contiguous(), senders.contiguous(),
        receivers.contiguous(), *tables,
        gx if gx is not None else dummy, gr if need_r else dummy, gv if need_v else dummy, n_edges, channels,
        P=paths, Q=v.shape[1], DIN=x.shape[1], DOUT=v.shape[2],
        BLOCK_E=block_e, BLOCK_C=block_c, BLOCK_OUT=block_out,
        NEED_X=gx is not None, NEED_R=need_r, NEED_V=need_v, **LAUNCH_OPTIONS,
    )
    return gr, gv


__all__ = ["conv_forward_triton", "conv_backward_triton"]
