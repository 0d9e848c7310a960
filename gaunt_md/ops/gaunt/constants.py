"""Conversion tensors for the ops, built once per (size, dtype, device) and kept in memory."""
from __future__ import annotations

import functools

import torch

from ... import so3


@functools.lru_cache(maxsize=None)
def _on(name: str, args: tuple, dtype: torch.dtype, device: torch.device):
    value = getattr(so3, name)(*args)
    if isinstance(value, torch.Tensor):
        return value.to(dtype=dtype if value.is_floating_point() else value.dtype, device=device)
    # BlockSparse: move every tensor field
    return type(value)(**{
        k: v.to(dtype=dtype if v.is_floating_point() else v.dtype, device=device)
        for k, v in vars(value).items()
    })


def constant(name: str, *args, like: torch.Tensor):
    """so3.<name>(*args) converted to like's dtype and device (cached)."""
    return _on(name, args, like.dtype, like.device)


def degree_index(lmax: int, device: torch.device) -> torch.Tensor:
    return _degree_index(lmax, device)


@functools.lru_cache(maxsize=None)
def _degree_index(lmax: int, device: torch.device) -> torch.Tensor:
    return so3.degree_of_index(lmax).to(device)
