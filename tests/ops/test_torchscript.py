"""The registered ops inside TorchScript: script, save, load (here and in a fresh interpreter
that only does `import gaunt_md`), identical outputs, and forces-style second derivatives."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch
from e3nn import o3

import gaunt_md  # noqa: F401  (registers torch.ops.gaunt_md)
from gaunt_md.so3 import sh_dim

LMAX, CHANNELS, CORRELATION = 2, 3, 3
SPECIES = torch.tensor([0, 1, 1, 0])


class GauntBlock(torch.nn.Module):
    """Pairwise Gaunt product followed by a species-weighted many-body product."""

    def __init__(self, method: str, n_species: int = 2):
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        self.weights = torch.nn.Parameter(
            torch.randn(n_species, CHANNELS, LMAX + 1, CORRELATION, generator=gen, dtype=torch.float64))
        self.lmax = LMAX
        self.method = method

    def forward(self, x: torch.Tensor, y: torch.Tensor, species: torch.Tensor) -> torch.Tensor:
        p = torch.ops.gaunt_md.gaunt_product(x, y, self.lmax, self.method)
        return torch.ops.gaunt_md.many_body(p, self.weights, species, self.lmax, self.method)


def _inputs():
    gen = torch.Generator().manual_seed(1)
    vectors = torch.randn(len(SPECIES), CHANNELS, 3, generator=gen, dtype=torch.float64)
    y = torch.randn(len(SPECIES), CHANNELS, sh_dim(1), generator=gen, dtype=torch.float64)
    return vectors, y


def _energy(module, vectors, y):
    """A scalar that depends on every output degree (invariant: scalar part + squared norms)."""
    x = o3.spherical_harmonics(list(range(LMAX + 1)), vectors, normalize=False)
    h = module(x, y, SPECIES)
    return h[..., 0].sum() + h.pow(2).sum()


def _energy_forces_and_second(module, vectors, y):
    """Energy, forces = -dE/dvectors, and d|F|^2/d(weights, vectors, y) (grad of grad)."""
    vectors = vectors.clone().requires_grad_()
    y = y.clone().requires_grad_()
    energy = _energy(module, vectors, y)
    (grad,) = torch.autograd.grad(energy, vectors, create_graph=True)
    forces = -grad
    loss = forces.pow(2).sum()
    second = torch.autograd.grad(loss, [module.weights, vectors, y])
    return [energy.detach(), forces.detach(), *second]


METHODS = ["dense", "fourier", "grid", "sht"]
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.*` is deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """method -> (eager module, scripted, saved-and-reloaded, path of the file)."""
    folder = tmp_path_factory.mktemp("script")
    out = {}
    for method in METHODS:
        eager = GauntBlock(method)
        scripted = torch.jit.script(eager)
        path = folder / f"block-{method}.pt"
        torch.jit.save(scripted, str(path))
        out[method] = (eager, scripted, torch.jit.load(str(path)), path)
    return out


@pytest.mark.parametrize("method", METHODS)
def test_outputs_identical(saved, method):
    eager, scripted, loaded, _ = saved[method]
    x = torch.randn(len(SPECIES), CHANNELS, sh_dim(LMAX), dtype=torch.float64)
    y = _inputs()[1]
    expected = eager(x, y, SPECIES)
    assert expected.shape == (len(SPECIES), CHANNELS, sh_dim(LMAX))
    for module in (scripted, loaded):
        torch.testing.assert_close(module(x, y, SPECIES), expected, atol=0, rtol=0)


@pytest.mark.parametrize("method", METHODS)
def test_double_backward_matches_eager(saved, method):
    eager, scripted, loaded, _ = saved[method]
    vectors, y = _inputs()
    expected = _energy_forces_and_second(eager, vectors, y)
    assert expected[2].abs().max() > 0  # the weights really get a gradient from the force loss
    for module in (scripted, loaded):
        for got, want in zip(_energy_forces_and_second(module, vectors, y), expected):
            torch.testing.assert_close(got, want, atol=1e-12, rtol=1e-12)


def test_loads_in_fresh_interpreter(saved, tmp_path):
    """A deployed file needs nothing but `import gaunt_md` to run (one interpreter for all)."""
    x = torch.randn(len(SPECIES), CHANNELS, sh_dim(LMAX), dtype=torch.float64)
    y = _inputs()[1]
    cases = {str(path): eager(x, y, SPECIES).detach() for eager, _, _, path in saved.values()}
    torch.save({"x": x, "y": y, "species": SPECIES, "expected": cases}, tmp_path / "io.pt")
    script = textwrap.dedent(f"""
        import torch
        import gaunt_md
        io = torch.load({str(tmp_path / "io.pt")!r})
        for path, expected in io["expected"].items():
            module = torch.jit.load(path)
            torch.testing.assert_close(module(io["x"], io["y"], io["species"]), expected, atol=0, rtol=0)
        print("ok", len(io["expected"]))
    """)
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", script], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0 and result.stdout.split() == ["ok", str(len(METHODS))], result.stderr[-2000:]
