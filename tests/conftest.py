"""Shared test helpers, exposed as fixtures (nequip style): O(3) representations of real-SH
coefficient vectors, seeded orthogonal matrices, a relative-error assertion, e3nn's SH and a
sphere quadrature built independently of gaunt_md.so3."""
from __future__ import annotations

import math
import os

import pytest
import torch
from e3nn import o3

from gaunt_md.ops.subnormals import keep_subnormals
from tests.helpers import block_wigner_D, random_rotation, relative_error


def pytest_configure(config):
    # The tests use tiny tensors: intra-op threads only add overhead, and on a shared machine
    # pocketfft's thread pool made small FFTs ~200x slower.  GAUNT_MD_TEST_THREADS overrides.
    torch.set_num_threads(int(os.environ.get("GAUNT_MD_TEST_THREADS", "1")))


@pytest.fixture(autouse=True)
def default_subnormals():
    """A Trainer, or a float32 model loaded on CPU, makes its process flush subnormal floats
    (gaunt_md/ops/subnormals.py); the tests after it get torch's default back."""
    yield
    keep_subnormals()


TOLERANCE = {torch.float64: 1e-10, torch.float32: 1e-5}


def orthogonal_matrices(seed: int = 0) -> dict:
    """Named elements of O(3): a random rotation, the inversion, a mirror and a rotoreflection."""
    gen = torch.Generator().manual_seed(seed)
    R = random_rotation(gen)
    mirror = torch.diag(torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64))
    return {"rotation": R, "inversion": -torch.eye(3, dtype=torch.float64),
            "mirror": mirror, "rotoreflection": random_rotation(gen) @ mirror}


def random_unit_vectors(n: int, gen: torch.Generator) -> torch.Tensor:
    v = torch.randn(n, 3, generator=gen, dtype=torch.float64)
    return v / v.norm(dim=-1, keepdim=True)


@pytest.fixture
def assert_rel_close():
    """assert_rel_close(out, ref[, tol]): max |out - ref| / max |ref| <= tol (default: by out.dtype)."""
    def check(out, ref, tol=None, what=""):
        tol = TOLERANCE[out.dtype] if tol is None else tol
        err = relative_error(out, ref)
        assert err <= tol, f"{what} relative error {err:.3e} > {tol:.0e}"
    return check


@pytest.fixture(name="relative_error")
def relative_error_fixture():
    return relative_error


@pytest.fixture
def wigner_D():
    return block_wigner_D


@pytest.fixture(params=list(orthogonal_matrices()), ids=str)
def o3_element(request) -> torch.Tensor:
    """Parametrised over rotation, inversion, mirror, rotoreflection."""
    return orthogonal_matrices()[request.param]


@pytest.fixture
def gen() -> torch.Generator:
    return torch.Generator().manual_seed(1234)


@pytest.fixture
def unit_vectors():
    return random_unit_vectors


def independent_rule(degree: int, seed: int = 7):
    """(points [G, 3], weights [G]) integrating polynomials of degree <= `degree` exactly.

    Built here, independently of gaunt_md.so3.sphere_grid: Gauss-Legendre in cos(angle) about
    the z axis (the library uses y), twice the needed phi points, then a random rotation of the
    whole grid, so no node coincides with the library's."""
    import numpy as np

    n_theta = degree // 2 + 2
    n_phi = 2 * degree + 3
    nodes, w = np.polynomial.legendre.leggauss(n_theta)
    cos_t = torch.from_numpy(nodes)
    sin_t = torch.sqrt(1 - cos_t**2)
    phi = (torch.arange(n_phi, dtype=torch.float64) + 0.37) * (2 * math.pi / n_phi)
    points = torch.stack(
        [sin_t[:, None] * torch.cos(phi), sin_t[:, None] * torch.sin(phi), cos_t[:, None].expand(-1, n_phi)],
        dim=-1,
    ).reshape(-1, 3)
    weights = (torch.from_numpy(w)[:, None] * (2 * math.pi / n_phi)).expand(-1, n_phi).reshape(-1)
    R = random_rotation(torch.Generator().manual_seed(seed))
    return points @ R.T, weights


@pytest.fixture
def quadrature():
    return independent_rule


def e3nn_sh(lmax: int, points: torch.Tensor) -> torch.Tensor:
    """Y_lm straight from e3nn (integral normalisation), the definition the library must follow."""
    return o3.spherical_harmonics(list(range(lmax + 1)), points, normalize=True, normalization="integral")


@pytest.fixture
def sh():
    return e3nn_sh


FOREIGN_CALCULATOR = '''
from ase.calculators.calculator import Calculator, all_changes
from gaunt_md import GauntCalculator

CALLS = []


class Counting(Calculator):
    """GauntCalculator behind a plain ASE calculator: the protocol cannot tell it is ours."""
    implemented_properties = ["energy", "forces"]

    def __init__(self, model):
        super().__init__()
        self.inner = GauntCalculator(model)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        CALLS.append(1)
        self.results = {k: self.inner.get_property(k, atoms) for k in ("energy", "forces")}


def make(model):
    return Counting(model)
'''


@pytest.fixture
def foreign_calculator_file(tmp_path):
    """A file whose `make(model)` returns a gaunt-md model behind a plain ASE calculator class
    (`Counting`): what `--calculator file.py:make` runs, as a baseline would come."""
    path = tmp_path / "my_calc.py"
    path.write_text(FOREIGN_CALCULATOR)
    return path
