"""The Triton routes compiled for a GPU against the PyTorch routes on the same GPU: the
interaction (gaunt_md::conv), the factor products and a whole scripted factor-basis model.
Skipped without CUDA and triton (the same checks run in Triton's interpreter on CPU in
test_triton_kernels.py); benchmarks/gpu_suite.sh runs this file before timing anything."""
import pytest
import torch

import gaunt_md  # noqa: F401  (registers the ops)
from gaunt_md.ops.routes import OPS, triton_usable
from tests.helpers import relative_error as rel_err

CONV, FACTOR_PRODUCTS = OPS["conv"].variable, OPS["factor_products"].variable

CUDA = torch.device("cuda")
pytestmark = pytest.mark.skipif(not (torch.cuda.is_available() and triton_usable(CUDA)),
                                reason="needs CUDA and triton")
DTYPES = [torch.float64, torch.float32]
TOLERANCE = {torch.float64: 1e-10, torch.float32: 1e-4}  # float32: atomic adds sum in any order


def _on_both_routes(monkeypatch, variables, run):
    results = {}
    for route in ("torch", "triton"):
        for variable in variables:
            monkeypatch.setenv(variable, route)
        results[route] = run()
    return results["torch"], results["triton"]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("degrees", [(0, 3, 3), (1, 3, 3), (2, 2, 1)], ids=str)
def test_conv_routes_agree(monkeypatch, degrees, dtype):
    from tests.ops.test_conv import graph, inputs, interaction
    module = interaction(*degrees, hidden=(8, 8), dtype=dtype, channels=16).to(CUDA)
    x, sh, radial = (t.to(CUDA) for t in inputs(module, degrees[0], degrees[1], n_edges=500, dtype=dtype))
    edge_index = graph(n_edges=500).to(CUDA)

    def run():
        leaves = [t.clone().requires_grad_(True) for t in (x, sh, radial)]
        out = module(*leaves, edge_index)
        return [out] + list(torch.autograd.grad(out.square().sum(), leaves + list(module.parameters())))

    reference, triton = _on_both_routes(monkeypatch, [CONV], run)
    for a, b in zip(triton, reference):
        assert rel_err(a, b) < TOLERANCE[dtype]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_factor_products_routes_agree(monkeypatch, dtype):
    from gaunt_md.so3.quadrature import analysis_matrix, synthesis_matrix
    synthesis = synthesis_matrix(3, 10).to(CUDA, dtype)
    analysis = analysis_matrix(1, 10).to(CUDA, dtype)
    factors = torch.randn(300, 6, 64, 16, dtype=dtype, device=CUDA)

    def run():
        x = factors.clone().requires_grad_(True)
        out = torch.ops.gaunt_md.factor_products(x, synthesis, analysis, 3, 10)
        return [out] + list(torch.autograd.grad(out.square().sum(), [x]))

    reference, triton = _on_both_routes(monkeypatch, [FACTOR_PRODUCTS], run)
    for a, b in zip(triton, reference):
        assert rel_err(a, b) < TOLERANCE[dtype]


def test_scripted_model_routes_agree(monkeypatch):
    from gaunt_md.nn import GauntMACE, ModelConfig
    from tests.fixtures import TINY, predict, random_periodic

    torch.manual_seed(3)
    model = GauntMACE(ModelConfig(**{**TINY, "product_basis": "factors"})).double().eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.2 * torch.randn_like(parameter))
    scripted = torch.jit.script(model.to(CUDA))
    atoms = random_periodic(4, n=6)

    def run():
        return predict(scripted, atoms, "float64", stress=True, device=CUDA)

    reference, triton = _on_both_routes(monkeypatch, [CONV, FACTOR_PRODUCTS], run)
    for key in ("energy", "forces", "stress"):
        assert rel_err(torch.as_tensor(triton[key]), torch.as_tensor(reference[key])) < 1e-10, key
