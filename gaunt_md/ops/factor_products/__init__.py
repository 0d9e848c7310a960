"""gaunt_md::factor_products: Gaunt products of distinct factors, a few nodes at a time.

factor_products(factors, synthesis, analysis, correlation, chunk)
    factors [N, F, C, D] (F = K(K+1)/2: body order nu takes the next nu of them),
    synthesis [D, G] (coefficients -> values on a sphere grid exact for the whole product),
    analysis [G, Dout] (grid values -> coefficients of degree <= lmax_out)
    -> [N, K, C, Dout], entry nu-1 = projection of the pointwise product of body order nu's factors.

Files: op.py the op's registration and dispatch; one file per route: reference.py,
chunked.py (torch), triton_kernels.py (triton).
"""
from . import op as _registers_op  # noqa: F401  (torch.ops.gaunt_md.factor_products)
from .chunked import CUDA_CHUNK_GRID_VALUES, device_chunk
from .reference import products_reference, products_vjp

__all__ = ["CUDA_CHUNK_GRID_VALUES", "device_chunk", "products_reference", "products_vjp"]
