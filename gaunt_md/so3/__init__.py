"""Pure SO(3) math: real spherical harmonics, Gaunt coefficients, quadrature, Fourier conversions."""
from .gaunt import gaunt_block, gaunt_coefficients
from .harmonics import MAX_DEGREE, angles_to_points, real_sh
from .indexing import degree_from_dim, degree_of_index, order_of_index, sh_dim
from .quadrature import analysis_matrix, sphere_grid, synthesis_matrix
from .separable import SeparableSynthesis, separable_synthesis
from .fourier import fourier_to_sh, fourier_to_sh_positions, sh_to_fourier

__all__ = [
    "MAX_DEGREE",
    "analysis_matrix", "angles_to_points", "degree_from_dim", "degree_of_index", "fourier_to_sh",
    "fourier_to_sh_positions",
    "gaunt_block", "gaunt_coefficients", "order_of_index", "real_sh", "SeparableSynthesis",
    "separable_synthesis", "sh_dim", "sh_to_fourier", "sphere_grid", "synthesis_matrix",
]
