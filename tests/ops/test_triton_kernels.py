"""Triton grid-route kernels against the plain torch expressions.

Triton picks interpreted or compiled kernels when @triton.jit runs, i.e. when a kernel file
(gaunt_md/ops/*/triton_kernels.py) is first imported, and other tests of the suite may import
one first.  So the numerical checks run this file as a script in a fresh interpreter with
TRITON_INTERPRET=1 (one subprocess for all cases, its results shared by the parametrized
tests below).  Input validation, the CPU fallback error and an offline sm90 compile run in
process.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.helpers import relative_error

ROOT = Path(__file__).resolve().parents[2]

# (L1, L2, Lout) for the product; (L, Lout, K) for many_body and its VJP.
PRODUCT_CASES = [(1, 1, 0), (1, 2, 2), (2, 3, 3), (3, 3, 1)]
MANY_BODY_CASES = [(1, 0, 1), (2, 2, 2), (3, 3, 3), (1, 3, 5)]
# (L, Lout, K) for the factor products and their VJP (K = correlation, K(K+1)/2 factors)
FACTOR_CASES = [(1, 0, 1), (1, 1, 2), (1, 2, 3), (2, 1, 4)]
# (Lin, Ledge, Lout) of the interaction (gaunt_md::conv)
CONV_CASES = [(0, 3, 3), (1, 3, 3), (1, 2, 0), (2, 2, 2), (3, 2, 3)]
DTYPES = ["float64", "float32"]
TOLERANCE = {"float64": 1e-10, "float32": 1e-5}


def _run_cases() -> dict:
    """All kernel checks (needs TRITON_INTERPRET=1 before the kernels are imported)."""
    from gaunt_md.ops import triton_support
    from gaunt_md.ops.factor_products import products_reference, products_vjp
    from gaunt_md.ops.factor_products import triton_kernels as tfp
    from gaunt_md.ops.gaunt import triton_kernels as tk
    from gaunt_md.so3 import analysis_matrix, degree_of_index, synthesis_matrix

    gen = torch.Generator().manual_seed(0)
    results = {"usable_cpu": triton_support.triton_usable(torch.device("cpu"))}
    for name in DTYPES:
        dtype = getattr(torch, name)
        for l1, l2, lout in PRODUCT_CASES:
            degree = l1 + l2 + lout
            S1, S2 = synthesis_matrix(l1, degree), synthesis_matrix(l2, degree)
            A = analysis_matrix(lout, degree)
            x = torch.randn(37, S1.shape[0], generator=gen, dtype=torch.float64)
            y = torch.randn(37, S2.shape[0], generator=gen, dtype=torch.float64)
            ref = ((x @ S1) * (y @ S2)) @ A
            out = tk.gaunt_product_triton(*(t.to(dtype) for t in (x, y, S1, S2, A)))
            results[f"product-{l1}-{l2}-{lout}-{name}"] = relative_error(out, ref)

        for lmax, lout, K in MANY_BODY_CASES:
            degree = K * lmax + lout
            S, A = synthesis_matrix(lmax, degree), analysis_matrix(lout, degree)
            S_out, A_in = synthesis_matrix(lout, degree), analysis_matrix(lmax, degree)
            N, C, n_species = 7, 5, 3
            x = torch.randn(N, C, S.shape[0], generator=gen, dtype=torch.float64)
            weights = torch.randn(n_species, C, lout + 1, K, generator=gen, dtype=torch.float64)
            species = torch.randint(0, n_species, (N,), generator=gen)
            degree_out = degree_of_index(lout)
            coeffs = torch.randn(N, C, K, A.shape[1], generator=gen, dtype=torch.float64)
            f = x @ S

            projections = torch.stack([(f ** nu) @ A for nu in range(1, K + 1)], dim=-1)
            ref = (projections * weights[species][:, :, degree_out, :]).sum(-1)
            out = tk.many_body_triton(*(t.to(dtype) for t in (x, weights)), species,
                                      S.to(dtype), A.to(dtype), degree_out)
            results[f"many_body-{lmax}-{lout}-{K}-{name}"] = relative_error(out, ref)

            q = coeffs @ S_out
            ref = sum(nu * f ** (nu - 1) * q[:, :, nu - 1] for nu in range(1, K + 1)) @ A_in
            out = tk.many_body_vjp_triton(*(t.to(dtype) for t in (x, coeffs, S, S_out, A_in)))
            results[f"vjp-{lmax}-{lout}-{K}-{name}"] = relative_error(out, ref)

        for lmax, lout, K in FACTOR_CASES:
            degree = K * lmax + lout
            S, A = synthesis_matrix(lmax, degree), analysis_matrix(lout, degree)
            x = torch.randn(11, K * (K + 1) // 2, 3, S.shape[0], generator=gen, dtype=torch.float64)
            grad = torch.randn(11, K, 3, A.shape[1], generator=gen, dtype=torch.float64)
            ref = products_reference(x, S, A, K)
            ref_vjp = products_vjp(x, grad, S, A, K, 4)
            cast = [t.to(dtype) for t in (x, grad, S, A)]
            out = tfp.factor_products_triton(cast[0], cast[2], cast[3], K)
            results[f"factors-{lmax}-{lout}-{K}-{name}"] = relative_error(out, ref)
            out = tfp.factor_products_vjp_triton(*cast, K)
            results[f"factors_vjp-{lmax}-{lout}-{K}-{name}"] = relative_error(out, ref_vjp)

    S, A = synthesis_matrix(1, 3), analysis_matrix(1, 3)
    empty = tk.gaunt_product_triton(torch.zeros(0, 4), torch.zeros(0, 4), S.float(), S.float(), A.float())
    results["empty_shape"] = list(empty.shape)

    # the custom ops' method="triton" route (gaunt_md/ops/gaunt/ops.py) against method="grid"
    import gaunt_md.ops as ops
    x = torch.randn(4, 3, 9, generator=gen, dtype=torch.float64)
    y = torch.randn(4, 3, 4, generator=gen, dtype=torch.float64)
    weights = torch.randn(2, 3, 3, 3, generator=gen, dtype=torch.float64)
    species = torch.tensor([0, 1, 1, 0])
    coeffs = torch.randn(4, 3, 3, 9, generator=gen, dtype=torch.float64)
    calls = {
        "product": lambda m: ops.gaunt_product(x, y, 2, method=m),
        "many_body": lambda m: ops.many_body_product(x, weights, species, 2, method=m),
        "vjp": lambda m: torch.ops.gaunt_md.power_vjp(x, coeffs, m),
    }
    for name, call in calls.items():
        results[f"library-{name}"] = relative_error(call("triton"), call("grid"))
    results.update(_factor_products_op_routes(gen))
    results.update(_conv_triton_route())
    results.update(_model_triton_routes())
    return results


MODEL_VARIANTS = {"factors": {"product_basis": "factors"},
                  "separate_paths_rank2": {"product_basis": "factors", "separate_paths": True, "product_rank": 2}}


def _model_triton_routes() -> dict:
    """Small factor-basis Gaunt-MACEs (the default options, and separate interaction paths with
    a rank-2 product), scripted, on a periodic structure: energy, forces and stress with every op
    on its Triton route against the PyTorch routes."""
    from gaunt_md.nn import GauntMACE, ModelConfig
    from tests.fixtures import TINY, predict, random_periodic

    results = {}
    for variant, options in MODEL_VARIANTS.items():
        torch.manual_seed(3)
        model = GauntMACE(ModelConfig(**{**TINY, **options})).double().eval()
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.add_(0.2 * torch.randn_like(parameter))
        scripted = torch.jit.script(model)
        atoms = random_periodic(4, n=6)
        by_route = {}
        for route in ("torch", "triton"):
            os.environ["GAUNT_MD_CONV"] = os.environ["GAUNT_MD_FACTOR_PRODUCTS"] = route
            by_route[route] = predict(scripted, atoms, "float64", stress=True)
        del os.environ["GAUNT_MD_CONV"], os.environ["GAUNT_MD_FACTOR_PRODUCTS"]
        results.update({f"model-{variant}-{key}": relative_error(torch.as_tensor(by_route["triton"][key]),
                                                                 torch.as_tensor(by_route["torch"][key]))
                        for key in ("energy", "forces", "stress")})
    return results


def _conv_triton_route() -> dict:
    """gaunt_md::conv under GAUNT_MD_CONV=triton against the dense reference interaction:
    values, first derivatives of every input and parameter (the Triton backward), and a
    differentiated backward (must take the PyTorch route)."""
    from gaunt_md.ops.conv import triton_kernels as tc
    from gaunt_md.so3 import sh_dim
    from tests.ops.test_conv import CHANNELS, N_NODES, graph, inputs, interaction

    calls = {"forward": 0, "backward": 0}
    kernels = tc.conv_forward_triton, tc.conv_backward_triton

    def counted(name, fn):
        def run(*args):
            calls[name] += 1
            return fn(*args)
        return run

    tc.conv_forward_triton, tc.conv_backward_triton = counted("forward", kernels[0]), counted("backward", kernels[1])
    os.environ["GAUNT_MD_CONV"] = "triton"
    results = {}
    for degrees in CONV_CASES:
        lmax_in, lmax_edge, lmax_out = degrees
        for name in DTYPES:
            dtype = getattr(torch, name)
            module = interaction(*degrees, hidden=(4, 5), dtype=dtype)
            module.block_size = 5
            reference = interaction(*degrees, hidden=(4, 5))
            x, sh, radial = inputs(module, lmax_in, lmax_edge, dtype=dtype)
            edge_index = graph()
            grad = torch.randn(N_NODES, CHANNELS, sh_dim(lmax_out), dtype=torch.float64)
            leaves = [t.clone().requires_grad_(True) for t in (x, sh, radial)]
            out = module(*leaves, edge_index)
            grads = torch.autograd.grad(out, leaves + list(module.parameters()), grad.to(dtype))
            ref_leaves = [t.double().clone().requires_grad_(True) for t in (x, sh, radial)]
            ref_out = reference.forward_reference(*ref_leaves, edge_index)
            ref_grads = torch.autograd.grad(ref_out, ref_leaves + list(reference.parameters()), grad)
            key = "conv-%d-%d-%d-" % degrees + name
            results[key + "-forward"] = relative_error(out, ref_out.detach())
            results[key + "-backward"] = max(relative_error(a, b) for a, b in zip(grads, ref_grads))
    # training on forces: the create_graph backward is the PyTorch one, under the Triton route too
    module = interaction(1, 2, 1, hidden=(4,))
    x, sh, radial = inputs(module, 1, 2)
    x.requires_grad_(True)
    before = calls["backward"]
    (gx,) = torch.autograd.grad(module(x, sh, radial, graph()).square().sum(), x, create_graph=True)
    results["conv-double-backward-triton-calls"] = calls["backward"] - before
    # (this one may use the Triton backward: it differentiates the forward's node once more)
    gw = torch.autograd.grad(gx.square().sum(), list(module.parameters()))
    del os.environ["GAUNT_MD_CONV"]
    (gx_ref,) = torch.autograd.grad(module(x, sh, radial, graph()).square().sum(), x, create_graph=True)
    gw_ref = torch.autograd.grad(gx_ref.square().sum(), list(module.parameters()))
    results["conv-double-backward"] = max(relative_error(a, b) for a, b in zip(gw, gw_ref))
    results["conv-calls"] = dict(calls)
    tc.conv_forward_triton, tc.conv_backward_triton = kernels
    return results


def _factor_products_op_routes(gen) -> dict:
    """gaunt_md::factor_products under GAUNT_MD_FACTOR_PRODUCTS=triton against =torch: forward,
    backward (Triton VJP) and a differentiated backward (must take the PyTorch VJP)."""
    from gaunt_md.ops.factor_products import triton_kernels as tfp
    from gaunt_md.so3 import analysis_matrix, synthesis_matrix

    S, A = synthesis_matrix(1, 5), analysis_matrix(2, 5)
    x0 = torch.randn(9, 6, 4, 4, generator=gen, dtype=torch.float64)
    grad = torch.randn(9, 3, 4, 9, generator=gen, dtype=torch.float64)
    used = []
    kernel = tfp.factor_products_vjp_triton
    tfp.factor_products_vjp_triton = lambda *a: used.append(1) or kernel(*a)

    def run(route: str):
        os.environ["GAUNT_MD_FACTOR_PRODUCTS"] = route
        x = x0.clone().requires_grad_(True)
        out = torch.ops.gaunt_md.factor_products(x, S, A, 3, 4)
        (gx,) = torch.autograd.grad(out, x, grad, retain_graph=True)
        (gx2,) = torch.autograd.grad(out, x, grad, create_graph=True)
        (ggx,) = torch.autograd.grad((gx2 ** 2).sum(), x)
        return out.detach(), gx, ggx

    torch_route, triton_route = run("torch"), run("triton")
    del os.environ["GAUNT_MD_FACTOR_PRODUCTS"]
    tfp.factor_products_vjp_triton = kernel
    names = ("op-forward", "op-backward", "op-double-backward")
    results = {n: relative_error(a, b) for n, a, b in zip(names, triton_route, torch_route)}
    results["op-triton-vjp-calls"] = len(used)
    return results


@pytest.fixture(scope="module")
def interpreted():
    pytest.importorskip("triton", reason="triton is not installed")
    env = {**os.environ, "TRITON_INTERPRET": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, __file__], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"interpreted kernel run failed:\n{proc.stdout}\n{proc.stderr}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_interpreter_mode_is_usable_on_cpu(interpreted):
    assert interpreted["usable_cpu"] is True
    assert interpreted["empty_shape"] == [0, 4]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", PRODUCT_CASES, ids=lambda c: "L%d-L%d-out%d" % c)
def test_gaunt_product(interpreted, case, dtype):
    assert interpreted["product-%d-%d-%d-" % case + dtype] < TOLERANCE[dtype]


# the many-body power kernels and the factor-product kernels, each (L, Lout, K) against its reference
DEGREE_KERNEL_CASES = [(kind, case) for kind in ("many_body", "vjp") for case in MANY_BODY_CASES] + \
    [(kind, case) for kind in ("factors", "factors_vjp") for case in FACTOR_CASES]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind, case", DEGREE_KERNEL_CASES,
                         ids=[f"{kind}-L%d-out%d-K%d" % case for kind, case in DEGREE_KERNEL_CASES])
def test_many_body_and_factor_kernels(interpreted, kind, case, dtype):
    assert interpreted[f"{kind}-%d-%d-%d-" % case + dtype] < TOLERANCE[dtype]


@pytest.mark.parametrize("op", ["product", "many_body", "vjp"])
def test_library_triton_route(interpreted, op):
    assert interpreted[f"library-{op}"] < TOLERANCE["float64"]


@pytest.mark.parametrize("part", ["op-forward", "op-backward", "op-double-backward"])
def test_factor_products_op_triton_route(interpreted, part):
    assert interpreted[part] < TOLERANCE["float64"]


def test_factor_products_op_uses_the_triton_vjp_only_when_not_differentiated_again(interpreted):
    assert interpreted["op-triton-vjp-calls"] == 1


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("part", ["forward", "backward"])
@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "L%d-edge%d-out%d" % c)
def test_conv_triton_route_matches_dense_reference(interpreted, case, part, dtype):
    assert interpreted["conv-%d-%d-%d-" % case + f"{dtype}-{part}"] < TOLERANCE[dtype]


@pytest.mark.parametrize("key", ["energy", "forces", "stress"])
@pytest.mark.parametrize("variant", list(MODEL_VARIANTS))
def test_scripted_model_on_the_triton_routes(interpreted, variant, key):
    assert interpreted[f"model-{variant}-{key}"] < TOLERANCE["float64"]


def test_conv_triton_route_ran_and_training_takes_the_pytorch_backward(interpreted):
    assert interpreted["conv-calls"]["forward"] >= 2 * len(CONV_CASES) * len(DTYPES)
    assert interpreted["conv-calls"]["backward"] >= len(CONV_CASES) * len(DTYPES)
    assert interpreted["conv-double-backward-triton-calls"] == 0
    assert interpreted["conv-double-backward"] < TOLERANCE["float64"]


# --- in process ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tk():
    pytest.importorskip("triton", reason="triton is not installed")
    from gaunt_md.ops.gaunt import triton_kernels
    return triton_kernels


@pytest.fixture(scope="module")
def ts():
    pytest.importorskip("triton", reason="triton is not installed")
    from gaunt_md.ops import triton_support
    return triton_support


def test_import_flags(ts):
    assert ts.TRITON_AVAILABLE
    assert not ts.triton_usable(torch.device("meta"))


def test_cpu_without_interpreter_raises(tk, ts):
    if ts.INTERPRETED:
        pytest.skip("kernels were imported in interpreter mode in this process")
    assert not ts.triton_usable(torch.device("cpu"))
    x = torch.zeros(3, 4)
    S = torch.zeros(4, 6)
    with pytest.raises(RuntimeError, match="TRITON_INTERPRET"):
        tk.gaunt_product_triton(x, x, S, S, torch.zeros(6, 1))


def test_validation(tk):
    x, S, A = torch.zeros(3, 4), torch.zeros(4, 6), torch.zeros(6, 1)
    with pytest.raises(ValueError, match="dtype"):
        tk.gaunt_product_triton(x, x.double(), S, S, A)
    with pytest.raises(ValueError, match="float32 or float64"):
        tk.gaunt_product_triton(x.half(), x.half(), S.half(), S.half(), A.half())
    with pytest.raises(ValueError, match="S2 must have shape"):
        tk.gaunt_product_triton(x, x, S, torch.zeros(4, 7), A)
    with pytest.raises(ValueError, match="y must have shape"):
        tk.gaunt_product_triton(x, torch.zeros(2, 4), S, S, A)

    x3, w = torch.zeros(2, 3, 4), torch.zeros(5, 3, 2, 2)
    species, degree_out = torch.zeros(2, dtype=torch.long), torch.tensor([0, 1, 1, 1])
    A4 = torch.zeros(6, 4)
    with pytest.raises(ValueError, match="species must be an int64"):
        tk.many_body_triton(x3, w, species.int(), S, A4, degree_out)
    with pytest.raises(ValueError, match="degree_out must be an int64"):
        tk.many_body_triton(x3, w, species, S, A4, degree_out[:3])
    with pytest.raises(ValueError, match="weights cover 2 degrees"):
        tk.many_body_triton(x3, w, species, S, A, degree_out[:1])
    with pytest.raises(ValueError, match="weights must have shape"):
        tk.many_body_triton(x3, torch.zeros(5, 2, 2, 2), species, S, A4, degree_out)

    coeffs = torch.zeros(2, 3, 2, 4)
    S_out = torch.zeros(4, 6)
    with pytest.raises(ValueError, match="coeffs must have shape"):
        tk.many_body_vjp_triton(x3, coeffs[:1], S, S_out, torch.zeros(6, 4))
    with pytest.raises(ValueError, match="A must have shape"):
        tk.many_body_vjp_triton(x3, coeffs, S, S_out, torch.zeros(6, 9))
    with pytest.raises(ValueError, match="x must be 3-dimensional"):
        tk.many_body_vjp_triton(x, coeffs, S, S_out, A4)


@pytest.mark.slow
def test_kernels_compile_for_sm90(tk, ts):
    """Offline compile (no GPU needed) of every kernel in both dtypes for Hopper."""
    from gaunt_md.ops.triton_sphere_grid import BLOCK_R, MAX_BLOCK_G
    if ts.INTERPRETED:
        pytest.skip("kernels were imported in interpreter mode in this process")
    try:
        import triton
        from triton.backends.compiler import GPUTarget
        from triton.compiler import ASTSource
    except ImportError as err:
        pytest.skip(f"this triton has no offline compile API: {err}")
    kernels = {
        tk._gaunt_product_kernel: (
            ["x_ptr", "y_ptr", "s1_ptr", "s2_ptr", "a_ptr", "out_ptr"], ["n_rows"],
            dict(D1=9, D2=16, G=91, DOUT=16, BLOCK_R=BLOCK_R, BLOCK_D1=16, BLOCK_D2=16,
                 BLOCK_G=MAX_BLOCK_G, BLOCK_OUT=16)),
        tk._many_body_kernel: (
            ["x_ptr", "w_ptr", "species_ptr", "s_ptr", "a_ptr", "degree_ptr", "out_ptr"], ["n_rows", "C"],
            dict(D=16, G=91, DOUT=16, NDEG=4, K=3, BLOCK_R=BLOCK_R, BLOCK_D=16,
                 BLOCK_G=MAX_BLOCK_G, BLOCK_OUT=16)),
        tk._many_body_vjp_kernel: (
            ["x_ptr", "coeffs_ptr", "s_ptr", "s_out_ptr", "a_ptr", "out_ptr"], ["n_rows"],
            dict(D=16, DC=16, G=91, K=3, BLOCK_R=BLOCK_R, BLOCK_D=16, BLOCK_C=16,
                 BLOCK_G=MAX_BLOCK_G)),
    }
    from gaunt_md.ops.factor_products import triton_kernels as tfp
    # the shipped potential's sizes (second layer): factors of degree 3, 66 grid points, output degree 1
    factor_sizes = dict(F=6, D=16, G=66, DOUT=4, K=3, BLOCK_R=BLOCK_R, BLOCK_D=16,
                        BLOCK_G=MAX_BLOCK_G, BLOCK_OUT=16)
    kernels[tfp._factor_products_kernel] = (["x_ptr", "s_ptr", "a_ptr", "out_ptr"], ["n_rows", "C"], factor_sizes)
    kernels[tfp._factor_products_vjp_kernel] = (["x_ptr", "grad_ptr", "s_ptr", "a_ptr", "out_ptr"], ["n_rows", "C"],
                                                factor_sizes)
    from gaunt_md.ops.conv import triton_kernels as tc
    conv_sizes = dict(P=10, Q=22, DIN=4, DOUT=16, BLOCK_E=tc._block_e(16, 64), BLOCK_C=64, BLOCK_OUT=16)
    conv_pointers = ["x_ptr", "r_ptr", "v_ptr", "send_ptr", "recv_ptr", "q_start_ptr", "row_start_ptr", "width_ptr"]
    kernels[tc._conv_forward_kernel] = (conv_pointers + ["out_ptr"], ["n_edges", "C"], conv_sizes)
    kernels[tc._conv_backward_kernel] = (
        conv_pointers[:3] + ["grad_ptr"] + conv_pointers[3:] + ["gx_ptr", "gr_ptr", "gv_ptr"], ["n_edges", "C"],
        dict(conv_sizes, NEED_X=True, NEED_R=True, NEED_V=True))
    int_pointers = {"species_ptr": "*i64", "degree_ptr": "*i64", "send_ptr": "*i64", "recv_ptr": "*i64",
                    "q_start_ptr": "*i32", "row_start_ptr": "*i32", "width_ptr": "*i32"}
    for dtype in ("fp32", "fp64"):
        for kernel, (pointers, ints, constexprs) in kernels.items():
            signature = {p: int_pointers.get(p, f"*{dtype}") for p in pointers}
            signature.update({name: "i32" for name in ints})
            signature.update({name: "constexpr" for name in constexprs})
            compiled = triton.compile(ASTSource(kernel, signature, constexprs=constexprs),
                                      target=GPUTarget("cuda", 90, 32), options=ts.LAUNCH_OPTIONS)
            ptx = compiled.asm["ptx"]
            if dtype == "fp32":  # ieee precision: no TF32 tensor-core instructions
                assert "tf32" not in ptx, kernel.__name__


if __name__ == "__main__":
    print(json.dumps(_run_cases()))
