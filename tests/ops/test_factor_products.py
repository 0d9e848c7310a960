"""torch.ops.gaunt_md.factor_products: chunking changes nothing, first and second derivatives
against finite differences, the custom-op contract, clear errors.  (That the products are the
Gaunt products is tested through the factor basis in tests/nn/test_factor_product.py.)"""
import pytest
import torch

import gaunt_md  # noqa: F401  (registers the ops)
from gaunt_md.ops.factor_products import products_reference
from gaunt_md.so3.quadrature import analysis_matrix, synthesis_matrix


def _inputs(n=7, channels=3, lmax_in=2, lmax_out=1, correlation=3, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    num_factors = correlation * (correlation + 1) // 2
    factors = torch.randn(n, num_factors, channels, (lmax_in + 1) ** 2, generator=g, dtype=dtype)
    degree = correlation * lmax_in + lmax_out
    synthesis = synthesis_matrix(lmax_in, degree).to(dtype)
    analysis = analysis_matrix(lmax_out, degree).to(dtype)
    return factors, synthesis, analysis, correlation


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("chunk", [1, 3, 7, 100])
def test_chunks_give_the_whole_result(chunk, dtype):
    factors, synthesis, analysis, correlation = _inputs(dtype=dtype)
    out = torch.ops.gaunt_md.factor_products(factors, synthesis, analysis, correlation, chunk)
    expected = products_reference(factors, synthesis, analysis, correlation)
    assert out.shape == (7, correlation, 3, 4) and out.dtype == dtype
    tol = 1e-13 if dtype == torch.float64 else 1e-5  # BLAS may sum in another order per batch size
    torch.testing.assert_close(out, expected, rtol=tol, atol=tol * expected.abs().max())


@pytest.mark.parametrize("chunk", [2, 100])
def test_first_and_second_derivatives(chunk):
    factors, synthesis, analysis, correlation = _inputs(n=5, channels=2, lmax_in=1, correlation=3)
    factors.requires_grad_(True)

    def f(x):
        return torch.ops.gaunt_md.factor_products(x, synthesis, analysis, correlation, chunk)

    assert torch.autograd.gradcheck(f, (factors,))
    assert torch.autograd.gradgradcheck(f, (factors,))


def test_backward_matches_autograd_of_the_reference():
    factors, synthesis, analysis, correlation = _inputs(n=6, correlation=4, lmax_in=1, lmax_out=2)
    grad = torch.randn(6, 4, 3, 9, dtype=torch.float64)
    x = factors.clone().requires_grad_(True)
    (torch.ops.gaunt_md.factor_products(x, synthesis, analysis, correlation, 4) * grad).sum().backward()
    y = factors.clone().requires_grad_(True)
    (products_reference(y, synthesis, analysis, correlation) * grad).sum().backward()
    torch.testing.assert_close(x.grad, y.grad, rtol=1e-12, atol=1e-12)


def test_custom_op_contract():
    factors, synthesis, analysis, correlation = _inputs(n=4, channels=2, lmax_in=1)
    torch.library.opcheck(torch.ops.gaunt_md.factor_products.default,
                          (factors.requires_grad_(True), synthesis, analysis, correlation, 3))


def test_no_nodes():
    factors, synthesis, analysis, correlation = _inputs(n=0)
    factors.requires_grad_(True)
    out = torch.ops.gaunt_md.factor_products(factors, synthesis, analysis, correlation, 4)
    assert out.shape == (0, correlation, 3, 4)
    out.sum().backward()
    assert factors.grad.shape == factors.shape


def test_bad_inputs_are_clear_errors():
    factors, synthesis, analysis, correlation = _inputs()
    op = torch.ops.gaunt_md.factor_products
    with pytest.raises(ValueError, match=r"factors must be \[N, 3, C, D\] for correlation 2"):
        op(factors, synthesis, analysis, 2, 4)
    with pytest.raises(ValueError, match="synthesis must be"):
        op(factors, synthesis[:4], analysis, correlation, 4)
    with pytest.raises(ValueError, match="analysis must be"):
        op(factors, synthesis, analysis[:5], correlation, 4)
    with pytest.raises(ValueError, match="synthesis must have the factors' dtype"):
        op(factors, synthesis.float(), analysis, correlation, 4)
    with pytest.raises(ValueError, match="chunk must be a positive integer"):
        op(factors, synthesis, analysis, correlation, 0)


def test_cuda_chunks_are_large_cpu_chunks_as_given():
    from gaunt_md.ops.factor_products import CUDA_CHUNK_GRID_VALUES, device_chunk
    assert device_chunk(10, torch.device("cpu"), 6 * 64 * 72) == 10
    assert device_chunk(10, torch.device("cuda"), 6 * 64 * 72) == CUDA_CHUNK_GRID_VALUES // (6 * 64 * 72)
    assert device_chunk(10, torch.device("cuda"), CUDA_CHUNK_GRID_VALUES * 2) == 10
