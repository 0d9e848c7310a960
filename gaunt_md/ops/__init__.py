"""gaunt-md's custom ops (namespace gaunt_md, callable from eager code and TorchScript), one
package per op family:

    gaunt/            gaunt_product, many_body, power_projections, power_vjp: projections of
                      pointwise products of spherical functions (the power product basis)
    conv/             conv: the fused interaction (radial MLP, Gaunt coupling, neighbour sum)
    factor_products/  factor_products: products of distinct factors (the factor product basis)

routes.py chooses how each op runs (one table of route names, validated); triton_support.py
says whether Triton kernels can run here; triton_sphere_grid.py holds the Triton helpers the
sphere-grid kernels share.  Importing this package registers every op.
"""
from __future__ import annotations

from . import conv as _registers_conv  # noqa: F401  (torch.ops.gaunt_md.conv)
from . import factor_products as _registers_factor_products  # noqa: F401  (torch.ops.gaunt_md.factor_products)
from .gaunt import METHODS, autotune_choices, gaunt_product, many_body_product, power_projections
from .routes import set_routes, triton_usable

__all__ = ["METHODS", "autotune_choices", "gaunt_product", "many_body_product", "power_projections", "set_routes",
           "triton_usable"]
