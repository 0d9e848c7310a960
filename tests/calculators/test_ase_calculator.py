"""GauntCalculator: derivatives against finite differences, symmetry and periodic-image
invariances, limiting cases, agreement with the model it wraps, ASE caching, clear errors and
committees.  Checks that compare two routes run in float32 and float64; finite differences
use float64 only."""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.calculators.calculator import PropertyNotImplementedError
from ase.calculators.fd import calculate_numerical_forces, calculate_numerical_stress
from ase.stress import voigt_6_to_full_3x3_stress

from gaunt_md.calculators import GauntCalculator

from fixtures import (E0S, R_MAX, assert_close, predict, random_cluster, random_periodic, random_rotation,
                      tolerance)


def two_atom_cell() -> Atoms:
    """A 2.5 A triclinic cell, much smaller than r_max = 4 A: each atom sees many images of
    itself and of the other atom."""
    cell = [[2.5, 0.0, 0.0], [0.3, 2.6, 0.0], [-0.2, 0.4, 2.45]]
    return Atoms("CO", scaled_positions=[[0.0, 0.0, 0.0], [0.5, 0.45, 0.55]], cell=cell, pbc=True)


def slab() -> Atoms:
    """Periodic in a and b only; the c vector plays no role."""
    atoms = random_periodic(seed=5, n=5)
    atoms.pbc = [True, True, False]
    return atoms


STRUCTURES = {
    "cluster": lambda: random_cluster(seed=0, n=7),
    "periodic": lambda: random_periodic(seed=2, n=5),
    "small-cell": two_atom_cell,
    "slab": slab,
}
PERIODIC = ["periodic", "small-cell", "slab"]


def evaluate(calc: GauntCalculator, atoms: Atoms, properties: Sequence[str] = ("energy", "forces", "energies"),
             stress: Optional[bool] = None) -> Dict[str, np.ndarray]:
    """The properties of `atoms`, plus the stress as 3x3 (by default where any direction is
    periodic)."""
    atoms = atoms.copy()
    atoms.calc = calc
    stress = bool(atoms.pbc.any()) if stress is None else stress
    properties = list(properties) + (["stress"] if stress else [])
    out = {name: np.array(calc.get_property(name, atoms)) for name in properties}
    if "stress" in out:
        out["stress"] = voigt_6_to_full_3x3_stress(out["stress"])
    return out


def model_results(model, atoms: Atoms, dtype: str) -> Dict[str, np.ndarray]:
    """What evaluate() should give, from a direct call of the (eager) model."""
    out = predict(model, atoms, dtype, stress=bool(atoms.pbc.any()))
    out["energies"] = out.pop("node_energy")
    return out


def assert_same(out: dict, ref: dict, dtype: str, what: str = "") -> None:
    assert set(out) == set(ref)
    for key in ref:
        assert_close(out[key], ref[key], tolerance(dtype, key), f"{what} {key}")


@pytest.fixture
def calc(calculators, dtype) -> GauntCalculator:
    return calculators(dtype)


@pytest.fixture
def calc64(calculators) -> GauntCalculator:
    return calculators("float64")


# --- derivatives ----------------------------------------------------------------------------

@pytest.mark.parametrize("structure", list(STRUCTURES))
def test_forces_match_finite_differences(structure, calc64):
    atoms = STRUCTURES[structure]()
    atoms.calc = calc64
    forces = atoms.get_forces()
    assert np.abs(forces).max() > 1e-2, "forces too small to test anything"
    assert_close(forces, calculate_numerical_forces(atoms, eps=1e-4), 1e-6, "forces vs finite differences")


@pytest.mark.parametrize("structure", PERIODIC)
def test_stress_matches_finite_strain(structure, calc64):
    atoms = STRUCTURES[structure]()
    atoms.calc = calc64
    stress = atoms.get_stress()
    assert np.abs(stress).max() > 1e-4, "stress too small to test anything"
    assert_close(stress, calculate_numerical_stress(atoms, eps=1e-5), 1e-6, "stress vs finite strain")


# --- invariances ----------------------------------------------------------------------------

@pytest.mark.parametrize("structure", list(STRUCTURES))
def test_rotation(structure, calc, dtype):
    """Energy invariant, forces rotate with the structure, stress as R S R^T."""
    atoms = STRUCTURES[structure]()
    R = random_rotation(11).numpy()
    rotated = atoms.copy()
    rotated.positions = atoms.positions @ R.T
    rotated.cell = atoms.cell.array @ R.T
    ref = evaluate(calc, atoms)
    expected = dict(ref, forces=ref["forces"] @ R.T)
    if "stress" in ref:
        expected["stress"] = R @ ref["stress"] @ R.T
    assert_same(evaluate(calc, rotated), expected, dtype, "rotated")


@pytest.mark.parametrize("structure", list(STRUCTURES))
def test_translation_and_permutation(structure, calc, dtype):
    atoms = STRUCTURES[structure]()
    ref = evaluate(calc, atoms)
    moved = atoms.copy()
    moved.positions += [0.7, -1.9, 3.1]
    assert_same(evaluate(calc, moved), ref, dtype, "translated")
    order = np.random.default_rng(0).permutation(len(atoms))
    permuted = atoms[order]
    expected = {k: (v[order] if k in ("forces", "energies") else v) for k, v in ref.items()}
    assert_same(evaluate(calc, permuted), expected, dtype, "permuted")


def test_molecule_in_large_periodic_box(calc, dtype):
    molecule = random_cluster(seed=3, n=6)
    boxed = molecule.copy()
    boxed.cell = np.diag([3.5 + R_MAX + 1.0] * 3)  # extent + cutoff + margin: no image in range
    boxed.pbc = True
    out = evaluate(calc, boxed)
    assert np.abs(out.pop("stress")).max() > 0
    assert_same(out, evaluate(calc, molecule), dtype, "boxed")


@pytest.mark.parametrize("repeat", [(2, 1, 1), (2, 2, 3)])
def test_cell_smaller_than_cutoff_equals_supercell(repeat, calc, dtype):
    cell = two_atom_cell()
    ref = evaluate(calc, cell)
    images = int(np.prod(repeat))
    expected = {"energy": ref["energy"] * images, "forces": np.tile(ref["forces"], (images, 1)),
                "energies": np.tile(ref["energies"], images), "stress": ref["stress"]}
    assert_same(evaluate(calc, cell.repeat(repeat)), expected, dtype, f"supercell {repeat}")


def test_mixed_boundaries(calc, dtype):
    """A slab (pbc in a, b) equals the same atoms fully periodic with a c vector so long that
    no image along it is in range, and its 2x3x1 supercell has the same energy per atom."""
    atoms = slab()
    out = evaluate(calc, atoms)
    far = atoms.copy()
    far.cell[2] = [0.0, 0.0, 40.0]
    far.pbc = True
    reference = evaluate(calc, far)
    # same geometry and forces; the stress differs by the volume used (c vector is arbitrary)
    volume_ratio = far.get_volume() / atoms.get_volume()
    assert_same(dict(out, stress=out["stress"] / volume_ratio), reference, dtype, "slab vs long cell")
    supercell = evaluate(calc, atoms.repeat((2, 3, 1)))
    assert_close(supercell["energy"] / 6, out["energy"], tolerance(dtype, "energy"), "slab supercell")


def test_slab_with_zero_c_vector(calc, dtype):
    """The non-periodic cell vector may be zero: same energy and forces; stress undefined."""
    atoms = slab()
    flat = atoms.copy()
    flat.cell[2] = 0.0
    assert_same(evaluate(calc, flat, stress=False), evaluate(calc, atoms, stress=False), dtype, "zero c")
    flat.calc = calc
    with pytest.raises(PropertyNotImplementedError, match="volume"):
        flat.get_stress()


def test_positions_outside_the_cell(calc, dtype):
    """Unwrapped positions (atoms several cells away) are the wrapped structure."""
    atoms = random_periodic(seed=7, n=5)
    ref = evaluate(calc, atoms)
    far = atoms.copy()
    offsets = np.random.default_rng(1).integers(-6, 7, size=(len(atoms), 3))
    far.positions += offsets @ atoms.cell.array
    assert_same(evaluate(calc, far), ref, dtype, "unwrapped")
    far.wrap()
    assert_same(evaluate(calc, far), ref, dtype, "re-wrapped")


# --- limiting cases -------------------------------------------------------------------------

@pytest.mark.parametrize("symbol", ["H", "C", "N", "O"])
def test_single_atom_is_its_e0(symbol, calc, dtype):
    atoms = Atoms(symbol, positions=[[0.3, -0.2, 1.0]])
    out = evaluate(calc, atoms)
    e0 = E0S[atoms.numbers[0]]
    assert_close(out["energy"], e0, tolerance(dtype, "energy"), "energy")
    assert_close(out["energies"], [e0], tolerance(dtype, "energy"), "energies")
    assert np.all(out["forces"] == 0)


@pytest.mark.parametrize("distance", [R_MAX * 1.01, R_MAX + 3.0])
def test_atoms_beyond_the_cutoff_do_not_interact(distance, calc, dtype):
    atoms = Atoms("CO", positions=[[0.0, 0.0, 0.0], [distance, 0.0, 0.0]])
    out = evaluate(calc, atoms)
    assert_close(out["energy"], E0S[6] + E0S[8], tolerance(dtype, "energy"), "energy")
    assert np.all(out["forces"] == 0)


def test_energy_continuous_at_the_cutoff(calc64):
    """Just inside r_max the pair energy has (smoothly) gone to zero already."""
    atoms = Atoms("CO", positions=[[0.0, 0.0, 0.0], [R_MAX * (1 - 1e-3), 0.0, 0.0]])
    out = evaluate(calc64, atoms)
    assert abs(out["energy"] - (E0S[6] + E0S[8])) < 1e-6
    assert np.abs(out["forces"]).max() < 1e-5
    inside = evaluate(calc64, Atoms("CO", positions=[[0.0, 0.0, 0.0], [R_MAX * 0.7, 0.0, 0.0]]))
    assert abs(inside["energy"] - (E0S[6] + E0S[8])) > 1e-4, "the pair should interact inside r_max"


# --- agreement with the model ---------------------------------------------------------------

@pytest.mark.parametrize("structure", list(STRUCTURES))
def test_calculator_equals_direct_model_call(structure, calc, dtype, eager_models):
    atoms = STRUCTURES[structure]()
    assert_same(evaluate(calc, atoms), model_results(eager_models(dtype), atoms, dtype), dtype, "calculator vs model")


@pytest.mark.parametrize("structure", list(STRUCTURES))
def test_atomic_energies_sum_to_energy(structure, calc, dtype):
    out = evaluate(calc, STRUCTURES[structure]())
    assert_close(out["energies"].sum(), out["energy"], tolerance(dtype, "energy"), "sum of energies")
    assert np.ptp(out["energies"]) > 0


class CountingModule:
    """Stands in for a TorchScript module and counts its calls."""

    def __init__(self, module):
        self.module, self.calls = module, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.module(*args, **kwargs)


def test_results_are_cached(calc64, monkeypatch):
    counter = CountingModule(calc64.models[0].module)
    monkeypatch.setattr(calc64.models[0], "module", counter)
    atoms = random_periodic(seed=8)
    atoms.calc = calc64
    energy = atoms.get_potential_energy()
    assert atoms.get_potential_energy() == energy and counter.calls == 1
    atoms.get_forces(), atoms.get_potential_energies()
    assert counter.calls == 1, "forces and atomic energies come with the energy"
    atoms.get_stress(), atoms.get_stress(), atoms.get_potential_energy()
    assert counter.calls == 2, "stress needs one more call, then is cached with the rest"
    atoms.positions[0] += 0.01
    assert atoms.get_potential_energy() != energy and counter.calls == 3


def test_no_global_torch_state_changed(calc, dtype):
    other = torch.float64 if dtype == "float32" else torch.float32
    previous = torch.get_default_dtype(), torch.get_num_threads()
    torch.set_default_dtype(other)
    try:
        evaluate(calc, random_periodic(seed=9))
        assert torch.get_default_dtype() == other
        assert torch.is_grad_enabled()
        assert torch.get_num_threads() == previous[1]
    finally:
        torch.set_default_dtype(previous[0])


@pytest.mark.parametrize("context", [torch.no_grad, torch.inference_mode], ids=["no_grad", "inference_mode"])
def test_works_inside_torch_no_grad(context, calc, dtype):
    """Forces are autograd derivatives: they must not depend on the caller's grad mode."""
    atoms = random_periodic(seed=10)
    ref = evaluate(calc, atoms)
    calc.reset()
    with context():
        assert_same(evaluate(calc, atoms), ref, dtype, context.__name__)


# --- errors -----------------------------------------------------------------------------------

def test_unknown_element(calc64):
    atoms = Atoms("CSi", positions=[[0, 0, 0], [1.5, 0, 0]])
    atoms.calc = calc64
    with pytest.raises(ValueError, match="Si.*H, C, N, O"):
        atoms.get_potential_energy()


def test_nan_positions(calc64):
    atoms = random_cluster(seed=4, n=3)
    atoms.positions[1, 2] = np.nan
    atoms.calc = calc64
    with pytest.raises(ValueError, match="NaN"):
        atoms.get_forces()


def test_stress_of_a_non_periodic_system(calc64):
    atoms = random_cluster(seed=4, n=3)
    atoms.calc = calc64
    with pytest.raises(PropertyNotImplementedError):
        atoms.get_stress()
    assert np.isfinite(atoms.get_potential_energy())


# --- committees -------------------------------------------------------------------------------

def test_committee_mean_and_variance(calculators, eager_models, dtype):
    """Each committee property against the two members evaluated one by one (the periodic
    cell covers every property, stress included)."""
    atoms = STRUCTURES["periodic"]()
    members = [model_results(eager_models(dtype, seed), atoms, dtype) for seed in (0, 1)]
    committee = evaluate(calculators(dtype, (0, 1)), atoms, ("energy", "forces", "energies", "energy_var",
                                                               "forces_var"))
    expected = {key: np.mean([m[key] for m in members], axis=0) for key in members[0]}
    expected["energy_var"] = np.var([m["energy"] for m in members])
    expected["forces_var"] = np.var([m["forces"] for m in members], axis=0)
    assert expected["energy_var"] > 1e-6 and expected["forces_var"].max() > 1e-6, "members should differ"
    # variances are squared differences of members: relative rounding errors grow accordingly
    for key in expected:
        tol = 10 * tolerance(dtype, "forces") if key.endswith("_var") else tolerance(dtype, key)
        assert_close(committee[key], expected[key], tol, f"committee {key}")


def test_committee_members_must_agree(exported, tmp_path):
    # a model that really has another r_max (an edited metadata r_max is refused on loading)
    from gaunt_md.deploy.export import export_model
    from gaunt_md.nn import GauntMACE, ModelConfig
    from fixtures import TINY, write_checkpoint

    checkpoint = write_checkpoint(tmp_path / "other.ckpt", GauntMACE(ModelConfig(**dict(TINY, r_max=R_MAX + 1.0))))
    other = tmp_path / "other.pt"
    export_model(checkpoint, other)
    with pytest.raises(ValueError, match="different elements or r_max"):
        GauntCalculator([str(exported("float64", 0).path), str(other)], device="cpu")
    with pytest.raises(ValueError, match="at least one"):
        GauntCalculator([], device="cpu")
