"""The torch route of gaunt_md::factor_products: the reference products a few nodes at a time,
so that the grid values ([N, F, C, G], ~4x the factors at L = 3) are never all kept.  On CUDA
it works on chunks of ~2^25 grid values, not the CPU's cache-sized ones."""
from __future__ import annotations

import torch
from torch import Tensor

from .reference import products_reference

CUDA_CHUNK_GRID_VALUES = 1 << 25


def device_chunk(chunk: int, device: torch.device, grid_values_per_node: int) -> int:
    """Nodes per step: the caller's cache-sized chunk on CPU; on CUDA enough nodes for ~2^25
    grid values, so that a large system is a few launches per op, not thousands."""
    if device.type != "cuda":
        return chunk
    return max(chunk, CUDA_CHUNK_GRID_VALUES // max(1, grid_values_per_node))


def grid_values_per_node(factors: Tensor, synthesis: Tensor) -> int:
    return factors.shape[1] * factors.shape[2] * synthesis.shape[1]


def products(factors: Tensor, synthesis: Tensor, analysis: Tensor, correlation: int, chunk: int) -> Tensor:
    n, _, c, _ = factors.shape
    out = factors.new_empty((n, correlation, c, analysis.shape[1]))
    chunk = device_chunk(chunk, factors.device, grid_values_per_node(factors, synthesis))
    for start in range(0, n, chunk):
        out[start:start + chunk] = products_reference(factors[start:start + chunk], synthesis, analysis, correlation)
    return out


__all__ = ["CUDA_CHUNK_GRID_VALUES", "device_chunk", "grid_values_per_node", "products"]
