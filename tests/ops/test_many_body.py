"""many_body_product and power_projections: every method against a naive reference built from
iterated gaunt_product calls, derivatives (incl. second order) w.r.t. x and weights,
O(3) equivariance, input validation."""
from __future__ import annotations

import functools
import itertools

import pytest
import torch

from gaunt_md.ops import gaunt_product, many_body_product, power_projections
from gaunt_md.so3 import degree_from_dim, degree_of_index, sh_dim

from op_methods import METHODS, method_device

DTYPES = [torch.float64, torch.float32]
N_NODES, CHANNELS, N_SPECIES = 5, 3, 3
SPECIES = torch.tensor([0, 2, 1, 2, 0])  # species 1 on one node only


def _inputs(lmax, correlation, lmax_out, seed=0, n_nodes=N_NODES, channels=CHANNELS, n_species=N_SPECIES):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n_nodes, channels, sh_dim(lmax), generator=gen, dtype=torch.float64)
    weights = torch.randn(n_species, channels, lmax_out + 1, correlation, generator=gen, dtype=torch.float64)
    return x, weights


def _resize(p: torch.Tensor, lmax: int) -> torch.Tensor:
    d = sh_dim(lmax)
    return torch.nn.functional.pad(p, (0, max(0, d - p.shape[-1])))[..., :d]


def naive_powers(x: torch.Tensor, correlation: int, lmax_out: int) -> torch.Tensor:
    """[..., K, Dout]: f^1 = x, f^nu = product(f^(nu-1), x) kept complete (degree nu L) up to
    nu = K-1, the last product projected straight onto lmax_out."""
    lmax = degree_from_dim(x.shape[-1])
    full = [x]
    for nu in range(2, correlation):
        full.append(gaunt_product(full[-1], x, nu * lmax, method="dense"))
    projected = [_resize(x, lmax_out)] + [gaunt_product(f, x, lmax_out, method="dense") for f in full]
    return torch.stack(projected[:correlation], dim=-2)


def naive_many_body(x, weights, species, lmax_out):
    powers = naive_powers(x, weights.shape[-1], lmax_out)  # [N, C, K, Dout]
    w = weights[species][:, :, degree_of_index(lmax_out)]  # [N, C, Dout, K]
    return torch.einsum("nckm,ncmk->ncm", powers, w)


@functools.lru_cache(maxsize=None)
def _reference(lmax, correlation, lmax_out):
    x, weights = _inputs(lmax, correlation, lmax_out)
    return naive_many_body(x, weights, SPECIES, lmax_out)


SWEEP = list(itertools.product(range(5), range(1, 5), range(5)))  # (L, K, Lout)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("method", METHODS)
def test_matches_naive_reference(method, dtype, relative_error):
    tol = {torch.float64: 1e-10, torch.float32: 1e-5}[dtype]
    device = method_device(method)
    sweep = SWEEP if method != "auto" else SWEEP[::4]  # auto times every route on each new size
    failures = []
    for lmax, correlation, lmax_out in sweep:
        x, weights = (t.to(dtype=dtype, device=device) for t in _inputs(lmax, correlation, lmax_out))
        out = many_body_product(x, weights, SPECIES.to(device), lmax_out, method=method)
        assert out.dtype == dtype and out.shape == (N_NODES, CHANNELS, sh_dim(lmax_out))
        err = relative_error(out.cpu(), _reference(lmax, correlation, lmax_out))
        if not err <= tol:
            failures.append(f"(L={lmax}, K={correlation}, Lout={lmax_out}): {err:.2e}")
    assert not failures, f"{method} disagrees with the naive reference: " + ", ".join(failures)


@pytest.mark.parametrize("method", ["fourier", "grid", "sht", "auto"])
def test_agrees_with_dense_method(method):
    x, weights = _inputs(4, 4, 4, seed=9)
    dense = many_body_product(x, weights, SPECIES, 4, method="dense")
    torch.testing.assert_close(many_body_product(x, weights, SPECIES, 4, method=method), dense, atol=1e-11, rtol=0)


@pytest.mark.parametrize("method", ["dense", "fourier", "grid", "sht", "auto"])
@pytest.mark.parametrize("lmax, correlation, lmax_out", [(1, 1, 2), (2, 3, 4), (3, 2, 1), (4, 4, 3)])
def test_power_projections(method, lmax, correlation, lmax_out):
    x = torch.randn(2, 3, sh_dim(lmax), dtype=torch.float64, generator=torch.Generator().manual_seed(lmax))
    out = power_projections(x, correlation, lmax_out, method=method)
    assert out.shape == (2, 3, correlation, sh_dim(lmax_out))
    torch.testing.assert_close(out, naive_powers(x, correlation, lmax_out), atol=1e-11, rtol=0)


@pytest.mark.parametrize("method", METHODS)
def test_gradcheck(method):
    device = method_device(method)
    x, weights = (t.to(device) for t in _inputs(2, 3, 1, seed=4, n_nodes=2, channels=2, n_species=3))
    species = torch.tensor([0, 2], device=device)  # species 1 unused
    x.requires_grad_()
    weights.requires_grad_()

    def fn(x, weights):
        return many_body_product(x, weights, species, 1, method=method)

    assert torch.autograd.gradcheck(fn, (x, weights))
    assert torch.autograd.gradgradcheck(fn, (x, weights))
    fn(x, weights).sum().backward()
    assert not weights.grad[1].any()  # weights of an absent species get no gradient


@pytest.mark.parametrize("method", ["dense", "fourier", "grid", "sht"])
def test_power_projections_gradcheck(method):
    x = torch.randn(2, sh_dim(2), dtype=torch.float64, requires_grad=True)
    fn = functools.partial(power_projections, correlation=3, lmax_out=2, method=method)
    assert torch.autograd.gradcheck(fn, (x,))
    assert torch.autograd.gradgradcheck(fn, (x,))


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("method", METHODS)
def test_equivariance(method, dtype, o3_element, wigner_D, assert_rel_close):
    lmax, correlation, lmax_out = 2, 3, 3
    device = method_device(method)
    x, weights = (t.to(dtype=dtype, device=device) for t in _inputs(lmax, correlation, lmax_out, seed=6))
    species = SPECIES.to(device)
    D_in, D_out = (wigner_D(l, o3_element, dtype).to(device) for l in (lmax, lmax_out))
    out_of_rotated = many_body_product(x @ D_in.T, weights, species, lmax_out, method=method)
    rotated_out = many_body_product(x, weights, species, lmax_out, method=method) @ D_out.T
    assert_rel_close(out_of_rotated, rotated_out, what=f"{method} equivariance:")


def test_empty_and_single_node():
    x, weights = _inputs(2, 2, 2)
    assert many_body_product(x[:0], weights, SPECIES[:0], 2, method="grid").shape == (0, CHANNELS, sh_dim(2))
    one = many_body_product(x[1:2], weights, SPECIES[1:2], 2, method="grid")
    torch.testing.assert_close(one, many_body_product(x, weights, SPECIES, 2, method="grid")[1:2])


def _bad(x=None, weights=None, species=None, lmax_out=2, method="auto"):
    good_x, good_w = _inputs(1, 2, 2, n_nodes=3, channels=2, n_species=2)
    return (good_x if x is None else x, good_w if weights is None else weights,
            torch.tensor([0, 1, 0]) if species is None else species, lmax_out, method)


BAD_INPUTS = {
    "x not 3d": (lambda: _bad(x=torch.ones(3, 4, dtype=torch.float64)), r"x must be \[nodes, channels"),
    "x not square": (lambda: _bad(x=torch.ones(3, 2, 5, dtype=torch.float64)), r"x has 5 .*square number"),
    "channels": (lambda: _bad(weights=torch.ones(2, 3, 3, 2, dtype=torch.float64)), r"weights must be \[species"),
    "weight degrees": (lambda: _bad(weights=torch.ones(2, 2, 2, 2, dtype=torch.float64)), r"lmax_out\+1"),
    "no correlation": (lambda: _bad(weights=torch.ones(2, 2, 3, 0, dtype=torch.float64)), r"at least 1"),
    "species dtype": (lambda: _bad(species=torch.tensor([0, 1, 0], dtype=torch.int32)), r"species must be int64"),
    "species shape": (lambda: _bad(species=torch.tensor([0, 1])), r"species must be int64 of shape \[3\]"),
    "species range": (lambda: _bad(species=torch.tensor([0, 2, 0])), r"species indices must lie in \[0, 2\)"),
    "negative species": (lambda: _bad(species=torch.tensor([0, -1, 0])), r"species indices must lie in"),
    "mixed dtypes": (lambda: _bad(weights=torch.ones(2, 2, 3, 2)), r"different dtypes"),
    "integer x": (lambda: _bad(x=torch.ones(3, 2, 4, dtype=torch.long)), r"x must be float32 or float64"),
    "unknown method": (lambda: _bad(method="magic"), r"unknown method 'magic'"),
    "negative lmax_out": (lambda: _bad(lmax_out=-1), r"lmax_out must be a non-negative"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input(case):
    make, message = BAD_INPUTS[case]
    with pytest.raises(ValueError, match=message):
        many_body_product(*make())


POWER_BAD_INPUTS = {
    "zero correlation": ((torch.ones(2, 4), 0, 1, "auto"), r"correlation must be a positive integer"),
    "float correlation": ((torch.ones(2, 4), 2.0, 1, "auto"), r"correlation must be a positive integer"),
    "negative lmax_out": ((torch.ones(2, 4), 2, -1, "auto"), r"lmax_out must be a non-negative"),
    "unknown method": ((torch.ones(2, 4), 2, 1, "magic"), r"unknown method 'magic'"),
    "integer x": ((torch.ones(2, 4, dtype=torch.long), 2, 1, "auto"), r"x must be float32 or float64"),
    "x not square": ((torch.ones(2, 3), 2, 1, "auto"), r"x has 3 .*square number"),
}


@pytest.mark.parametrize("case", list(POWER_BAD_INPUTS))
def test_power_projections_bad_input(case):
    args, message = POWER_BAD_INPUTS[case]
    with pytest.raises(ValueError, match=message):
        power_projections(*args)


def test_power_vjp_op_rejects_unknown_method():
    with pytest.raises(ValueError, match="unknown method 'magic'"):
        torch.ops.gaunt_md.power_vjp(torch.ones(2, 4), torch.ones(2, 2, 4), "magic")


def test_high_degree_many_body_avoids_the_dense_route():
    """L = 7, correlation 3: the dense route would need degree-14 Gaunt coefficients (e3nn stops
    at 12).  'auto' must not try it, and asking for it is a clear error."""
    from gaunt_md.ops import many_body_product

    x = torch.randn(3, 2, 64, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(1, 2, 8, 3, dtype=torch.float64)
    species = torch.zeros(3, dtype=torch.long)
    out = many_body_product(x, weights, species, 7, method="auto")
    ref = many_body_product(x, weights, species, 7, method="grid")
    torch.testing.assert_close(out, ref)
    out.sum().backward()
    with pytest.raises(ValueError, match="method='dense' needs Gaunt coefficients of degree 14"):
        many_body_product(x.detach(), weights, species, 7, method="dense")
