"""Route choice of the ops with Triton kernels (gaunt_md/ops/routes.py): the environment
variables, clear errors, and the fallback to PyTorch when a kernel fails under auto."""
import warnings

import pytest
import torch

import gaunt_md  # noqa: F401  (registers the ops)
from gaunt_md.ops import conv, factor_products, routes

VARIABLES = [conv.ROUTE_VARIABLE, factor_products.ROUTE_VARIABLE]


@pytest.fixture(autouse=True)
def fresh_failures(monkeypatch):
    monkeypatch.setattr(routes, "_failed", set())
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)


@pytest.mark.parametrize("variable", VARIABLES)
def test_route_choice(monkeypatch, variable):
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert routes.kernel_route(variable, cpu) == "torch"
    monkeypatch.setattr(routes, "triton_usable", lambda device: True)
    assert routes.kernel_route(variable, cuda) == "triton"
    assert routes.kernel_route(variable, cpu) == "torch"  # auto: CUDA only
    monkeypatch.setenv(variable, "torch")
    assert routes.kernel_route(variable, cuda) == "torch"
    monkeypatch.setenv(variable, "fast")
    with pytest.raises(ValueError, match=f"{variable}='fast'"):
        routes.kernel_route(variable, cpu)
    monkeypatch.setenv(variable, "triton")
    monkeypatch.setattr(routes, "triton_usable", lambda device: False)
    with pytest.raises(RuntimeError, match="needs triton and a CUDA device"):
        routes.kernel_route(variable, cpu)


def _broken(*args):
    raise RuntimeError("no kernel for this GPU")


def test_failing_kernel_under_auto_warns_once_and_falls_back(monkeypatch):
    monkeypatch.setattr(routes, "triton_usable", lambda device: True)
    variable = conv.ROUTE_VARIABLE
    with pytest.warns(RuntimeWarning, match="no kernel for this GPU.*PyTorch route from now on"):
        assert routes.call_kernel(variable, _broken, lambda: "torch result") == "torch result"
    assert routes.kernel_route(variable, torch.device("cuda")) == "torch"
    assert routes.kernel_route(factor_products.ROUTE_VARIABLE, torch.device("cuda")) == "triton"  # others keep theirs


def test_failing_kernel_under_explicit_triton_raises(monkeypatch):
    monkeypatch.setenv(conv.ROUTE_VARIABLE, "triton")
    with pytest.raises(RuntimeError, match="no kernel for this GPU"):
        routes.call_kernel(conv.ROUTE_VARIABLE, _broken, lambda: None)


class _BrokenKernels:
    def __getattr__(self, name):
        return _broken


def test_ops_fall_back_to_their_pytorch_route(monkeypatch):
    """Both ops, forward and backward, with kernels that fail: the PyTorch route's numbers."""
    from gaunt_md.so3.quadrature import analysis_matrix, synthesis_matrix
    from tests.ops.test_conv import graph, inputs, interaction

    module = interaction(1, 2, 1)
    x, sh, radial = inputs(module, 1, 2)
    factors = torch.randn(5, 3, 4, 4, dtype=torch.float64)
    synthesis, analysis = synthesis_matrix(1, 3).double(), analysis_matrix(1, 3).double()

    def run():
        xg, fg = x.clone().requires_grad_(True), factors.clone().requires_grad_(True)
        out = module(xg, sh, radial, graph()).square().sum()
        out = out + torch.ops.gaunt_md.factor_products(fg, synthesis, analysis, 2, 2).square().sum()
        return [out.detach()] + list(torch.autograd.grad(out, [xg, fg]))

    expected = run()
    for module_ in (conv, factor_products):
        monkeypatch.setattr(module_, "_triton", lambda: _BrokenKernels())
    monkeypatch.setattr(routes, "triton_usable", lambda device: True)
    monkeypatch.setattr(routes, "kernel_route", lambda variable, device: "triton")  # even on CPU
    for module_ in (conv, factor_products):
        monkeypatch.setattr(module_, "kernel_route", routes.kernel_route)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = run()
    assert {str(w.message).split(":")[0] for w in caught} == set(VARIABLES)
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
