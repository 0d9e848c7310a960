"""The fused Gaunt convolution gaunt_md::conv against the dense reference interaction
(GauntInteraction.forward_reference) and against its own unblocked autograd formulation:
values, first derivatives (the hand-written blocked backward), second derivatives (the
create_graph route that training on forces takes), gradcheck/gradgradcheck, TorchScript,
blocks of every size, empty edge lists and bad input."""
from __future__ import annotations

import itertools

import pytest
import torch

import gaunt_md.ops  # noqa: F401  (registers torch.ops.gaunt_md.conv)
from gaunt_md.nn.interaction import GauntInteraction
from gaunt_md.ops.conv import ConvPlan, conv_reference, coupling_matrix, coupling_paths
from gaunt_md.so3 import sh_dim
from tests.helpers import relative_error as rel_err

TOL = {torch.float64: 1e-10, torch.float32: 1e-5}
N_NODES, N_EDGES, CHANNELS, N_RADIAL = 6, 23, 3, 5


def graph(seed: int = 0, n_nodes: int = N_NODES, n_edges: int = N_EDGES):
    gen = torch.Generator().manual_seed(seed)
    receivers = torch.randint(0, n_nodes, (n_edges,), generator=gen)
    senders = torch.randint(0, n_nodes, (n_edges,), generator=gen)
    receivers[0] = n_nodes - 1  # the last node receives; node 0 may receive nothing
    return torch.stack([receivers, senders])


def interaction(lmax_in, lmax_edge, lmax_out, hidden=(4,), dtype=torch.float64, seed=0, channels=CHANNELS):
    torch.manual_seed(seed)
    module = GauntInteraction(channels, lmax_in, lmax_edge, lmax_out, N_RADIAL, list(hidden), 3.0)
    for p in module.parameters():  # O(1) entries everywhere so that relative errors are meaningful
        p.data = torch.randn_like(p)
    return module.to(dtype)


def inputs(module, lmax_in, lmax_edge, n_edges=N_EDGES, dtype=torch.float64, seed=1):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(N_NODES, module.channels, sh_dim(lmax_in), generator=gen, dtype=torch.float64).to(dtype)
    sh = torch.randn(n_edges, sh_dim(lmax_edge), generator=gen, dtype=torch.float64).to(dtype)
    radial = torch.randn(n_edges, N_RADIAL, generator=gen, dtype=torch.float64).to(dtype)
    return x, sh, radial


def op_args(module, x, radial, sh, edge_index):
    """The op's arguments as GauntInteraction.forward builds them (x already through linear_up)."""
    weights = module.radial.weights()
    weights[-1] = weights[-1].index_select(0, module.radial_order)
    return (x.transpose(1, 2).contiguous(), radial, sh, weights, module.fused_coupling,
            edge_index[0], edge_index[1], module.groups)


DEGREES = [(0, 3, 3), (1, 3, 3), (1, 2, 0), (2, 2, 2), (2, 3, 1), (0, 1, 0), (3, 2, 3)]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize("degrees", DEGREES, ids=str)
def test_matches_dense_reference(degrees, dtype):
    lmax_in, lmax_edge, lmax_out = degrees
    module = interaction(*degrees, dtype=dtype)
    x, sh, radial = inputs(module, lmax_in, lmax_edge, dtype=dtype)
    edge_index = graph()
    expected = interaction(*degrees).forward_reference(x.double(), sh.double(), radial.double(), edge_index)
    for block in (1, 4, 7, 1000):
        module.block_size = block
        assert rel_err(module(x, sh, radial, edge_index), expected) < TOL[dtype], block


@pytest.mark.parametrize("degrees", DEGREES, ids=str)
def test_first_derivatives_match_dense_reference(degrees):
    """Gradients w.r.t. node features, harmonics, radial basis and every parameter: the fused
    route's hand-written blocked backward against autograd through the dense route."""
    lmax_in, lmax_edge, _ = degrees
    module = interaction(*degrees, hidden=(4, 5))
    module.block_size = 5
    x, sh, radial = inputs(module, lmax_in, lmax_edge)
    edge_index = graph()
    leaves = [x, sh, radial] + list(module.parameters())
    for t in (x, sh, radial):
        t.requires_grad_(True)
    grad_out = torch.randn(N_NODES, CHANNELS, sh_dim(degrees[2]), dtype=torch.float64)
    fused = torch.autograd.grad(module(x, sh, radial, edge_index), leaves, grad_out)
    reference = torch.autograd.grad(module.forward_reference(x, sh, radial, edge_index), leaves, grad_out)
    for a, b in zip(fused, reference):
        assert rel_err(a, b) < 1e-10


@pytest.mark.parametrize("degrees", [(0, 3, 3), (1, 3, 3), (2, 2, 1)], ids=str)
def test_double_backward_matches_dense_reference(degrees):
    """Training on forces: gradient of a loss on the input gradients w.r.t. the parameters."""
    lmax_in, lmax_edge, _ = degrees
    module = interaction(*degrees, hidden=(4, 5))
    module.block_size = 6
    x, sh, radial = inputs(module, lmax_in, lmax_edge)
    edge_index = graph()
    for t in (x, sh, radial):
        t.requires_grad_(True)
    grad_out = torch.randn(N_NODES, CHANNELS, sh_dim(degrees[2]), dtype=torch.float64)
    params = list(module.parameters())

    def second(forward):
        out = forward(x, sh, radial, edge_index)
        gx, gsh, gr = torch.autograd.grad((out * grad_out).sum(), [x, sh, radial], create_graph=True)
        loss = (gx ** 2).sum() + (gsh * sh).sum() + (gr.sin()).sum()
        return torch.autograd.grad(loss, [x, sh, radial] + params)

    for a, b in zip(second(module), second(module.forward_reference)):
        assert rel_err(a, b) < 1e-10


@pytest.mark.parametrize("hidden,block", [((4,), 3), ((3, 4), 50)])
def test_gradcheck_and_gradgradcheck(hidden, block):
    module = interaction(1, 2, 2, hidden=hidden, channels=2)
    x, sh, radial = inputs(module, 1, 2, n_edges=9)
    edge_index = graph(n_edges=9)
    args = list(op_args(module, module.linear_up(x).detach(), radial, sh, edge_index))
    weights = [w.detach() for w in args[3]]
    tensors = [args[0], args[1], args[2]] + weights
    tensors = [t.detach().clone().requires_grad_(True) for t in tensors]
    n_w = len(weights)

    def f(x_, radial_, sh_, *ws):
        return torch.ops.gaunt_md.conv(x_, radial_, sh_, list(ws), args[4], args[5], args[6], args[7], block)

    plan = ConvPlan.from_flat(args[7])
    assert rel_err(f(*tensors), conv_reference(*tensors[:3], tensors[3:3 + n_w], *args[4:7], plan)) < 1e-12
    torch.autograd.gradcheck(f, tensors)
    torch.autograd.gradgradcheck(f, tensors)


def test_no_edges():
    module = interaction(1, 3, 3)
    x, sh, radial = inputs(module, 1, 3, n_edges=0)
    x.requires_grad_(True)
    edge_index = torch.zeros(2, 0, dtype=torch.long)
    out = module(x, sh, radial, edge_index)
    assert out.shape == (N_NODES, CHANNELS, 16)
    assert torch.equal(out, torch.zeros_like(out))
    (g,) = torch.autograd.grad(out.sum(), [x], allow_unused=True)
    assert g is None or torch.equal(g, torch.zeros_like(g))


def test_torchscript():
    module = interaction(1, 3, 3)
    x, sh, radial = inputs(module, 1, 3)
    edge_index = graph()
    scripted = torch.jit.script(module)
    assert rel_err(scripted(x, sh, radial, edge_index), module.forward_reference(x, sh, radial, edge_index)) < 1e-10


def test_coupling_layout():
    """Rows are (path, m1) pairs, grouped by l1: sum over paths of 2 l1 + 1."""
    paths = coupling_paths(1, 3, 3)
    coupling = coupling_matrix(paths, 3, 3)
    plan = ConvPlan.for_paths(paths)
    rows = sum(2 * l1 + 1 for l1, _, _ in paths)
    assert coupling.shape == (16, rows * 16)
    assert plan.flat() == [0, 4, 0, 4, 6, 1]
    assert plan.rows == rows and plan.num_paths == len(paths) and plan.out_dim(coupling) == 16
    assert ConvPlan.from_flat(plan.flat()) == plan
    assert 16 <= plan.block_size(64) <= 4096
    assert plan.block_size(64, "cuda") % 16 == 0
    with pytest.raises(ValueError, match="sorted by l1"):
        ConvPlan.for_paths([(0, 1, 1), (1, 1, 0), (0, 2, 2)])


def test_bad_input():
    module = interaction(1, 3, 3)
    x, sh, radial = inputs(module, 1, 3)
    args = list(op_args(module, x, radial, sh, graph()))
    with pytest.raises(ValueError, match="same edges"):
        torch.ops.gaunt_md.conv(args[0], args[1][:-1], *args[2:], 4)
    with pytest.raises(ValueError, match="last radial layer"):
        torch.ops.gaunt_md.conv(args[0][:, :, :2].contiguous(), *args[1:], 4)
    with pytest.raises(ValueError, match="block_size"):
        torch.ops.gaunt_md.conv(*args, 0)


def test_every_block_size_gives_the_same_sum():
    module = interaction(1, 3, 3)
    x, sh, radial = inputs(module, 1, 3)
    edge_index = graph()
    outs = []
    for block in itertools.chain(range(1, 8), [N_EDGES - 1, N_EDGES, N_EDGES + 1]):
        module.block_size = block
        outs.append(module(x, sh, radial, edge_index))
    for out in outs[1:]:
        assert rel_err(out, outs[0]) < 1e-13


def test_worker_threads_give_the_same_result():
    """With several torch threads the blocks run on worker threads (single-threaded ops each);
    same numbers as one thread, gradients included, and the caller's thread count is kept."""
    module = interaction(1, 3, 3)
    module.block_size = 2
    x, sh, radial = inputs(module, 1, 3)
    for t in (x, sh, radial):
        t.requires_grad_(True)
    edge_index = graph()
    grad_out = torch.randn(N_NODES, CHANNELS, 16, dtype=torch.float64)

    def run():
        out = module(x, sh, radial, edge_index)
        return [out] + list(torch.autograd.grad(out, [x, sh, radial] + list(module.parameters()), grad_out))

    threads = torch.get_num_threads()
    one = run()
    try:
        torch.set_num_threads(3)
        several = run()
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(threads)
    for a, b in zip(several, one):
        assert rel_err(a, b) < 1e-13


def test_traceable_by_torch_compile():
    """torch.compile traces the op and its backward with tensor subclasses whose modes live in
    the tracing thread: the blocks must not go to the worker threads then.  aot_eager runs that
    tracing (functionalisation) without inductor's code generation."""
    module = interaction(1, 3, 3)
    module.block_size = 2
    x, sh, radial = inputs(module, 1, 3)
    x.requires_grad_(True)
    edge_index = graph()
    grad_out = torch.randn(N_NODES, CHANNELS, 16, dtype=torch.float64)

    def run(m):
        out = m(x, sh, radial, edge_index)
        return [out] + list(torch.autograd.grad(out, [x] + list(module.parameters()), grad_out))

    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)  # >= 2 threads: eager runs the blocks on the workers
        eager = run(module)
        torch._dynamo.reset()
        compiled = run(torch.compile(module, backend="aot_eager", fullgraph=True))
    finally:
        torch.set_num_threads(threads)
        torch._dynamo.reset()
    for a, b in zip(compiled, eager):
        assert rel_err(a, b) < 1e-13
