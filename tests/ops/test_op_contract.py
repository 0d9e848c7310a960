"""The contract every gaunt_md op keeps on every route (gaunt_md/ops/routes.py): torch.library's
opcheck, gradcheck and gradgradcheck (all ops support double backward: training on forces),
a TorchScript save/load round trip, empty inputs, float32 against float64, and O(3)
equivariance.  The numbers themselves are checked against independent references in the
per-op files (test_gaunt_product.py, test_many_body.py, test_conv.py, test_factor_products.py).

Triton routes run here where a CUDA device is (their CPU interpreter checks are in
test_triton_kernels.py)."""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Callable, List, Sequence

import pytest
import torch
from torch import Tensor

import gaunt_md.ops  # noqa: F401  (registers the ops)
from gaunt_md.ops import routes
from gaunt_md.so3.quadrature import analysis_matrix, synthesis_matrix
from tests.helpers import block_wigner_D, random_rotation, relative_error
from tests.ops.test_conv import interaction, op_args

CUDA = torch.cuda.is_available() and routes.triton_usable(torch.device("cuda"))
GAUNT_METHODS = ["dense", "fourier", "grid", "sht", "auto", "triton"]
KERNEL_ROUTES = ["reference", "torch", "auto", "triton"]


@dataclass
class OpCase:
    """One op on one route: differentiable inputs, the call, and how O(3) acts on both."""
    op: torch._ops.OpOverload
    tensors: List[Tensor]                       # the differentiable inputs, float64
    args: Callable[..., tuple]                  # tensors -> the op's full argument tuple
    rotate: Callable[[Tensor, List[Tensor]], List[Tensor]]  # (R, tensors) -> transformed tensors
    rotate_out: Callable[[Tensor, Tensor], Tensor]          # (R, output) -> transformed output
    script: Callable[[], torch.nn.Module]       # a module that calls the op (TorchScript)

    def __call__(self, *tensors: Tensor) -> Tensor:
        return self.op(*self.args(*tensors))


def _randn(*shape: int, seed: int = 0) -> Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _last(x: Tensor, D: Tensor) -> Tensor:
    """D acting on the last dimension."""
    return x @ D.T.to(x.dtype)


def _dim1(x: Tensor, D: Tensor) -> Tensor:
    """D acting on dimension 1 (the conv op's channel-last layout)."""
    return torch.einsum("ij,njc->nic", D.to(x.dtype), x)


class GauntProduct(torch.nn.Module):
    def __init__(self, method: str):
        super().__init__()
        self.method = method

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return torch.ops.gaunt_md.gaunt_product(x, y, 2, self.method)


class ManyBody(torch.nn.Module):
    def __init__(self, species: Tensor, method: str):
        super().__init__()
        self.register_buffer("species", species)
        self.method = method

    def forward(self, x: Tensor, weights: Tensor) -> Tensor:
        return torch.ops.gaunt_md.many_body(x, weights, self.species, 2, self.method)


class PowerProjections(torch.nn.Module):
    def __init__(self, method: str):
        super().__init__()
        self.method = method

    def forward(self, x: Tensor) -> Tensor:
        return torch.ops.gaunt_md.power_projections(x, 3, 2, self.method)


class PowerVJP(torch.nn.Module):
    def __init__(self, method: str):
        super().__init__()
        self.method = method

    def forward(self, x: Tensor, coeffs: Tensor) -> Tensor:
        return torch.ops.gaunt_md.power_vjp(x, coeffs, self.method)


class Conv(torch.nn.Module):
    def __init__(self, coupling: Tensor, receivers: Tensor, senders: Tensor, groups: List[int]):
        super().__init__()
        self.register_buffer("coupling", coupling)
        self.register_buffer("receivers", receivers)
        self.register_buffer("senders", senders)
        self.groups = groups

    def forward(self, x: Tensor, radial: Tensor, sh: Tensor, w0: Tensor, w1: Tensor) -> Tensor:
        return torch.ops.gaunt_md.conv(x, radial, sh, [w0, w1], self.coupling, self.receivers, self.senders,
                                       self.groups, 4)


class FactorProducts(torch.nn.Module):
    def __init__(self, synthesis: Tensor, analysis: Tensor):
        super().__init__()
        self.register_buffer("synthesis", synthesis)
        self.register_buffer("analysis", analysis)

    def forward(self, factors: Tensor) -> Tensor:
        return torch.ops.gaunt_md.factor_products(factors, self.synthesis, self.analysis, 3, 2)


def gaunt_product(method: str, rows: int) -> OpCase:
    return OpCase(
        torch.ops.gaunt_md.gaunt_product.default, [_randn(rows, 9), _randn(rows, 4, seed=1)],
        lambda x, y: (x, y, 2, method),
        lambda R, t: [_last(t[0], block_wigner_D(2, R)), _last(t[1], block_wigner_D(1, R))],
        lambda R, out: _last(out, block_wigner_D(2, R)),
        lambda: GauntProduct(method))


def many_body(method: str, rows: int) -> OpCase:
    species = torch.arange(rows) % 2
    return OpCase(
        torch.ops.gaunt_md.many_body.default, [_randn(rows, 2, 4), _randn(2, 2, 3, 3, seed=1)],
        lambda x, w: (x, w, species, 2, method),
        lambda R, t: [_last(t[0], block_wigner_D(1, R)), t[1]],
        lambda R, out: _last(out, block_wigner_D(2, R)),
        lambda: ManyBody(species, method))


def power_projections(method: str, rows: int) -> OpCase:
    return OpCase(
        torch.ops.gaunt_md.power_projections.default, [_randn(rows, 4)],
        lambda x: (x, 3, 2, method),
        lambda R, t: [_last(t[0], block_wigner_D(1, R))],
        lambda R, out: _last(out, block_wigner_D(2, R)),
        lambda: PowerProjections(method))


def power_vjp(method: str, rows: int) -> OpCase:
    return OpCase(
        torch.ops.gaunt_md.power_vjp.default, [_randn(rows, 4), _randn(rows, 3, 9, seed=1)],
        lambda x, c: (x, c, method),
        lambda R, t: [_last(t[0], block_wigner_D(1, R)), _last(t[1], block_wigner_D(2, R))],
        lambda R, out: _last(out, block_wigner_D(1, R)),
        lambda: PowerVJP(method))


def conv(route: str, edges: int) -> OpCase:
    module = interaction(1, 2, 2, hidden=(3,), channels=2)
    gen = torch.Generator().manual_seed(2)
    edge_index = torch.randint(0, 4, (2, edges), generator=gen)
    x = _randn(4, 4, 2)  # [N, Din, C], channel-last
    (x, radial, sh, weights, coupling, receivers, senders, groups) = op_args(
        module, x.transpose(1, 2), _randn(edges, 5, seed=3), _randn(edges, 9, seed=4), edge_index)
    weights = [w.detach().clone() for w in weights]
    return OpCase(
        torch.ops.gaunt_md.conv.default, [x, radial, sh] + weights,
        lambda x, r, s, *ws: (x, r, s, list(ws), coupling, receivers, senders, groups, 4),
        lambda R, t: [_dim1(t[0], block_wigner_D(1, R)), t[1], _last(t[2], block_wigner_D(2, R))] + t[3:],
        lambda R, out: _dim1(out, block_wigner_D(2, R)),
        lambda: Conv(coupling, receivers, senders, groups))


def factor_products(route: str, rows: int) -> OpCase:
    synthesis, analysis = synthesis_matrix(1, 5).double(), analysis_matrix(2, 5).double()
    return OpCase(
        torch.ops.gaunt_md.factor_products.default, [_randn(rows, 6, 2, 4)],
        lambda f: (f, synthesis, analysis, 3, 2),
        lambda R, t: [_last(t[0], block_wigner_D(1, R))],
        lambda R, out: _last(out, block_wigner_D(2, R)),
        lambda: FactorProducts(synthesis, analysis))


def _case(build, route):
    marks = pytest.mark.skipif(route == "triton" and not CUDA, reason="needs CUDA and triton")
    return pytest.param((build, route), id=f"{build.__name__}-{route}", marks=marks)


GAUNT_OPS = (gaunt_product, many_body, power_projections, power_vjp)
KERNEL_OPS = (conv, factor_products)
CASES = [_case(build, route) for build in GAUNT_OPS for route in GAUNT_METHODS]
CASES += [_case(build, route) for build in KERNEL_OPS for route in KERNEL_ROUTES]


@pytest.fixture(params=CASES)
def case(request, monkeypatch):
    """(build, route, device) with the route in force: the method argument for the Gaunt
    products, the process-wide route (routes.set_routes) for conv and factor_products."""
    build, route = request.param
    monkeypatch.setattr(routes, "_set_in_code", {})
    if build in KERNEL_OPS:
        routes.set_routes({build.__name__: route})
    device = torch.device("cuda" if route == "triton" else "cpu")
    return build, route, device


def _on(tensors: Sequence[Tensor], device, dtype=torch.float64, grad: bool = False) -> List[Tensor]:
    return [t.detach().to(device=device, dtype=dtype).requires_grad_(grad) for t in tensors]


def _moved(c: OpCase, device) -> OpCase:
    """The case with its constant tensors (inside args) on the device."""
    args = c.args

    def moved_args(*tensors):
        return tuple(a.to(device) if isinstance(a, Tensor) else a for a in args(*tensors))
    return OpCase(c.op, c.tensors, moved_args, c.rotate, c.rotate_out, c.script)


def _with_dtype(c: OpCase, dtype) -> OpCase:
    args = c.args

    def cast_args(*tensors):
        return tuple(a.to(dtype) if isinstance(a, Tensor) and a.is_floating_point() else a for a in args(*tensors))
    return OpCase(c.op, c.tensors, cast_args, c.rotate, c.rotate_out, c.script)


# The Gaunt-product backwards read cached constant tensors (gaunt/constants.py), which AOT
# tracing with fake tensors refuses: known, not yet fixed (test_aot_dispatch_of_gaunt_products).
OPCHECK_ALL = ("test_schema", "test_autograd_registration", "test_faketensor", "test_aot_dispatch_dynamic")
OPCHECK_GAUNT = OPCHECK_ALL[:3]


def test_opcheck(case):
    build, route, device = case
    c = _moved(build(route, 3), device)
    tensors = _on(c.tensors, device, grad=True)
    torch.library.opcheck(c.op, c.args(*tensors), test_utils=OPCHECK_GAUNT if build in GAUNT_OPS else OPCHECK_ALL)


@pytest.mark.xfail(strict=True, reason="the backward reads cached constants that AOT tracing cannot fake")
@pytest.mark.parametrize("build", [many_body, power_vjp], ids=lambda b: b.__name__)
def test_aot_dispatch_of_gaunt_products(build):
    c = build("grid", 3)
    tensors = _on(c.tensors, "cpu", grad=True)
    torch.library.opcheck(c.op, c.args(*tensors), test_utils="test_aot_dispatch_dynamic")


def test_gradcheck_and_gradgradcheck(case):
    build, route, device = case
    c = _moved(build(route, 2), device)
    tensors = _on(c.tensors, device, grad=True)
    torch.autograd.gradcheck(c, tensors)
    torch.autograd.gradgradcheck(c, tensors)


def test_torchscript_round_trip(case):
    build, route, device = case
    c = _moved(build(route, 3), device)
    tensors = _on(c.tensors, device)
    scripted = torch.jit.script(c.script().to(device))
    buffer = io.BytesIO()
    torch.jit.save(scripted, buffer)
    buffer.seek(0)
    loaded = torch.jit.load(buffer, map_location=device)
    torch.testing.assert_close(loaded(*tensors), c(*tensors), rtol=1e-12, atol=1e-12)


def test_empty_input(case):
    """No rows / nodes / edges: the output has its shape (zeros where it sums), and the
    backward runs."""
    build, route, device = case
    c = _moved(build(route, 0), device)
    tensors = _on(c.tensors, device, grad=True)
    out = c(*tensors)
    assert out.shape == c.op(*c.args(*[t.detach() for t in tensors])).shape
    assert not out.detach().abs().sum()
    grads = torch.autograd.grad(out.sum(), tensors, allow_unused=True)
    for g, t in zip(grads, tensors):
        assert g is None or g.shape == t.shape


def test_float32_agrees_with_float64(case):
    build, route, device = case
    c = _moved(build(route, 5), device)
    out64 = c(*_on(c.tensors, device))
    out32 = _with_dtype(c, torch.float32)(*_on(c.tensors, device, torch.float32))
    assert out32.dtype == torch.float32
    assert relative_error(out32, out64) < 1e-5


@pytest.mark.parametrize("improper", [False, True], ids=["rotation", "rotoreflection"])
def test_equivariance(case, improper):
    build, route, device = case
    c = _moved(build(route, 5), device)
    R = random_rotation(7) * (-1.0 if improper else 1.0)
    tensors = _on(c.tensors, device)
    rotated_in = c(*[t.to(device) for t in c.rotate(R, [t.cpu() for t in tensors])])
    rotated_out = c.rotate_out(R, c(*tensors).cpu()).to(device)
    assert relative_error(rotated_in, rotated_out) < 1e-10


def test_every_op_and_route_is_covered():
    """The cases above name every registered gaunt_md op and every route of routes.OPS."""
    registered = {"gaunt_product", "many_body", "power_projections", "power_vjp", "conv", "factor_products"}
    assert {case.values[0][0].__name__ for case in CASES} == registered
    assert set(GAUNT_METHODS) == set(routes.OPS["gaunt"].names)
    assert set(KERNEL_ROUTES) == set(routes.OPS["conv"].names) == set(routes.OPS["factor_products"].names)
