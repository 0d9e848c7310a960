"""Sphere-grid routes: synthesis on a Gauss-Legendre x uniform-phi grid, pointwise work, exact
quadrature back; exact for band-limited inputs.

Two ways between coefficients and grid values, one route each:
  GRID ("grid"): dense synthesis/analysis matrices, O(L^4) per row in a few large matmuls;
  SEPARABLE ("sht"): Legendre sums per azimuthal function, then a Fourier sum in phi
      (so3.separable), O(L^3) per row, but small batched matmuls: on a 2-core CPU it stays
      slower than GRID up to at least L = 8 (benchmarks/README.md); `auto` times both.
"""
from __future__ import annotations

import torch

from ...so3 import degree_from_dim
from .constants import constant


class DenseTransform:
    """Coefficients <-> grid values of sphere_grid(degree) by the dense matrices."""

    def __init__(self, lmax: int, degree: int, like: torch.Tensor):
        self.S = constant("synthesis_matrix", lmax, degree, like=like)
        self.A = constant("analysis_matrix", lmax, degree, like=like)

    def synthesis(self, x):
        return x @ self.S

    def analysis(self, g):
        return g @ self.A

    def synthesis_adjoint(self, g):
        return g @ self.S.T

    def analysis_adjoint(self, c):
        return c @ self.A.T


class SeparableTransform:
    """The same maps as DenseTransform, factored into Legendre and Fourier steps."""

    def __init__(self, lmax: int, degree: int, like: torch.Tensor):
        self.t = constant("separable_synthesis", lmax, degree, like=like)

    def _to_grid(self, x, legendre):
        lead, width = x.shape[:-1], legendre.shape[0]
        c = x.reshape(-1, x.shape[-1])[:, self.t.gather]                    # [R, M, L+1]
        rings = torch.matmul(c.transpose(0, 1), legendre)                    # [M, R, n_theta]
        f = rings.permute(1, 2, 0).reshape(-1, width) @ self.t.azimuth      # [R * n_theta, n_phi]
        return f.reshape(lead + (-1,))

    def _from_grid(self, g, legendre):
        lead, (width, _, n_theta) = g.shape[:-1], legendre.shape
        h = g.reshape(-1, self.t.azimuth.shape[1]) @ self.t.azimuth.T       # [R * n_theta, M]
        h = h.reshape(-1, n_theta, width).permute(2, 0, 1)                   # [M, R, n_theta]
        c = torch.matmul(h, legendre.transpose(1, 2))                        # [M, R, L+1]
        rows = c.shape[1]
        return c.transpose(0, 1).reshape(rows, -1)[:, self.t.scatter].reshape(lead + (-1,))

    def synthesis(self, x):
        return self._to_grid(x, self.t.legendre)

    def analysis(self, g):
        return self._from_grid(g, self.t.weighted_legendre)

    def synthesis_adjoint(self, g):
        return self._from_grid(g, self.t.legendre)

    def analysis_adjoint(self, c):
        return self._to_grid(c, self.t.weighted_legendre)


def _lower_powers(f: torch.Tensor, count: int) -> list:
    """[f^0, f^1, ..., f^(count-1)] on the grid."""
    out = [torch.ones_like(f)]
    for _ in range(count - 1):
        out.append(out[-1] * f)
    return out


class GridRoute:
    """The backend functions (see backends.py) for one way of transforming."""

    def __init__(self, transform):
        self.transform = transform

    def product(self, x: torch.Tensor, y: torch.Tensor, lmax_out: int) -> torch.Tensor:
        l1, l2 = degree_from_dim(x.shape[-1]), degree_from_dim(y.shape[-1])
        degree = l1 + l2 + lmax_out
        fx = self.transform(l1, degree, x).synthesis(x)
        fy = self.transform(l2, degree, x).synthesis(y)
        return self.transform(lmax_out, degree, x).analysis(fx * fy)

    def powers(self, x: torch.Tensor, correlation: int, lmax_out: int) -> torch.Tensor:
        lmax = degree_from_dim(x.shape[-1])
        degree = correlation * lmax + lmax_out
        f = self.transform(lmax, degree, x).synthesis(x)
        power = f.new_empty(f.shape[:1] + (correlation,) + f.shape[1:])  # filled in place: no stack copy
        power[:, 0] = f
        for nu in range(1, correlation):
            torch.mul(power[:, nu - 1], f, out=power[:, nu])
        return self.transform(lmax_out, degree, x).analysis(power)

    def _vjp_transforms(self, x: torch.Tensor, coeffs: torch.Tensor):
        lmax = degree_from_dim(x.shape[-1])
        lmax_out = degree_from_dim(coeffs.shape[-1])
        degree = coeffs.shape[1] * lmax + lmax_out
        return self.transform(lmax, degree, x), self.transform(lmax_out, degree, x)

    def vjp(self, x: torch.Tensor, coeffs: torch.Tensor) -> torch.Tensor:
        """(sum_nu nu f^(nu-1) q_nu) projected onto degree L, q_nu = grid values of coeffs[:, nu-1]."""
        inner, outer = self._vjp_transforms(x, coeffs)
        correlation = coeffs.shape[1]
        f = inner.synthesis(x)
        # the factors nu on the (smaller) coefficient side, then Horner's rule on the grid
        nu = torch.arange(1, correlation + 1, dtype=coeffs.dtype, device=coeffs.device)
        q = outer.synthesis(coeffs * nu[:, None])
        h = q[:, -1]
        for k in range(correlation - 2, -1, -1):
            h = torch.addcmul(q[:, k], f, h)
        return inner.analysis(h)

    def vjp_backward(self, x: torch.Tensor, coeffs: torch.Tensor, grad: torch.Tensor):
        """Gradients of <grad, vjp(x, coeffs)> w.r.t. x and coeffs, in differentiable torch ops."""
        inner, outer = self._vjp_transforms(x, coeffs)
        correlation = coeffs.shape[1]
        f = inner.synthesis(x)
        q = outer.synthesis(coeffs)
        r = inner.analysis_adjoint(grad)
        lower = _lower_powers(f, correlation)
        grad_coeffs = outer.synthesis_adjoint(
            torch.stack([(nu + 1) * lower[nu] * r for nu in range(correlation)], dim=1))
        grad_f = sum((nu + 1) * nu * lower[nu - 1] * q[:, nu] for nu in range(1, correlation))
        grad_x = inner.synthesis_adjoint(grad_f * r) if correlation > 1 else torch.zeros_like(x)
        return grad_x, grad_coeffs


GRID = GridRoute(DenseTransform)
SEPARABLE = GridRoute(SeparableTransform)
