"""Many-body product basis from distinct factors: B_nu = prod_{i<=nu} (W_nu,i A), by Gaunt products.

The power basis (product.py) raises each channel's spherical function to the nu-th power, so a
body order has one weight per (species, channel, output degree). Here every factor of every body
order first goes through its own equivariant linear map (channel mixing per degree), as in the
Gaunt-MACE of Luo et al.: the nu-fold product then couples channels and weights each degree
combination, the freedom MACE's symmetric contraction has per coupling path. The factors are
multiplied pointwise on one sphere grid that is exact for the whole product (degree
K * lmax_in + lmax_out), so the result is the exact Gaunt product, not an approximation.

With every W = identity this is exactly the power basis (same weights): a trained power-basis
model can be continued with factors (`init_from` in the training config).
"""
from __future__ import annotations

import torch
from torch import nn

from ..ops import factor_products as _registers_op  # noqa: F401  (torch.ops.gaunt_md.factor_products)
from ..so3 import degree_of_index
from ..so3.quadrature import analysis_matrix, synthesis_matrix
from .product import body_order_weights

CHUNK_GRID_VALUES = 1 << 18


class GauntFactorProductBasis(nn.Module):
    def __init__(self, channels: int, lmax_in: int, lmax_out: int, correlation: int, num_species: int):
        super().__init__()
        self.correlation = correlation
        self.weights = body_order_weights(num_species, channels, lmax_out, correlation)
        # one channel-mixing matrix per degree for each factor (nu factors for body order nu),
        # starting as the identity
        num_factors = correlation * (correlation + 1) // 2
        eye = torch.eye(channels, dtype=torch.float64)
        self.factor_weights = nn.Parameter(eye.expand(num_factors, lmax_in + 1, channels, channels).clone())
        self.register_buffer("degree", degree_of_index(lmax_in), persistent=False)
        degree = correlation * lmax_in + lmax_out
        self.register_buffer("synthesis", synthesis_matrix(lmax_in, degree).to(torch.float64), persistent=False)
        self.register_buffer("analysis", analysis_matrix(lmax_out, degree).to(torch.float64), persistent=False)
        self.register_buffer("out_degree", degree_of_index(lmax_out), persistent=False)
        # nodes per step of the op: its sphere-grid values ([nodes, F, C, G]) stay ~2 MB in float64
        grid_values = num_factors * channels * self.synthesis.shape[1]
        self.chunk_nodes = max(1, CHUNK_GRID_VALUES // grid_values)

    def forward(self, features: torch.Tensor, species: torch.Tensor) -> torch.Tensor:
        """features [N, C, (lmax_in+1)^2] -> [N, C, (lmax_out+1)^2]."""
        w = torch.index_select(self.factor_weights, 1, self.degree)                # [F, D, C, C']
        factors = torch.einsum("ncd,fdce->nfed", features, w)                       # [N, F, C, D]
        coeffs = torch.ops.gaunt_md.factor_products(factors, self.synthesis, self.analysis,
                                                    self.correlation, self.chunk_nodes)  # [N, K, C, Dout]
        per_node = torch.index_select(self.weights, 0, species)                    # [N, C, Lout+1, K]
        per_node = torch.index_select(per_node, 2, self.out_degree)                # [N, C, Dout, K]
        return torch.einsum("nkcm,ncmk->ncm", coeffs, per_node)
