"""Route choice (gaunt_md/ops/routes.py): one vocabulary, validated names, the precedence of
set_routes over the environment variables over the defaults, clear errors, and the fallback to
PyTorch when a kernel fails under auto."""
import warnings

import pytest
import torch

import gaunt_md  # noqa: F401  (registers the ops)
from gaunt_md.ops import routes
from gaunt_md.ops.conv import triton_route as conv_triton
from gaunt_md.ops.factor_products import op as factor_products_op

KERNEL_OPS = ["conv", "factor_products"]
VARIABLES = [routes.OPS[op].variable for op in KERNEL_OPS]


@pytest.fixture(autouse=True)
def fresh_routes(monkeypatch):
    monkeypatch.setattr(routes, "_failed", set())
    monkeypatch.setattr(routes, "_set_in_code", {})
    for choice in routes.OPS.values():
        if choice.variable:
            monkeypatch.delenv(choice.variable, raising=False)


def test_the_table():
    assert set(routes.OPS) == {"gaunt", "conv", "factor_products", "interaction"}
    for op, choice in routes.OPS.items():
        assert routes.chosen_route(op) == choice.default
    assert routes.OPS["gaunt"].names == ("auto", "dense", "fourier", "grid", "sht", "triton")
    assert routes.OPS["conv"].names == routes.OPS["factor_products"].names == ("auto", "reference", "torch", "triton")
    assert routes.OPS["interaction"].names == ("fused", "reference")
    doc = routes.__doc__
    for op, choice in routes.OPS.items():  # the documented table names every op, route and variable
        row = next(line for line in doc.splitlines() if line.strip().startswith(op + " "))
        assert choice.variable is None or row.endswith(choice.variable)
        assert all(name in doc for name in choice.names)


@pytest.mark.parametrize("op", KERNEL_OPS)
def test_route_choice(monkeypatch, op):
    variable = routes.OPS[op].variable
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert routes.kernel_route(op, cpu) == "torch"
    monkeypatch.setattr(routes, "triton_usable", lambda device: True)
    assert routes.kernel_route(op, cuda) == "triton"
    assert routes.kernel_route(op, cpu) == "torch"  # auto: CUDA only
    monkeypatch.setenv(variable, "torch")
    assert routes.kernel_route(op, cuda) == "torch"
    monkeypatch.setenv(variable, "reference")
    assert routes.kernel_route(op, cuda) == "reference"
    monkeypatch.setenv(variable, "fast")
    with pytest.raises(ValueError, match=f"{variable}='fast'"):
        routes.kernel_route(op, cpu)
    monkeypatch.setenv(variable, "triton")
    monkeypatch.setattr(routes, "triton_usable", lambda device: False)
    with pytest.raises(RuntimeError, match="needs triton and a CUDA device"):
        routes.kernel_route(op, cpu)


def test_set_in_code_beats_the_environment(monkeypatch):
    monkeypatch.setenv("GAUNT_MD_CONV", "torch")
    monkeypatch.setenv("GAUNT_MD_METHOD", "grid")
    previous = routes.set_routes(conv="reference", gaunt="sht")
    assert previous == {}
    assert routes.chosen_route("conv") == "reference"
    assert routes.gaunt_method("auto") == "sht"
    assert routes.gaunt_method("dense") == "dense"  # a method named in the call is the route
    routes.set_routes(conv=None, gaunt=None)
    assert routes.chosen_route("conv") == "torch"
    assert routes.gaunt_method("auto") == "grid"


def test_bad_choices_are_refused_with_the_names():
    with pytest.raises(ValueError, match="route conv='fast': choose one of auto, reference, torch, triton"):
        routes.set_routes(conv="fast")
    with pytest.raises(ValueError, match="'convolution' is not a process-wide route; choose one of gaunt, conv"):
        routes.set_routes(convolution="torch")
    with pytest.raises(ValueError, match="per model"):
        routes.set_routes(interaction="reference")
    with pytest.raises(ValueError, match="route interaction='dense'"):
        routes.check_routes({"interaction": "dense"})
    assert routes.chosen_route("conv") == "auto"  # nothing set by a refused call


def test_gaunt_method_variable_is_validated(monkeypatch):
    monkeypatch.setenv("GAUNT_MD_METHOD", "magic")
    with pytest.raises(ValueError, match="GAUNT_MD_METHOD='magic': choose one of auto, dense"):
        gaunt_md.ops.gaunt_product(torch.ones(2, 4, dtype=torch.float64), torch.ones(2, 4, dtype=torch.float64), 1)


def _broken(*args):
    raise RuntimeError("no kernel for this GPU")


def test_failing_kernel_under_auto_warns_once_and_falls_back(monkeypatch):
    monkeypatch.setattr(routes, "triton_usable", lambda device: True)
    with pytest.warns(RuntimeWarning, match="no kernel for this GPU.*PyTorch route from now on"):
        assert routes.call_kernel("conv", _broken, lambda: "torch result") == "torch result"
    assert routes.kernel_route("conv", torch.device("cuda")) == "torch"
    assert routes.kernel_route("factor_products", torch.device("cuda")) == "triton"  # others keep theirs


def test_failing_kernel_under_explicit_triton_raises(monkeypatch):
    monkeypatch.setenv("GAUNT_MD_CONV", "triton")
    with pytest.raises(RuntimeError, match="no kernel for this GPU"):
        routes.call_kernel("conv", _broken, lambda: None)


class _BrokenKernels:
    def __getattr__(self, name):
        return _broken


def _interaction_and_factor_products():
    from gaunt_md.so3.quadrature import analysis_matrix, synthesis_matrix
    from tests.ops.test_conv import graph, inputs, interaction

    module = interaction(1, 2, 1)
    x, sh, radial = inputs(module, 1, 2)
    factors = torch.randn(5, 3, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    synthesis, analysis = synthesis_matrix(1, 3).double(), analysis_matrix(1, 3).double()

    def run():
        xg, fg = x.clone().requires_grad_(True), factors.clone().requires_grad_(True)
        out = module(xg, sh, radial, graph()).square().sum()
        out = out + torch.ops.gaunt_md.factor_products(fg, synthesis, analysis, 2, 2).square().sum()
        return [out.detach()] + list(torch.autograd.grad(out, [xg, fg]))

    return run


def test_ops_fall_back_to_their_pytorch_route(monkeypatch):
    """Both ops, forward and backward, with kernels that fail: the PyTorch route's numbers."""
    run = _interaction_and_factor_products()
    expected = run()
    monkeypatch.setattr(conv_triton, "_kernels", lambda: _BrokenKernels())
    monkeypatch.setattr(factor_products_op, "_kernels", lambda: _BrokenKernels())
    monkeypatch.setattr(routes, "kernel_route", lambda op, device: "triton")  # even on CPU
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = run()
    assert {str(w.message).split(":")[0] for w in caught} == set(VARIABLES)
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("route", ["reference", "torch"])
def test_every_cpu_route_gives_the_same_numbers(route):
    run = _interaction_and_factor_products()
    expected = run()
    routes.set_routes(conv=route, factor_products=route)
    for a, b in zip(run(), expected):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_model_config_checks_its_gaunt_method():
    from gaunt_md.nn import ModelConfig
    with pytest.raises(ValueError, match="gaunt_method='magic': choose one of auto, dense"):
        ModelConfig(atomic_numbers=[1], gaunt_method="magic").validate()
