"""The reference route of gaunt_md::factor_products: all nodes at once in plain
autograd-differentiable ops, and the VJP the other routes differentiate again."""
from __future__ import annotations

from typing import List

import torch
from torch import Tensor


def body_orders(correlation: int) -> List[List[int]]:
    """The factor indices of each body order: [[0], [1, 2], [3, 4, 5], ...]."""
    groups, first = [], 0
    for nu in range(1, correlation + 1):
        groups.append(list(range(first, first + nu)))
        first += nu
    return groups


def products_reference(factors: Tensor, synthesis: Tensor, analysis: Tensor, correlation: int) -> Tensor:
    """[n, K, C, Dout] for factors [n, F, C, D] (the forward of one chunk of the torch route)."""
    grids = torch.matmul(factors, synthesis)                                  # [n, F, C, G]
    products: List[Tensor] = []
    for group in body_orders(correlation):
        product = grids[:, group[0]]
        for i in group[1:]:
            product = product * grids[:, i]
        products.append(product)
    return torch.matmul(torch.stack(products, dim=1), analysis)              # [n, K, C, Dout]


def products_vjp(factors: Tensor, grad: Tensor, synthesis: Tensor, analysis: Tensor, correlation: int,
                 chunk: int) -> Tensor:
    """d<grad, factor_products(factors)>/d factors, chunk by chunk, in differentiable ops."""
    groups = body_orders(correlation)
    parts: List[Tensor] = []
    # split, not slices: differentiated again, one split gathers all chunks' gradients at once,
    # where each slice would write its chunk into a zero tensor of the whole size (O(N^2 / chunk))
    for factors_c, grad_c in zip(factors.split(chunk), grad.split(chunk)):
        grids = torch.matmul(factors_c, synthesis)                          # [n, F, C, G]
        grad_grids = torch.matmul(grad_c, analysis.t())                     # [n, K, C, G]
        per_factor: List[Tensor] = []
        for k, group in enumerate(groups):
            for i in group:
                g = grad_grids[:, k]
                for j in group:
                    if j != i:
                        g = g * grids[:, j]
                per_factor.append(g)
        parts.append(torch.matmul(torch.stack(per_factor, dim=1), synthesis.t()))
    return torch.cat(parts, dim=0) if parts else torch.zeros_like(factors)


__all__ = ["body_orders", "products_reference", "products_vjp"]
