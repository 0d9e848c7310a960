"""Synthetic labelled data and tiny training runs shared by the training tests.

The data are 12 small random C/H/N/O molecules labelled with ASE's EMT calculator (it has
parameters for these four elements), plus one isolated atom per element.  The runs go
through `gaunt_md.cli.main`, exactly as `gaunt-md train CONFIG.yaml` would."""
from __future__ import annotations

import os

os.environ["TQDM_DISABLE"] = "1"  # no progress bars in tests; before tqdm is imported

import copy
import csv
from pathlib import Path
from typing import Callable, List

import ase.io
import numpy as np
import pytest
import torch
import yaml
from ase import Atoms
from ase.calculators.emt import EMT
from ase.calculators.singlepoint import SinglePointCalculator

from gaunt_md.cli import main

ELEMENTS = "CHNO"

TINY_CONFIG = {
    "name": "tiny",
    "seed": 7,
    "dtype": "float64",
    "num_threads": 1,
    "data": {"n_valid": 4},
    "model": {
        "r_max": 3.0, "num_bessel": 4, "max_ell": 1, "hidden_lmax": 1, "channels": 4,
        "correlation": 2, "num_interactions": 2, "radial_hidden": [8], "readout_hidden": 4,
    },
    "optim": {
        "lr": 0.01, "batch_size": 4, "valid_batch_size": 4, "max_epochs": 3,
        "scheduler_patience": 10, "early_stopping_patience": 10,
    },
}


def random_molecule(rng: np.random.Generator, n_atoms: int) -> Atoms:
    """Atoms on a jittered cubic lattice (spacing 1.3 A): every atom has neighbours within
    3 A and none comes closer than about 0.9 A."""
    sites = np.array([(x, y, z) for x in range(3) for y in range(3) for z in range(2)], dtype=float)
    chosen = sites[rng.choice(len(sites), n_atoms, replace=False)]
    positions = 1.3 * chosen + rng.uniform(-0.15, 0.15, size=(n_atoms, 3))
    symbols = "".join(rng.choice(list(ELEMENTS), n_atoms))
    return Atoms(symbols, positions=positions)


def labelled(atoms: Atoms) -> Atoms:
    """EMT energy and forces stored the usual way (a SinglePointCalculator)."""
    atoms = atoms.copy()
    atoms.calc = EMT()
    energy, forces = atoms.get_potential_energy(), atoms.get_forces()
    atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces)
    return atoms


@pytest.fixture(scope="session")
def dataset(tmp_path_factory) -> dict:
    """{'train': 12 labelled molecules (3-7 atoms), 'iso': isolated atoms} as extxyz paths."""
    root = tmp_path_factory.mktemp("synthetic")
    rng = np.random.default_rng(2024)
    frames = [labelled(random_molecule(rng, int(rng.integers(3, 8)))) for _ in range(12)]
    iso = [labelled(Atoms(symbol)) for symbol in ELEMENTS]
    ase.io.write(root / "train.xyz", frames, format="extxyz")
    ase.io.write(root / "iso_atoms.xyz", iso, format="extxyz")
    return {"train": root / "train.xyz", "iso": root / "iso_atoms.xyz"}


@pytest.fixture(scope="session")
def alien_file(tmp_path_factory) -> Path:
    """A labelled SiH molecule: an element the synthetic data never contain."""
    atoms = Atoms("SiH", positions=[[0, 0, 0], [0, 0, 1.5]])
    atoms.calc = SinglePointCalculator(atoms, energy=-1.0, forces=np.zeros((2, 3)))
    path = tmp_path_factory.mktemp("alien") / "sih.xyz"
    ase.io.write(path, [atoms], format="extxyz")
    return path


def _merge(base: dict, changes: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _config_writer(defaults_in: Callable[[Path], dict]) -> Callable[..., Path]:
    """writer(directory, **changes) -> path of a YAML config: the tiny model's config updated by
    defaults_in(directory), then by `changes` (nested dicts update, not replace)."""
    def write(directory: Path, **changes) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        values = _merge(_merge(TINY_CONFIG, defaults_in(directory)), changes)
        path = directory / "config.yaml"
        path.write_text(yaml.safe_dump(values))
        return path
    return write


@pytest.fixture(scope="session")
def write_config(dataset) -> Callable[..., Path]:
    """write_config(directory, **changes) -> path of a YAML config for the tiny model on the
    synthetic data, output in directory/run; nested dicts in `changes` update the defaults."""
    return _config_writer(lambda directory: {
        "output_dir": str(directory / "run"),
        "data": {"train_file": str(dataset["train"]), "e0s_file": str(dataset["iso"])}})


@pytest.fixture(scope="session")
def gaunt_md() -> Callable[..., int]:
    """gaunt_md('train', 'cfg.yaml', ...) -> exit code of the command line, in process."""
    def run(*args) -> int:
        previous = torch.get_num_threads()
        try:
            return main([str(a) for a in args])
        finally:
            torch.set_num_threads(previous)
    return run


@pytest.fixture
def no_plots(monkeypatch):
    """Skip the learning-curve plot (a second or more per epoch on a busy CPU, against
    milliseconds for a tiny epoch); `trained_run` keeps it and checks the PNG."""
    from gaunt_md.train import trainer

    monkeypatch.setattr(trainer, "plot_learning_curve", lambda history, path: None)


def read_log(run_dir: Path) -> List[dict]:
    with open(Path(run_dir) / "log.csv") as fh:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(fh)]


@pytest.fixture(scope="session")
def log_rows() -> Callable[[Path], List[dict]]:
    return read_log


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, write_config, gaunt_md) -> Path:
    """One 3-epoch float64 run (stage two from epoch 2), shared by the output and eval tests."""
    directory = tmp_path_factory.mktemp("trained")
    config = write_config(directory, optim={"stage_two_epoch": 2, "stage_two_lr": 0.002})
    assert gaunt_md("train", config) == 0
    return directory / "run"


def cu_au_frame(rng: np.random.Generator, config_type: str) -> Atoms:
    """A 4-atom fcc Cu/Au cell, strained by up to 3 % and rattled, with EMT energy, forces and
    stress under mace-style key names (REF_energy / REF_forces / REF_stress)."""
    from ase.build import bulk

    atoms = bulk("Cu", "fcc", a=3.7, cubic=True)
    atoms.numbers[rng.random(len(atoms)) < 0.5] = 79
    strain = np.eye(3) + rng.uniform(-0.03, 0.03, size=(3, 3))
    atoms.set_cell(atoms.cell.array @ strain, scale_atoms=True)
    atoms.positions += rng.normal(0, 0.05, size=atoms.positions.shape)
    atoms.calc = EMT()
    atoms.info.update(REF_energy=atoms.get_potential_energy(), REF_stress=atoms.get_stress(),
                      config_type=config_type)
    atoms.arrays["REF_forces"] = atoms.get_forces()
    atoms.calc = None
    return atoms


def isolated_atom(symbol: str) -> Atoms:
    atoms = Atoms(symbol)
    atoms.calc = EMT()
    atoms.info.update(REF_energy=atoms.get_potential_energy(), config_type="IsolatedAtom")
    atoms.arrays["REF_forces"] = np.zeros((1, 3))
    atoms.calc = None
    return atoms


@pytest.fixture(scope="session")
def stress_dataset(tmp_path_factory) -> dict:
    """Periodic Cu/Au data with stress, as a mace-torch user has them: 10 training frames
    (config_type bulk or strained) with the two IsolatedAtom frames in the same file, and a
    4-frame test file."""
    root = tmp_path_factory.mktemp("cuau")
    rng = np.random.default_rng(11)
    train = [isolated_atom("Cu"), isolated_atom("Au")]
    train += [cu_au_frame(rng, "bulk" if k % 2 else "strained") for k in range(10)]
    test = [cu_au_frame(rng, "bulk") for _ in range(4)]
    ase.io.write(root / "train.xyz", train, format="extxyz")
    ase.io.write(root / "test.xyz", test, format="extxyz")
    return {"train": root / "train.xyz", "test": root / "test.xyz"}


@pytest.fixture(scope="session")
def stress_config(stress_dataset) -> Callable[..., Path]:
    """stress_config(directory, **changes): the tiny model on the Cu/Au data, stress trained."""
    return _config_writer(lambda directory: {
        "output_dir": str(directory / "run"),
        "data": {"train_file": str(stress_dataset["train"]), "test_file": str(stress_dataset["test"]),
                 "energy_key": "REF_energy", "forces_key": "REF_forces", "stress_key": "REF_stress",
                 "n_valid": 3},
        "model": {"r_max": 3.0},
        "optim": {"max_epochs": 2, "stress_weight": 10.0}})


@pytest.fixture(scope="session")
def stress_run(tmp_path_factory, stress_config, gaunt_md) -> Path:
    """A 2-epoch run on the Cu/Au data with stress and a test file (its output directory)."""
    directory = tmp_path_factory.mktemp("stress_run")
    assert gaunt_md("train", stress_config(directory)) == 0
    return directory / "run"


@pytest.fixture
def one_composition(tmp_path):
    """Every frame CH (EMT labels): least squares cannot tell C from H. (path, frames)"""
    frames = []
    for k in range(6):
        atoms = Atoms("CH", positions=[[0, 0, 0], [0, 0, 1.0 + 0.05 * k]])
        atoms.calc = EMT()
        atoms.get_potential_energy()
        frames.append(atoms)
    path = tmp_path / "ch.xyz"
    ase.io.write(path, frames, format="extxyz")
    return path, frames
