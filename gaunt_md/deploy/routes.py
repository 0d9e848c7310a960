"""Routes for a loaded (or any) model: `load_model(..., routes=...)` and
`GauntCalculator(..., routes=...)` pass their {op: route} mapping here (names and precedence:
gaunt_md/ops/routes.py).  The op routes are process wide; the interaction route is set on the
model's interaction blocks, TorchScript or eager."""
from __future__ import annotations

from typing import Mapping, Optional

import torch

from ..ops.conv import dense_coupling_buffers
from ..ops.routes import check_routes, set_routes


def _interaction_blocks(module: torch.nn.Module):
    for block in module.modules():
        name = getattr(block, "original_name", type(block).__name__)
        if name == "GauntInteraction":
            yield block


def _use_interaction_route(block, route: str) -> None:
    if hasattr(block, "use_route"):  # an eager GauntInteraction
        block.use_route(route)
        return
    block.fused = route == "fused"
    if route == "reference" and block.coupling.numel() == 0:
        # exported without its reference tensors: rebuild them from the block's degrees
        buffers = dense_coupling_buffers(block.lmax_in, block.lmax_edge, block.lmax_out, block.fused_coupling)
        for name, tensor in buffers.items():
            setattr(block, name, tensor)


def apply_routes(module: torch.nn.Module, routes: Optional[Mapping[str, str]]) -> None:
    """Validate every choice first, then set the op routes (process wide) and the model's
    interaction route."""
    chosen = check_routes(routes)
    interaction = chosen.pop("interaction", None)
    set_routes(chosen)
    if interaction is not None:
        for block in _interaction_blocks(module):
            _use_interaction_route(block, interaction)


__all__ = ["apply_routes"]
