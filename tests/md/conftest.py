"""A tiny random Gaunt-MACE model exported once per session, the shipped 3BPA start, and
hand-made molecules for the failure-detector tests."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.io import read

REPO = Path(__file__).resolve().parents[2]
START = REPO / "examples" / "data" / "3bpa_start.xyz"


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory) -> Path:
    from gaunt_md.deploy.export import export_model
    from gaunt_md.nn import GauntMACE, ModelConfig
    from gaunt_md.train.checkpoint import save_checkpoint

    root = tmp_path_factory.mktemp("md_model")
    model = GauntMACE(ModelConfig(
        atomic_numbers=[1, 6, 7, 8], e0s={1: -13.6, 6: -1029.0, 7: -1485.0, 8: -2042.0}, avg_num_neighbors=8.0,
        channels=8, radial_hidden=[16], max_ell=2, hidden_lmax=1, correlation=3, num_interactions=2, r_max=4.0,
        gaunt_method="grid",   # a fixed route: no timing of the routes on the first call
        # the power basis and no ZBL term: TorchScript's optimised graph of the factor basis and
        # of the ZBL term (from the second call on) rounds differently (~1e-16) from its first,
        # profiling call, and the reproducibility tests compare runs bit for bit
        product_basis="power", pair_repulsion="none",
    ))
    checkpoint = root / "tiny.ckpt"
    save_checkpoint(checkpoint, {"dtype": "float64", "model_config": model.config, "model_state": model.state_dict(),
                                 "ema_model_state": None, "history": "[]"})
    path = root / "tiny.pt"
    export_model(checkpoint, path)
    return path


@pytest.fixture
def start_3bpa() -> Atoms:
    return read(START)


@pytest.fixture
def water_dimer() -> Atoms:
    """Two waters 4 A apart along x, the first one's H pointing away (-x), the second one's
    H4 pointing at O0."""
    first = np.array([[0.0, 0.0, 0.0], [-0.586, 0.757, 0.0], [-0.586, -0.757, 0.0]])
    second = np.array([[0.0, 0.0, 0.0], [-0.96, 0.0, 0.0], [0.24, 0.93, 0.0]]) + [4.0, 0.0, 0.0]
    return Atoms("OH2OH2", positions=np.vstack([first, second]))
