"""Small random Gaunt-MACE models, exported once per session, and the structures and helpers
the deployment and calculator tests share.

Test directories use these through a conftest.py that re-exports the fixtures
(`from fixtures import *`); the plain functions can be imported directly.
"""
from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np
import pytest
import torch
from ase import Atoms

from gaunt_md.calculators import GauntCalculator
from gaunt_md.data import SpeciesTable, collate, graph_from_atoms
from gaunt_md.deploy.export import export_model
from gaunt_md.deploy.metadata import EXTRA_FILE
from gaunt_md.nn import GauntMACE, ModelConfig
from gaunt_md.train.checkpoint import model_from_checkpoint, save_checkpoint
from tests.helpers import random_rotation, relative_error  # noqa: F401  (re-exported to the conftests)

DTYPES = {"float32": torch.float32, "float64": torch.float64}
# max |out - ref| / max |ref| between two routes to the same numbers (eager and TorchScript,
# calculator and model, a structure and its rotated copy).  In float32 the derivatives carry
# rounding noise of about 1e-5 (the eager float32 forces differ from the float64 ones by as
# much), so two float32 routes may differ by several times that: a 12-fold supercell sums
# 12x more terms, and `auto` may pick another Gaunt route (a timing decision) for its size.
TOLERANCE = {"float32": 1e-5, "float64": 1e-10}
DERIVATIVE_TOLERANCE = {"float32": 1e-4, "float64": 1e-10}
DERIVATIVES = ("forces", "stress", "energies_var", "forces_var")


def tolerance(dtype: str, key: str) -> float:
    return (DERIVATIVE_TOLERANCE if key in DERIVATIVES else TOLERANCE)[dtype]
ELEMENTS = [1, 6, 7, 8]
E0S = {1: -13.6, 6: -1029.0, 7: -1485.0, 8: -2042.0}
R_MAX = 4.0
TINY = dict(
    atomic_numbers=ELEMENTS, e0s=E0S, avg_num_neighbors=8.0, channels=8, radial_hidden=[16], max_ell=2,
    hidden_lmax=1, correlation=3, num_interactions=2, r_max=R_MAX, shift=0.0, scale=1.0,
    # no ZBL here: in these random, compressed cells its pair forces (eV/A) cancel to ~0.1 eV/A,
    # so float32 rounding exceeds the float32 tolerances of the float32-vs-float64 checks; the
    # ZBL term is tested in tests/nn and, through LAMMPS, in tests/lammps (float64)
    pair_repulsion="none",
    # the power basis: its results do not depend on the thread count, which the serial-vs-
    # parallel MD tests compare bit for bit (the factor basis is tested in tests/nn)
    product_basis="power",
)
# a training history as the trainer records it; the best epoch (lowest valid_loss) is 2
HISTORY = [
    {"epoch": 1, "valid_loss": 3.0, "lr": 0.01, "e_rmse_meV": 30.0, "f_rmse_meV_per_A": 90.0},
    {"epoch": 2, "valid_loss": 1.0, "lr": 0.01, "e_rmse_meV": 10.0, "f_rmse_meV_per_A": 40.0},
    {"epoch": 3, "valid_loss": 2.0, "lr": 0.005, "e_rmse_meV": 20.0, "f_rmse_meV_per_A": 50.0},
]
BEST_METRICS = {"epoch": 2, "e_rmse_meV": 10.0, "f_rmse_meV_per_A": 40.0}


# --- models ---------------------------------------------------------------------------------

def tiny_model(seed: int = 0) -> GauntMACE:
    """The tiny model with every parameter perturbed (relative noise of 20 %) and a scale that
    gives forces of ~0.1-1 eV/A, so that all terms of the energy are non-trivial and two seeds
    differ."""
    with torch.random.fork_rng():
        # the initial weights must not depend on which tests ran before
        torch.manual_seed(seed)
        model = GauntMACE(ModelConfig(**{**TINY, "scale": 30.0 + seed}))
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            size = parameter.pow(2).mean().sqrt().clamp_min(0.1)
            noise = torch.randn(parameter.shape, generator=gen, dtype=parameter.dtype)
            parameter.add_(0.2 * size * noise)
    return model.eval()


def write_checkpoint(path: Path, model: GauntMACE, history=HISTORY) -> Path:
    save_checkpoint(path, {
        "dtype": "float64", "model_config": model.config, "model_state": model.state_dict(),
        "ema_model_state": None, "history": json.dumps(history),
    })
    return Path(path)


@dataclass(frozen=True)
class Exported:
    checkpoint: Path
    path: Path
    metadata: dict   # as returned by export_model
    dtype: str


@pytest.fixture(scope="session")
def single_torch_thread():
    """The models are tiny and the CPU is shared: one intra-op thread is much faster."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def exported(tmp_path_factory, single_torch_thread) -> Callable[..., Exported]:
    """exported(dtype="float64", seed=0) -> Exported: checkpoint of tiny_model(seed) and its
    TorchScript export in `dtype`, each written once per session."""
    root = tmp_path_factory.mktemp("models")
    cache: Dict[Tuple[str, int], Exported] = {}

    def get(dtype: str = "float64", seed: int = 0) -> Exported:
        if (dtype, seed) not in cache:
            checkpoint = root / f"seed{seed}.ckpt"
            if not checkpoint.exists():
                write_checkpoint(checkpoint, tiny_model(seed))
            path = root / f"seed{seed}-{dtype}.pt"
            cache[dtype, seed] = Exported(checkpoint, path, export_model(checkpoint, path, dtype), dtype)
        return cache[dtype, seed]
    return get


@pytest.fixture(scope="session")
def calculators(exported) -> Callable[..., GauntCalculator]:
    """calculators(dtype="float64", seeds=(0,)) -> a GauntCalculator on the CPU (a committee
    when several seeds are given), loaded once per session: TorchScript's first calls are
    slow, so tests share warm calculators.  ASE's state check keeps sharing safe."""
    cache: Dict[Tuple[str, Tuple[int, ...]], GauntCalculator] = {}

    def get(dtype: str = "float64", seeds: Sequence[int] = (0,)) -> GauntCalculator:
        key = (dtype, tuple(seeds))
        if key not in cache:
            paths = [str(exported(dtype, seed).path) for seed in seeds]
            cache[key] = GauntCalculator(paths if len(paths) > 1 else paths[0], device="cpu")
        cache[key].reset()
        return cache[key]
    return get


@pytest.fixture(scope="session")
def eager_models(exported) -> Callable[..., GauntMACE]:
    """eager_models(dtype="float64", seed=0) -> the checkpoint's model as a Python module."""
    cache: Dict[Tuple[str, int], GauntMACE] = {}

    def get(dtype: str = "float64", seed: int = 0) -> GauntMACE:
        if (dtype, seed) not in cache:
            cache[dtype, seed] = model_from_checkpoint(exported(dtype, seed).checkpoint, dtype)
        return cache[dtype, seed]
    return get


@pytest.fixture(params=list(DTYPES))
def dtype(request) -> str:
    return request.param


# --- running a model without the calculator ---------------------------------------------------

def predict(module, atoms: Atoms, dtype: str, stress: bool = False, device="cpu") -> Dict[str, np.ndarray]:
    """energy, node_energy, forces (and stress, 3x3) of one structure from a model module
    (eager or TorchScript, on `device`), with the graph built by gaunt_md.data."""
    graph = graph_from_atoms(atoms, SpeciesTable(ELEMENTS), R_MAX, dtype=DTYPES[dtype])
    out = module(collate([graph]).to(device).inputs(), compute_forces=True, compute_stress=stress)
    result = {"energy": out["energy"][0], "node_energy": out["node_energy"], "forces": out["forces"]}
    if stress:
        result["stress"] = out["stress"][0]
    return {k: v.detach().double().cpu().numpy() for k, v in result.items()}


def assert_close(out, ref, tol: float, what: str = "") -> None:
    """max |out - ref| / max |ref| <= tol."""
    err = relative_error(out, ref)
    assert err <= tol, f"{what}: relative error {err:.2e} > {tol:.0e}"


# --- structures ---------------------------------------------------------------------------------

def random_cluster(seed: int, n: int = 7, box: float = 3.5, min_distance: float = 0.95) -> Atoms:
    """Random C/H/N/O molecule-like cluster, non-periodic, atoms at least min_distance apart."""
    rng = np.random.default_rng(seed)
    positions = []
    while len(positions) < n:
        p = rng.uniform(0.0, box, 3)
        if all(np.linalg.norm(p - q) > min_distance for q in positions):
            positions.append(p)
    return Atoms(numbers=rng.choice(ELEMENTS, n), positions=positions)


def shaken_copies(atoms: Atoms, n: int, seed: int, sigma: float = 0.01, **info) -> List[Atoms]:
    """`n` copies of `atoms`, every coordinate shaken by N(0, sigma) (A); copy k gets info
    {key: f(k)} for each keyword function."""
    rng = np.random.default_rng(seed)
    copies = []
    for k in range(n):
        a = atoms.copy()
        a.positions += rng.normal(0.0, sigma, a.positions.shape)
        a.info.update({key: f(k) for key, f in info.items()})
        copies.append(a)
    return copies


def random_periodic(seed: int, n: int = 5, min_distance: float = 1.0) -> Atoms:
    """Random C/H/N/O atoms in a random triclinic cell about 4 A wide (close to r_max, so
    atoms see images of themselves and of each other)."""
    rng = np.random.default_rng(seed)
    cell = np.diag(rng.uniform(3.8, 4.6, 3)) + rng.uniform(-0.5, 0.5, (3, 3)) * (1 - np.eye(3))
    while True:
        atoms = Atoms(numbers=rng.choice(ELEMENTS, n), scaled_positions=rng.uniform(size=(n, 3)),
                      cell=cell, pbc=True)
        if atoms.get_all_distances(mic=True)[np.triu_indices(n, 1)].min() > min_distance:
            return atoms


# --- tampered model files ---------------------------------------------------------------------

def rewrite_metadata(source: Path, target: Path, **changes) -> Path:
    """Copy of an exported model whose metadata has `changes` applied (key=None deletes)."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("/extra/" + EXTRA_FILE):
                meta = json.loads(data)
                meta.update(changes)
                meta = {k: v for k, v in meta.items() if v is not None}
                data = json.dumps(meta).encode()
            dst.writestr(info, data)
    return Path(target)


def foreign_torchscript_file(target: Path) -> Path:
    """A valid TorchScript model that is not a gaunt-md model (no metadata)."""
    torch.jit.save(torch.jit.script(torch.nn.Linear(3, 1)), str(target))
    return Path(target)


def random_bytes_file(target: Path) -> Path:
    Path(target).write_bytes(np.random.default_rng(0).bytes(4096))
    return Path(target)


def plain_state_dict_file(target: Path) -> Path:
    buffer = io.BytesIO()
    torch.save({"weights": torch.ones(3)}, buffer)
    Path(target).write_bytes(buffer.getvalue())
    return Path(target)


__all__ = ["calculators", "dtype", "eager_models", "exported", "single_torch_thread"]
