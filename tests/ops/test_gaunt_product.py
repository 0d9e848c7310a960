"""gaunt_product: every method against the dense reference, pointwise products of spherical
functions, O(3) equivariance, broadcasting, first and second derivatives, input validation."""
from __future__ import annotations

import functools
import itertools

import pytest
import torch

from gaunt_md.ops import gaunt_product
from gaunt_md.so3 import sh_dim

from op_methods import METHODS, method_device

DTYPES = [torch.float64, torch.float32]


def _inputs(l1, l2, *lead, seed=0, dtype=torch.float64, device="cpu"):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(*lead, sh_dim(l1), generator=gen, dtype=torch.float64)
    y = torch.randn(*lead, sh_dim(l2), generator=gen, dtype=torch.float64)
    return x.to(dtype=dtype, device=device), y.to(dtype=dtype, device=device)


@functools.lru_cache(maxsize=None)
def _reference(l1, l2, lmax_out):
    """Dense float64 result on the seeded inputs of _inputs(l1, l2, 4)."""
    return gaunt_product(*_inputs(l1, l2, 4), lmax_out, method="dense")


# every (L1, L2, Lout) with L1, L2 in this set and Lout = 0..8, plus outputs above L1 + L2
SWEEP = [c for c in itertools.product((0, 1, 2, 3, 5, 8), (0, 1, 3, 4, 8), range(9))] + [(1, 2, 5), (4, 3, 7), (6, 6, 12)]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("method", METHODS)
def test_matches_dense(method, dtype, relative_error):
    tol = {torch.float64: 1e-10, torch.float32: 1e-5}[dtype]
    sweep = SWEEP if method != "auto" else SWEEP[::3]  # auto times every route on each new size
    failures = []
    for l1, l2, lmax_out in sweep:
        x, y = _inputs(l1, l2, 4, dtype=dtype, device=method_device(method))
        out = gaunt_product(x, y, lmax_out, method=method)
        assert out.dtype == dtype and out.shape == (4, sh_dim(lmax_out))
        err = relative_error(out.cpu(), _reference(l1, l2, lmax_out))
        if not err <= tol:
            failures.append(f"({l1}, {l2}, {lmax_out}): {err:.2e}")
    assert not failures, f"{method} disagrees with dense: " + ", ".join(failures)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("l1, l2, lmax_out", [(0, 2, 2), (2, 3, 5), (4, 4, 8), (3, 1, 6)])
def test_pointwise_product(method, l1, l2, lmax_out, unit_vectors, sh, gen):
    """With lmax_out >= L1 + L2 nothing is truncated: the output's function is f * g."""
    x, y = _inputs(l1, l2, 3, seed=l1 + 10 * l2, device=method_device(method))
    out = gaunt_product(x, y, lmax_out, method=method).cpu()
    r = unit_vectors(40, gen)
    f, g = sh(l1, r) @ x.cpu().T, sh(l2, r) @ y.cpu().T
    torch.testing.assert_close(sh(lmax_out, r) @ out.T, f * g, atol=1e-11, rtol=0)


@pytest.mark.parametrize("method", METHODS)
def test_truncation_and_symmetry(method):
    """Lower lmax_out is the leading slice of the full product; the product is commutative."""
    x, y = _inputs(3, 4, 5, seed=3, device=method_device(method))
    full = gaunt_product(x, y, 7, method=method)
    for lmax_out in (0, 2, 5):
        torch.testing.assert_close(gaunt_product(x, y, lmax_out, method=method), full[:, : sh_dim(lmax_out)],
                                   atol=1e-12, rtol=0)
    torch.testing.assert_close(gaunt_product(y, x, 7, method=method), full, atol=1e-12, rtol=0)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("method", METHODS)
def test_equivariance(method, dtype, o3_element, wigner_D, assert_rel_close):
    """Rotating (or reflecting) both inputs rotates the output: D x * D y -> D (x * y)."""
    l1, l2, lmax_out = 3, 2, 4
    device = method_device(method)
    x, y = _inputs(l1, l2, 6, seed=5, dtype=dtype, device=device)
    D1, D2, D3 = (wigner_D(l, o3_element, dtype).to(device) for l in (l1, l2, lmax_out))
    out_of_rotated = gaunt_product(x @ D1.T, y @ D2.T, lmax_out, method=method)
    rotated_out = gaunt_product(x, y, lmax_out, method=method) @ D3.T
    assert_rel_close(out_of_rotated, rotated_out, what=f"{method} equivariance:")


@pytest.mark.parametrize("method", ["dense", "fourier", "grid"])
def test_broadcasting(method):
    x, y = _inputs(2, 1, 4, 1, seed=1)
    y = y[0]  # [1, D2] -> broadcast against x's [4, 1]
    y3 = torch.randn(3, sh_dim(1), dtype=torch.float64)
    out = gaunt_product(x, y3, 3, method=method)
    assert out.shape == (4, 3, sh_dim(3))
    expected = gaunt_product(x.expand(4, 3, -1).reshape(12, -1), y3.repeat(4, 1), 3, method="dense")
    torch.testing.assert_close(out.reshape(12, -1), expected, atol=1e-12, rtol=0)
    # no leading dimensions at all, and an empty batch
    torch.testing.assert_close(gaunt_product(x[0, 0], y3[1], 3, method=method), out[0, 1], atol=1e-12, rtol=0)
    assert gaunt_product(x[:0], y3, 3, method=method).shape == (0, 3, sh_dim(3))
    # non-contiguous inputs
    xt = torch.randn(sh_dim(2), 5, dtype=torch.float64).T
    torch.testing.assert_close(gaunt_product(xt, y, 2, method=method),
                               gaunt_product(xt.contiguous(), y, 2, method="dense"), atol=1e-12, rtol=0)
    # gradients reach broadcast inputs with their own shapes
    xg, yg = x.clone().requires_grad_(), y.clone().requires_grad_()
    gaunt_product(xg, yg, 2, method=method).sum().backward()
    assert xg.grad.shape == xg.shape and yg.grad.shape == yg.shape


@pytest.mark.parametrize("method", METHODS)
def test_gradcheck(method):
    x, y = _inputs(2, 1, 2, seed=2, device=method_device(method))
    x.requires_grad_()
    y.requires_grad_()
    fn = functools.partial(gaunt_product, lmax_out=2, method=method)
    assert torch.autograd.gradcheck(fn, (x, y))
    assert torch.autograd.gradgradcheck(fn, (x, y))


BAD_INPUTS = {
    "leading shapes": (lambda: (torch.ones(3, 4), torch.ones(2, 4), 1, "auto"), r"do not broadcast"),
    "x not square": (lambda: (torch.ones(2, 5), torch.ones(2, 4), 1, "auto"), r"x has 5 .*square number"),
    "y not square": (lambda: (torch.ones(2, 4), torch.ones(2, 7), 1, "auto"), r"y has 7 .*square number"),
    "negative lmax_out": (lambda: (torch.ones(4), torch.ones(4), -1, "auto"), r"lmax_out must be a non-negative"),
    "float lmax_out": (lambda: (torch.ones(4), torch.ones(4), 1.0, "auto"), r"lmax_out must be a non-negative"),
    "integer dtype": (lambda: (torch.ones(4, dtype=torch.long), torch.ones(4), 1, "auto"),
                      r"x must be float32 or float64"),
    "float16": (lambda: (torch.ones(4), torch.ones(4, dtype=torch.float16), 1, "auto"),
                r"y must be float32 or float64"),
    "mixed dtypes": (lambda: (torch.ones(4), torch.ones(4, dtype=torch.float64), 1, "auto"), r"different dtypes"),
    "unknown method": (lambda: (torch.ones(4), torch.ones(4), 1, "magic"), r"unknown method 'magic'"),
    "scalar": (lambda: (torch.tensor(1.0), torch.ones(4), 1, "auto"), r"last dimension"),
    "degree above 12": (lambda: (torch.ones(14 ** 2), torch.ones(4), 1, "auto"), r"x is degree 13; degrees above 12"),
    "lmax_out above 12": (lambda: (torch.ones(4), torch.ones(4), 13, "auto"), r"lmax_out is degree 13"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input(case):
    make, message = BAD_INPUTS[case]
    with pytest.raises(ValueError, match=message):
        gaunt_product(*make())


def test_op_requires_equal_leading_shapes():
    """The registered op does not broadcast; the Python wrapper does."""
    with pytest.raises(ValueError, match="leading shapes differ"):
        torch.ops.gaunt_md.gaunt_product(torch.ones(3, 4), torch.ones(1, 4), 1, "dense")
