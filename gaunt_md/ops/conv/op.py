"""torch.library registration of gaunt_md::conv: its schema, shape checks, fake tensor and
autograd, and the dispatch to the route chosen for "conv" (ops/routes.py).

conv(x, radial, sh, weights, coupling, receivers, senders, groups, block_size) -> [N, Dout, C]
    x [N, Din, C] sender features, radial [E, nb] and sh [E, Dy] per edge, weights the radial
    MLP's Linear weights ([out, in], no biases; the last one's output ordered [P, C]), coupling
    [Dy, Q * Dout] (plan.coupling_matrix), receivers / senders [E], groups the plan's flat
    groups (plan.py), block_size edges per block (plan.block_size).

Routes: reference (reference.py, one unblocked pass; its backward by autograd), torch
(blocked.py), triton (triton_route.py).  Whatever the route, a backward that is itself
differentiated (create_graph, training on forces) runs create_graph.py.
"""
from __future__ import annotations

from typing import List

import torch
from torch import Tensor

from .. import routes
from . import blocked, create_graph, triton_route
from .plan import ConvPlan
from .reference import conv_reference

OP = "conv"


def _check(x: Tensor, radial: Tensor, sh: Tensor, weights: List[Tensor], coupling: Tensor,
           receivers: Tensor, senders: Tensor, groups: List[int], block_size: int) -> ConvPlan:
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
    plan = ConvPlan.from_flat(groups)
    if coupling.dim() != 2 or coupling.shape[0] != sh.shape[1]:
        raise ValueError(f"coupling must be [Dy, Q * Dout], got {tuple(coupling.shape)}")
    if coupling.shape[1] % plan.rows != 0:
        raise ValueError(f"coupling columns {coupling.shape[1]} are not a multiple of {plan.rows} rows")
    if weights[-1].shape[0] != plan.num_paths * x.shape[2]:
        raise ValueError(f"the last radial layer gives {weights[-1].shape[0]} weights, "
                         f"expected paths x channels = {plan.num_paths} x {x.shape[2]}")
    if block_size < 1:
        raise ValueError("block_size must be positive")
    if coupling.requires_grad:
        raise ValueError("coupling is a constant")
    return plan


@torch.library.custom_op("gaunt_md::conv", mutates_args=())
def conv_op(x: Tensor, radial: Tensor, sh: Tensor, weights: List[Tensor], coupling: Tensor,
            receivers: Tensor, senders: Tensor, groups: List[int], block_size: int) -> Tensor:
    plan = _check(x, radial, sh, weights, coupling, receivers, senders, groups, block_size)
    args = (x, radial, sh, weights, coupling, receivers, senders, plan, block_size)
    route = routes.kernel_route(OP, x.device)
    if route == "triton":
        return routes.call_kernel(OP, lambda: triton_route.forward(*args), lambda: blocked.forward(*args))
    if route == "reference":
        return conv_reference(*args[:-1])
    return blocked.forward(*args)


@conv_op.register_fake
def _(x, radial, sh, weights, coupling, receivers, senders, groups, block_size):
    return x.new_empty(x.shape[0], ConvPlan.from_flat(groups).out_dim(coupling), x.shape[2])


def _setup(ctx, inputs, output):
    x, radial, sh, weights, coupling, receivers, senders, groups, block_size = inputs
    ctx.save_for_backward(x, radial, sh, coupling, receivers, senders, *weights)
    ctx.needs = (x.requires_grad, radial.requires_grad, sh.requires_grad, [w.requires_grad for w in weights])
    ctx.plan = ConvPlan.from_flat(groups)
    ctx.block_size = block_size


def _backward(ctx, grad: Tensor):
    x, radial, sh, coupling, receivers, senders, *weights = ctx.saved_tensors
    need_x, need_radial, need_sh, need_w = ctx.needs
    plan, block = ctx.plan, ctx.block_size
    flags = [need_x, need_radial, need_sh] + list(need_w)
    none = (None,) * 5  # coupling, receivers, senders, groups, block_size
    if not any(flags):
        return (None, None, None, [None] * len(weights)) + none
    route = routes.kernel_route(OP, x.device)
    differentiated = torch.is_grad_enabled()  # on only when this backward is differentiated again
    if differentiated or route == "reference":
        # the reference route: one block of all edges, autograd on the plain formulation
        block = max(1, radial.shape[0]) if route == "reference" else block
        with torch.enable_grad():
            gx, g_radial, g_sh, g_ws = create_graph.backward(x, radial, sh, weights, coupling, receivers, senders,
                                                             plan, block, grad, flags)
        if not differentiated:
            gx, g_radial, g_sh = (None if g is None else g.detach() for g in (gx, g_radial, g_sh))
            g_ws = [None if g is None else g.detach() for g in g_ws]
        return (gx, g_radial, g_sh, g_ws) + none
    args = (x, radial, sh, weights, coupling, receivers, senders, plan, block, grad, ctx.needs)
    if route == "triton":
        grads = routes.call_kernel(OP, lambda: triton_route.backward(*args), lambda: blocked.backward(*args))
    else:
        grads = blocked.backward(*args)
    return tuple(grads) + none


conv_op.register_autograd(_backward, setup_context=_setup)

__all__ = ["conv_op"]
