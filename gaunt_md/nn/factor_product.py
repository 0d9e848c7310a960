"""Many-body product basis from distinct factors: B_nu = prod_{i<=nu} (s_z,i W_i A), by Gaunt products.

Every factor i of every body order is its own equivariant linear map of A: channel mixing per
degree (W_i, shared by all elements) and a weight per element, channel and degree (s_z,i). The
nu-fold pointwise product then couples channels and weighs each degree combination
(l_1, ..., l_nu) of an element by prod_i s_z,i,l_i, and the body order's output gets a weight per
element, channel and output degree: the freedom MACE's symmetric contraction has per element,
channel and coupling path, in a factorised form: rank one in the degree combination. With
`rank` R > 1 each body order is a sum of R such products, each with its own element weights
s_z,i,r (the channel mixing W_i is shared): a rank-R weight per element, channel and degree
combination, at R times the cost of the product op. The factors are multiplied pointwise on one
sphere grid that is exact for the whole product (degree K * lmax_in + lmax_out), so the result
is the exact Gaunt product, not an approximation.

The W_i start random and independent (as e3nn's linear maps do). The product is symmetric in
its factors, so factors that start equal get equal gradients and stay equal forever: with
identity starts (an earlier version) every body order collapsed to (W A)^nu, the power basis,
one invariant per channel.
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
    def __init__(self, channels: int, lmax_in: int, lmax_out: int, correlation: int, num_species: int,
                 rank: int = 1):
        super().__init__()
        if rank < 1:
            raise ValueError(f"rank must be >= 1, got {rank}")
        self.correlation = correlation
        self.rank = rank
        # rank r of channel c is product channel r * C + c; the R terms of a channel are summed
        self.weights = body_order_weights(num_species, rank * channels, lmax_out, correlation)
        if rank > 1:
            with torch.no_grad():
                self.weights.mul_(rank ** -0.5)
        # one channel-mixing matrix per degree for each factor (nu factors for body order nu),
        # random and independent: equal starts would stay equal (see above)
        num_factors = correlation * (correlation + 1) // 2
        self.factor_weights = nn.Parameter(
            torch.randn(num_factors, lmax_in + 1, channels, channels, dtype=torch.float64))
        self.mixing_norm = channels ** -0.5
        # and a weight per element, factor, rank, channel and degree; random for R > 1, since R
        # equal starts would differ only through their output weights
        species_shape = (num_species, num_factors, rank * channels, lmax_in + 1)
        self.factor_species_weights = nn.Parameter(
            torch.ones(species_shape, dtype=torch.float64) if rank == 1
            else torch.randn(species_shape, dtype=torch.float64))
        self.register_buffer("degree", degree_of_index(lmax_in), persistent=False)
        degree = correlation * lmax_in + lmax_out
        self.register_buffer("synthesis", synthesis_matrix(lmax_in, degree).to(torch.float64), persistent=False)
        self.register_buffer("analysis", analysis_matrix(lmax_out, degree).to(torch.float64), persistent=False)
        self.register_buffer("out_degree", degree_of_index(lmax_out), persistent=False)
        # nodes per step of the op: its sphere-grid values ([nodes, F, C, G]) stay ~2 MB in float64
        grid_values = num_factors * rank * channels * self.synthesis.shape[1]
        self.chunk_nodes = max(1, CHUNK_GRID_VALUES // grid_values)

    def forward(self, features: torch.Tensor, species: torch.Tensor) -> torch.Tensor:
        """features [N, C, (lmax_in+1)^2] -> [N, C, (lmax_out+1)^2]."""
        w = torch.index_select(self.factor_weights, 1, self.degree) * self.mixing_norm  # [F, D, C, C']
        factors = torch.einsum("ncd,fdce->nfed", features, w)                       # [N, F, C, D]
        species_weights = torch.index_select(self.factor_species_weights, 0, species)  # [N, F, R*C, L+1]
        species_weights = torch.index_select(species_weights, 3, self.degree)      # [N, F, R*C, D]
        n, f, c, d = factors.shape
        # rank 1 keeps the plain ops, so the default model computes bit for bit what it did before
        # ranks existed; for R > 1 the R copies of a factor differ by their element weights only
        if self.rank > 1:
            factors = (factors.unsqueeze(2) * species_weights.view(n, f, self.rank, c, d)).reshape(n, f, -1, d)
        else:
            factors = factors * species_weights
        coeffs = torch.ops.gaunt_md.factor_products(factors, self.synthesis, self.analysis,
                                                    self.correlation, self.chunk_nodes)  # [N, K, R*C, Dout]
        per_node = torch.index_select(self.weights, 0, species)                    # [N, R*C, Lout+1, K]
        per_node = torch.index_select(per_node, 2, self.out_degree)                # [N, R*C, Dout, K]
        if self.rank > 1:
            k, m = coeffs.shape[1], coeffs.shape[3]
            return torch.einsum("nkrcm,nrcmk->ncm", coeffs.view(n, k, self.rank, c, m),
                                per_node.view(n, self.rank, c, m, k))
        return torch.einsum("nkcm,ncmk->ncm", coeffs, per_node)                   # [N, C, Dout]
