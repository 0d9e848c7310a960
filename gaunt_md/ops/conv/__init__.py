"""gaunt_md::conv, the fused Gaunt convolution: radial MLP, Gaunt-coupled channelwise tensor
product and the sum over neighbours in one blocked pass over the edges.

For edge e (receiver i, sender j), channel c and coupling path p = (l1, l2, l3):

    R[e, p, c]       = MLP(radial[e])[p, c]                    (SiLU MLP, last layer linear)
    H[e, q, c]       = R[e, p(q), c] * x[j, l1(q) m1(q), c]      q runs over the (path, m1) pairs
    V[e, q, l3 m3]   = sum_m2 coupling[l2 m2, q, l3 m3] * sh[e, l2 m2]
    out[i, l3 m3, c] = sum_{e -> i} sum_q V[e, q, l3 m3] H[e, q, c]

Only the (path, m1) rows with a non-zero Gaunt block exist (q has sum_p (2 l1 + 1) entries, not
paths x (Lin+1)^2), the path weights land in their output slots through the same contraction,
and the coupling carries the 1/avg_num_neighbors normalisation.  On the torch and triton
routes nothing of size [edges, channels, ...] is ever materialised in full: memory is
O(nodes x channels + edges x (radial + sh)), not O(edges x channels x paths).

Layouts are channel-last: x [N, Din, C], out [N, Dout, C].

Files: plan.py the paths (ConvPlan, the coupling matrix, block sizes); op.py the op's
registration and dispatch; one file per route: reference.py, blocked.py (torch, with
workers.py), triton_route.py (with the kernels of triton_kernels.py); create_graph.py the
differentiable backward; radial_mlp.py the MLP and its backward.
"""
from . import op as _registers_op  # noqa: F401  (torch.ops.gaunt_md.conv)
from .plan import (DENSE_COUPLING_NAMES, ConvPlan, PathGroup, coupling_matrix, coupling_paths, dense_coupling,
                   dense_coupling_buffers, output_slots, paths_per_degree)
from .radial_mlp import silu_mlp
from .reference import conv_reference

__all__ = ["DENSE_COUPLING_NAMES", "ConvPlan", "PathGroup", "conv_reference", "coupling_matrix", "coupling_paths",
           "dense_coupling", "dense_coupling_buffers", "output_slots", "paths_per_degree", "silu_mlp"]
