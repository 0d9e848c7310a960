"""Physical and technical invariants of GauntMACE.

`ModelChecks` holds every check; each `Test*` class at the bottom picks one small model
configuration (degrees, body order, Gaunt route) and inherits all of them.  Checks that take
the `model` fixture run in float32 and float64; derivative checks against finite differences
use the float64 model only.  Graphs are built here with vesin directly, so these tests do not
depend on gaunt_md.data.
"""
from __future__ import annotations

import copy
from typing import Dict, List

import numpy as np
import pytest
import torch
import vesin
from ase import Atoms
from ase.build import molecule

import gaunt_md  # noqa: F401  (registers torch.ops.gaunt_md, which torch.jit.load needs)
from gaunt_md.data import ModelInputs, single_graph_inputs
from gaunt_md.nn import GauntMACE, ModelConfig
from tests.helpers import random_rotation

ATOMIC_NUMBERS = [1, 6, 7, 8]
E0S = {1: -1.1, 6: -3.2, 7: -2.5, 8: -4.3}
# scale and shift away from 1 and 0 so that their handling is exercised too
COMMON = dict(
    atomic_numbers=ATOMIC_NUMBERS, e0s=E0S, avg_num_neighbors=5.0, channels=8, radial_hidden=[16],
    readout_hidden=8, num_interactions=2, scale=1.3, shift=0.4,
)
DTYPES = {"float32": torch.float32, "float64": torch.float64}


# --- structures and graphs -----------------------------------------------------------------

def rattled_ethanol() -> Atoms:
    atoms = molecule("CH3CH2OH")
    atoms.rattle(0.05, seed=0)
    return atoms


def random_cluster(seed: int = 1, n: int = 7, box: float = 3.0, min_distance: float = 0.9) -> Atoms:
    rng = np.random.default_rng(seed)
    positions: List[np.ndarray] = []
    while len(positions) < n:
        p = rng.uniform(0.0, box, 3)
        if all(np.linalg.norm(p - q) > min_distance for q in positions):
            positions.append(p)
    return Atoms(numbers=rng.choice(ATOMIC_NUMBERS, n), positions=positions)


def periodic_cell() -> Atoms:
    """Four atoms in a triclinic cell shorter than r_max: atoms see their own images."""
    cell = np.array([[3.6, 0.0, 0.0], [0.4, 3.8, 0.0], [-0.3, 0.5, 3.9]])
    rng = np.random.default_rng(2)
    while True:
        atoms = Atoms("CNOH", scaled_positions=rng.uniform(size=(4, 3)), cell=cell, pbc=True)
        distances = atoms.get_all_distances(mic=True)
        if distances[np.triu_indices(4, 1)].min() > 1.0:
            return atoms


STRUCTURES = {"ethanol": rattled_ethanol, "cluster": random_cluster, "periodic": periodic_cell}


def graph(atoms: Atoms, r_max: float, dtype: torch.dtype = torch.float64) -> Dict:
    periodic = bool(atoms.pbc.any())
    cell = np.asarray(atoms.cell.array, dtype=np.float64)
    i, j, S = vesin.NeighborList(cutoff=r_max, full_list=True).compute(
        points=atoms.positions, box=cell if periodic else np.zeros((3, 3)), periodic=periodic, quantities="ijS"
    )
    index = {z: k for k, z in enumerate(ATOMIC_NUMBERS)}
    return dict(
        positions=torch.tensor(atoms.positions, dtype=dtype),
        species=torch.tensor([index[int(z)] for z in atoms.numbers], dtype=torch.long),
        edge_index=torch.tensor(np.stack([i, j]).astype(np.int64)).reshape(2, -1),
        shifts=torch.tensor(S.astype(np.float64) @ cell, dtype=dtype).reshape(-1, 3),
        batch=torch.zeros(len(atoms), dtype=torch.long),
        cell=torch.tensor(cell, dtype=dtype)[None],
        num_graphs=1,
    )


def batched(graphs: List[Dict]) -> Dict:
    offsets = np.cumsum([0] + [len(g["species"]) for g in graphs])
    return dict(
        positions=torch.cat([g["positions"] for g in graphs]),
        species=torch.cat([g["species"] for g in graphs]),
        edge_index=torch.cat([g["edge_index"] + int(o) for g, o in zip(graphs, offsets)], dim=1),
        shifts=torch.cat([g["shifts"] for g in graphs]),
        batch=torch.cat([torch.full((len(g["species"]),), k, dtype=torch.long) for k, g in enumerate(graphs)]),
        cell=torch.cat([g["cell"] for g in graphs]),
        num_graphs=len(graphs),
    )


def evaluate(model, g: Dict, forces: bool = True, stress: bool = False, training: bool = False) -> Dict:
    # the same call for eager and TorchScript models.  The clone keeps the model's
    # requires_grad_ on the positions away from the caller's tensor.
    inputs = ModelInputs(**dict(g, positions=g["positions"].clone()))
    out = model(inputs, compute_forces=forces, compute_stress=stress, training=training)
    return out if training else {key: value.detach() for key, value in out.items()}


def energy(model, atoms: Atoms) -> float:
    dtype = model.e0.dtype
    return float(evaluate(model, graph(atoms, model.r_max, dtype), forces=False)["energy"].sum())


def assert_close(actual: torch.Tensor, expected, dtype: torch.dtype, rtol: float = None) -> None:
    """Agreement to the rounding of `dtype`, relative to the largest entry of `expected`."""
    expected = torch.as_tensor(expected).detach().to(torch.float64)
    if rtol is None:
        rtol = 1e-10 if dtype == torch.float64 else 2e-5
    atol = rtol * max(float(expected.abs().max()) if expected.numel() else 0.0, 1.0)
    torch.testing.assert_close(actual.detach().to(torch.float64), expected, rtol=rtol, atol=atol)


# --- the checks ----------------------------------------------------------------------------

class ModelChecks:
    """Every model configuration must pass these; subclasses set `config`."""

    config: dict = {}
    # TorchScript against eager in float32: the same kernels agree to ~1e-7; see the rank-two class
    script_rtol_float32 = 1e-6

    @pytest.fixture(scope="class")
    @classmethod
    def model64(cls) -> GauntMACE:
        torch.manual_seed(0)
        return GauntMACE(ModelConfig(**COMMON, **cls.config))

    @pytest.fixture(scope="class", params=list(DTYPES), ids=list(DTYPES))
    @classmethod
    def model(cls, request, model64) -> GauntMACE:
        return copy.deepcopy(model64).to(DTYPES[request.param])

    @pytest.fixture(params=list(STRUCTURES))
    def atoms(self, request) -> Atoms:
        return STRUCTURES[request.param]()

    # symmetries

    @pytest.mark.parametrize("improper", [False, True], ids=["rotation", "reflection"])
    def test_rotation_and_reflection(self, model, atoms, improper):
        dtype = model.e0.dtype
        q = random_rotation(3).numpy() * (-1.0 if improper else 1.0)
        moved = atoms.copy()
        moved.positions = atoms.positions @ q.T
        moved.cell = atoms.cell.array @ q.T
        periodic = bool(atoms.pbc.any())
        ref = evaluate(model, graph(atoms, model.r_max, dtype), stress=periodic)
        out = evaluate(model, graph(moved, model.r_max, dtype), stress=periodic)
        q = torch.tensor(q)
        assert_close(out["energy"], ref["energy"], dtype)
        assert_close(out["node_energy"], ref["node_energy"], dtype)
        assert_close(out["forces"], ref["forces"].double() @ q.T, dtype)
        if periodic:
            assert_close(out["stress"][0], q @ ref["stress"][0].double() @ q.T, dtype)

    def test_translation(self, model, atoms):
        dtype = model.e0.dtype
        moved = atoms.copy()
        moved.positions += np.array([1.3, -0.7, 2.1])
        if atoms.pbc.any():
            moved.wrap()  # other periodic shifts, same structure
        stress = bool(atoms.pbc.any())
        ref = evaluate(model, graph(atoms, model.r_max, dtype), stress=stress)
        out = evaluate(model, graph(moved, model.r_max, dtype), stress=stress)
        # float32 positions round differently at the moved origin (~1e-7 A); where the ZBL term
        # is stiff (a rattled contact, ~70 eV/A^2) the forces move by ~1e-5 of their largest
        rtol = None if dtype == torch.float64 else 1e-4
        for key in ["energy", "node_energy", "forces"] + (["stress"] if stress else []):
            assert_close(out[key], ref[key], dtype, rtol=rtol)

    def test_permutation(self, model, atoms):
        dtype = model.e0.dtype
        perm = np.random.default_rng(4).permutation(len(atoms))
        ref = evaluate(model, graph(atoms, model.r_max, dtype))
        out = evaluate(model, graph(atoms[perm], model.r_max, dtype))
        assert_close(out["energy"], ref["energy"], dtype)
        assert_close(out["node_energy"], ref["node_energy"][perm], dtype)
        assert_close(out["forces"], ref["forces"][perm], dtype)

    # derivatives

    def test_forces_are_minus_energy_gradient(self, model64, atoms):
        forces = evaluate(model64, graph(atoms, model64.r_max))["forces"]
        h = 1e-4
        numeric = torch.zeros_like(forces)
        for a in range(len(atoms)):
            for k in range(3):
                e = []
                for step in (h, -h):
                    moved = atoms.copy()
                    moved.positions[a, k] += step
                    e.append(energy(model64, moved))
                numeric[a, k] = -(e[0] - e[1]) / (2 * h)
        assert forces.abs().max() > 1e-3  # a non-trivial comparison
        assert_close(forces, numeric, torch.float64, rtol=1e-6)

    def test_stress_is_strain_derivative(self, model64):
        atoms = periodic_cell()
        g = graph(atoms, model64.r_max)
        assert (g["edge_index"][0] == g["edge_index"][1]).any(), "cell should be smaller than the cutoff"
        out = evaluate(model64, g, stress=True)
        volume = atoms.get_volume()
        h = 1e-4
        numeric = torch.zeros(3, 3, dtype=torch.float64)
        for a in range(3):
            for b in range(3):
                e = []
                for step in (h, -h):
                    strain = np.eye(3)
                    strain[a, b] += step / 2
                    strain[b, a] += step / 2
                    strained = atoms.copy()
                    strained.set_cell(atoms.cell.array @ strain, scale_atoms=True)
                    e.append(energy(model64, strained))
                numeric[a, b] = (e[0] - e[1]) / (2 * h) / volume
        assert numeric.abs().max() > 1e-4
        assert_close(out["stress"][0], numeric, torch.float64, rtol=1e-6)
        assert_close(out["virial"][0], -volume * out["stress"][0], torch.float64)

    def test_force_loss_gradient_matches_finite_differences(self, model64):
        """Training on forces: the double backward reaches every parameter and is correct."""
        model = copy.deepcopy(model64)
        g = graph(rattled_ethanol(), model.r_max)
        target = torch.randn(g["positions"].shape, dtype=torch.float64, generator=torch.Generator().manual_seed(5))

        def loss(training: bool) -> torch.Tensor:
            return (evaluate(model, g, training=training)["forces"] - target).pow(2).sum()

        model.zero_grad()
        loss(training=True).backward()
        for name, p in model.named_parameters():
            assert p.grad is not None and torch.isfinite(p.grad).all(), name
            k = int(p.grad.abs().argmax())
            analytic = float(p.grad.view(-1)[k])
            original = float(p.detach().view(-1)[k])
            h = 1e-5 * max(1.0, abs(original))
            values = []
            for step in (h, -h):
                with torch.no_grad():
                    p.view(-1)[k] = original + step
                values.append(float(loss(training=False)))
            with torch.no_grad():
                p.view(-1)[k] = original
            numeric = (values[0] - values[1]) / (2 * h)
            assert abs(analytic) > 1e-8, f"{name} does not influence the force loss"
            assert abs(numeric - analytic) <= 1e-5 * abs(analytic) + 1e-8, (name, analytic, numeric)

    # locality and the reference energies

    def test_smooth_across_cutoff(self, model64):
        """A C atom leaves an O-H pair through r_max: energy and forces are continuous at the
        crossing, and beyond it the energy is exactly the pair's plus E0(C), with no force on C."""
        r_max = model64.r_max
        direction = np.array([-1.0, 0.3, 0.2]) / np.linalg.norm([-1.0, 0.3, 0.2])  # away from the H

        def trio(distance: float) -> Atoms:
            return Atoms("OHC", positions=[[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], distance * direction])

        pair = evaluate(model64, graph(Atoms("OH", positions=[[0.0, 0.0, 0.0], [0.96, 0.0, 0.0]]), r_max))
        energy_jumps, force_jumps = [], []
        for delta in (1e-2, 1e-3, 1e-4):
            inside = evaluate(model64, graph(trio(r_max - delta), r_max))
            g_out = graph(trio(r_max + delta), r_max)
            assert g_out["edge_index"].shape[1] == 2  # only the O-H pair is left
            outside = evaluate(model64, g_out)
            energy_jumps.append(float((inside["energy"] - outside["energy"]).abs()))
            force_jumps.append(float((inside["forces"] - outside["forces"]).abs().max()))
            assert_close(outside["energy"], pair["energy"] + E0S[6] + COMMON["shift"], torch.float64, rtol=1e-14)
            assert_close(outside["forces"][:2], pair["forces"], torch.float64, rtol=1e-14)
            assert torch.all(outside["forces"][2] == 0)
        near = evaluate(model64, graph(trio(r_max - 0.3), r_max))
        assert abs(float(near["energy"] - pair["energy"]) - E0S[6] - COMMON["shift"]) > 1e-6  # C does interact
        # the jumps vanish with the step: the envelope makes the energy ~ delta^3 near r_max and
        # the forces ~ delta^2; ask for orders of at least 2 and 1.5 (a kink or jump gives 1 or 0)
        for jumps, factor in ((energy_jumps, 1e-2), (force_jumps, 10 ** -1.5)):
            assert jumps[1] <= factor * jumps[0] + 1e-14 and jumps[2] <= factor * jumps[1] + 1e-14, jumps
        assert energy_jumps[-1] < 1e-9 and force_jumps[-1] < 1e-6

    def test_isolated_atoms_give_e0(self, model):
        """An atom without neighbours has its reference energy E0 plus the constant
        shift, and no force: every block is bias free, so nothing else survives without edges."""
        dtype = model.e0.dtype
        shift = torch.tensor(COMMON["shift"], dtype=dtype)
        for z in ATOMIC_NUMBERS:
            out = evaluate(model, graph(Atoms(numbers=[z]), model.r_max, dtype))
            # to rounding: the order of the two additions (or a fused multiply-add) depends on the CPU
            expected = float(torch.tensor(E0S[z], dtype=dtype) + shift)
            assert float(out["energy"][0]) == pytest.approx(expected, rel=4 * torch.finfo(dtype).eps, abs=0), z
            assert torch.all(out["forces"] == 0)
        spread = Atoms(numbers=ATOMIC_NUMBERS, positions=[[3.0 * model.r_max * k, 0, 0] for k in range(4)])
        out = evaluate(model, graph(spread, model.r_max, dtype))
        expected = torch.tensor([E0S[z] for z in ATOMIC_NUMBERS], dtype=dtype) + shift
        assert torch.equal(out["node_energy"].detach(), expected)

    def test_far_apart_molecules_add_up(self, model):
        dtype = model.e0.dtype
        a, b = rattled_ethanol(), random_cluster()
        b.positions += [a.positions[:, 0].max() - b.positions[:, 0].min() + model.r_max + 0.5, 0.0, 0.0]
        parts = [evaluate(model, graph(m, model.r_max, dtype)) for m in (a, b)]
        whole = evaluate(model, graph(a + b, model.r_max, dtype))
        assert_close(whole["energy"], parts[0]["energy"] + parts[1]["energy"], dtype)
        for key in ("node_energy", "forces"):
            assert_close(whole[key], torch.cat([parts[0][key], parts[1][key]]), dtype)

    def test_forward_local_skips_far_ghosts_without_changing_anything(self, model):
        """Domain decomposition (LAMMPS): owned atoms first, then ghosts.  forward_local runs
        each layer on the edges and nodes the owned atoms' energies need only; the result must
        equal running every layer on every edge and node, and the far ghosts must be dropped."""
        dtype = model.e0.dtype
        atoms = random_cluster(seed=5, n=40, box=8.0, min_distance=1.0)
        order = np.argsort(atoms.positions[:, 0])  # owned = the 8 atoms with the smallest x
        g = graph(atoms[order], model.r_max, dtype)
        num_local, edges = 8, g["edge_index"].shape[1]
        layer_edges, layer_nodes = model._local_layers(g["edge_index"], len(atoms), num_local)
        kept = [int(k.numel()) for k in layer_edges]
        assert kept == sorted(kept, reverse=True) and kept[0] < edges, (kept, edges)  # fewer in later layers
        updated = [int(k.numel()) for k in layer_nodes]
        assert updated == sorted(updated, reverse=True) and updated[-1] == num_local, updated
        inputs = single_graph_inputs(g["positions"], g["species"], g["edge_index"])
        pruned = model.forward_local(inputs, num_local, compute_virial=True)
        everything = copy.copy(model)
        everything._local_layers = lambda edge_index, n, local: ([torch.arange(edges)] * model.num_interactions,
                                                                 [torch.arange(n)] * model.num_interactions)
        full = everything.forward_local(inputs, num_local, compute_virial=True)
        scripted = torch.jit.script(model).forward_local(inputs, num_local, compute_virial=True)
        for key in ("energy", "node_energy", "forces", "virial", "atom_virial"):
            assert_close(pruned[key], full[key], dtype)
            assert_close(scripted[key], full[key], dtype)
        assert float(full["forces"][num_local:].abs().max()) > 0  # ghosts do carry forces

    def test_forward_local_with_every_atom_owned_is_forward(self, model):
        """The two entry points of the contract agree: forward_local with num_local = N on a
        batch of graphs (shifts included) gives forward's per-graph energies, node energies,
        forces and virials; the per-atom virials sum to the virial."""
        dtype = model.e0.dtype
        g = batched([graph(s, model.r_max, dtype) for s in (periodic_cell(), rattled_ethanol(), random_cluster())])
        inputs = ModelInputs(**g)
        full = evaluate(model, g, stress=True)
        local = model.forward_local(inputs, len(g["species"]), compute_virial=True)
        for key in ("energy", "node_energy", "forces", "virial"):
            assert local[key].shape == full[key].shape, key
            assert_close(local[key].detach(), full[key], dtype)
        per_graph = torch.zeros_like(local["virial"]).index_add(0, g["batch"], local["atom_virial"])
        assert_close(per_graph.detach(), full["virial"], dtype)

    # batching, precision, TorchScript

    def test_batch_matches_single_graphs(self, model):
        dtype = model.e0.dtype
        graphs = [graph(s, model.r_max, dtype) for s in (rattled_ethanol(), periodic_cell(), Atoms("N"), random_cluster())]
        singles = [evaluate(model, g, stress=True) for g in graphs]
        together = evaluate(model, batched(graphs), stress=True)
        assert_close(together["energy"], torch.cat([s["energy"] for s in singles]), dtype)
        for key in ("node_energy", "forces"):
            assert_close(together[key], torch.cat([s[key] for s in singles]), dtype)
        assert_close(together["virial"], torch.cat([s["virial"] for s in singles]), dtype)
        assert_close(together["stress"][1], singles[1]["stress"][0], dtype)  # the periodic one

    def test_float32_matches_float64(self, model64, atoms):
        model32 = copy.deepcopy(model64).to(torch.float32)
        ref = evaluate(model64, graph(atoms, model64.r_max, torch.float64), stress=bool(atoms.pbc.any()))
        out = evaluate(model32, graph(atoms, model64.r_max, torch.float32), stress=bool(atoms.pbc.any()))
        assert out["energy"].dtype == out["forces"].dtype == torch.float32
        e0 = model64.e0[graph(atoms, model64.r_max)["species"]]
        # compare the learned part, not just the E0-dominated total
        assert_close(out["node_energy"] - e0, ref["node_energy"] - e0, torch.float32, rtol=1e-4)
        for key in ("energy", "forces") + (("stress",) if atoms.pbc.any() else ()):
            assert_close(out[key], ref[key], torch.float32, rtol=1e-4)

    @pytest.mark.filterwarnings("ignore:`torch.jit.:DeprecationWarning")
    def test_torchscript_and_save_load(self, model, tmp_path):
        dtype = model.e0.dtype
        scripted = torch.jit.script(model)
        path = tmp_path / "model.pt"
        torch.jit.save(scripted, str(path))
        loaded = torch.jit.load(str(path))
        g = batched([graph(periodic_cell(), model.r_max, dtype), graph(rattled_ethanol(), model.r_max, dtype)])
        ref = evaluate(model, g, stress=True)
        tight = 1e-12 if dtype == torch.float64 else self.script_rtol_float32
        for candidate in (scripted, loaded):
            out = evaluate(candidate, g, stress=True)
            for key in ("energy", "node_energy", "forces", "stress"):
                assert out[key].dtype == dtype
                assert_close(out[key], ref[key], dtype, rtol=tight)


# --- the configurations ---------------------------------------------------------------------

class TestBodyOrder4Dense(ModelChecks):
    """Four-body features (correlation 3) of the power basis, vector hidden features, the dense
    reference route, no pair repulsion."""
    config = dict(max_ell=2, hidden_lmax=1, correlation=3, r_max=4.0, gaunt_method="dense", product_basis="power",
                  pair_repulsion="none")


class TestHigherDegreeFourier(ModelChecks):
    """Edge harmonics to l = 3, l <= 2 hidden features, the 2D-Fourier route."""
    config = dict(max_ell=3, hidden_lmax=2, correlation=2, r_max=4.2, gaunt_method="fourier", product_basis="power")


def zbl_pair_energy(z1: int, z2: int, r: float) -> float:
    """The ZBL pair energy written out independently of the model's code (constants of ZBL 1985)."""
    from ase.data import covalent_radii
    a = 0.46850 / (z1 ** 0.23 + z2 ** 0.23)
    x = r / a
    phi = (0.18175 * np.exp(-3.19980 * x) + 0.50986 * np.exp(-0.94229 * x) + 0.28022 * np.exp(-0.40290 * x)
           + 0.02817 * np.exp(-0.20162 * x))
    u = r / (covalent_radii[z1] + covalent_radii[z2])
    envelope = (1 - 28 * u**6 + 48 * u**7 - 21 * u**8) if u < 1 else 0.0
    return 14.399645 * z1 * z2 / r * phi * envelope


class TestZBLRepulsion(ModelChecks):
    """The ZBL prior on the grid route of the power basis: every invariant above holds with the
    pair term active, and the term is the ZBL formula."""
    config = dict(max_ell=2, hidden_lmax=1, correlation=3, r_max=4.0, gaunt_method="grid", product_basis="power",
                  pair_repulsion="zbl")

    def test_pair_term_is_zbl(self, model64):
        """Same weights with and without the prior: the difference is the ZBL energy, split half
        and half between the two atoms, zero beyond the sum of the covalent radii, and tens of
        eV at 0.5 A."""
        plain = copy.deepcopy(model64)
        plain.zbl = None
        for pair in ("CH", "HH", "NO", "CC"):
            z1, z2 = Atoms(pair).numbers
            for r in (0.3, 0.5, 0.8, 1.1, 1.5, 2.0):
                dimer = Atoms(pair, positions=[[0, 0, 0], [r, 0, 0]])
                g = graph(dimer, model64.r_max)
                difference = (evaluate(model64, g, forces=False)["node_energy"]
                              - evaluate(plain, g, forces=False)["node_energy"])
                expected = zbl_pair_energy(int(z1), int(z2), r)
                torch.testing.assert_close(difference, torch.full((2,), expected / 2, dtype=torch.float64),
                                           rtol=1e-10, atol=1e-12)
        assert zbl_pair_energy(6, 1, 0.5) > 10.0 and zbl_pair_energy(6, 1, 1.09) == 0.0


class TestRadialFloor(ModelChecks):
    """Radial floors that the test structures cross (H-H at 1.3 A, C-H at 1.0 A, C-C at 1.45 A,
    the others at 1.1 A): every invariant holds with the bound active."""
    config = dict(max_ell=2, hidden_lmax=1, correlation=2, r_max=4.0, product_basis="factors",
                  radial_floor={"1-1": 1.3, "1-6": 1.0, "6-6": 1.45, "1-7": 1.1, "1-8": 1.1, "6-7": 1.1,
                                "6-8": 1.1, "7-7": 1.1, "7-8": 1.1, "8-8": 1.1})

    @staticmethod
    def _dimer_energy(model, pair: str, r: float) -> float:
        return energy(model, Atoms(pair, positions=[[0, 0, 0], [r, 0, 0]]))

    def test_network_is_blind_below_the_floor_and_unchanged_above(self, model64):
        """Without ZBL, a dimer's energy is flat below its pair's floor (the radial basis sees
        the floor) and, well above it, equals the same weights' energy without any floor."""
        network = copy.deepcopy(model64)
        network.zbl = None
        bare = copy.deepcopy(network)
        bare.radial_floor = None
        for pair, floor in (("HH", 1.3), ("CH", 1.0)):
            inside = [self._dimer_energy(network, pair, r) for r in (0.3, 0.5, 0.7)]
            assert max(inside) - min(inside) < 1e-5
            assert abs(inside[0] - self._dimer_energy(bare, pair, 0.3)) > 1e-3  # the floor did act
            for r in (floor + 0.6, 2.5, 3.5):
                assert self._dimer_energy(network, pair, r) == pytest.approx(self._dimer_energy(bare, pair, r),
                                                                             abs=1e-7)

    def test_zbl_owns_the_range_below_the_floor(self, model64):
        """The ZBL envelope ends at the pair's floor: an H-H pair (radii sum 0.62 A, floor 1.3 A)
        is repelled at 1.0 A, not at 1.3 A."""
        zbl = model64.zbl
        h = torch.zeros(1, dtype=torch.long)
        pair = lambda r: float(zbl.pair_energy(torch.tensor([r], dtype=torch.float64), h, h))
        assert pair(1.3) == 0.0 and pair(1.5) == 0.0
        assert 0.0 < pair(1.2) < pair(1.0) < pair(0.7)
        assert zbl_pair_energy(1, 1, 1.0) == 0.0  # the plain ZBL of the covalent radii would not


class TestFactorProductBasis(ModelChecks):
    """The factor product basis (the default) with the ZBL prior, its per-element factor
    weights away from their initial ones."""
    config = dict(max_ell=2, hidden_lmax=1, correlation=3, r_max=4.0, product_basis="factors")

    @pytest.fixture(scope="class")
    @classmethod
    def model64(cls) -> GauntMACE:
        torch.manual_seed(0)
        model = GauntMACE(ModelConfig(**COMMON, **cls.config))
        with torch.no_grad():
            for layer in model.layers:
                s = layer.product.factor_species_weights
                s.copy_(1.0 + 0.3 * torch.randn(s.shape, dtype=s.dtype))
        return model


class TestFactorProductRankTwo(ModelChecks):
    """The factor basis with two terms per body order (`product_rank: 2`): every invariant holds."""
    config = dict(max_ell=2, hidden_lmax=1, correlation=3, r_max=4.0, product_basis="factors", product_rank=2)
    # energies agree exactly; forces and stress (1e12 on the compressed test cell) by 4.6e-6 and
    # 4.7e-5 of the largest (measured, 2 threads): TorchScript's autodiff sums the gradients of
    # the R copies of a factor in another order than eager autograd.  That is float32 rounding,
    # as large as float32's own error against float64 here (5.8e-6 and 5.9e-5).
    script_rtol_float32 = 2e-4


class TestSeparatePaths(ModelChecks):
    """Each coupling path of the interaction with its own output channels (`separate_paths`)."""
    config = dict(max_ell=2, hidden_lmax=1, correlation=2, r_max=4.0, product_basis="factors", separate_paths=True)


class TestMaceLikeOptions(ModelChecks):
    """The options closer to mace-torch (normalised radial MLP, first-layer skip with the bare-atom
    share subtracted, ZBL ending at the radial floor): every invariant above holds with them."""
    config = dict(max_ell=2, hidden_lmax=1, correlation=3, r_max=4.0, product_basis="factors",
                  radial_parametrisation="normalized", first_layer_skip=True, zbl_cutoff="floor",
                  radial_floor={"1-1": 1.3, "1-6": 1.0, "6-6": 1.45, "1-7": 1.1, "1-8": 1.1, "6-7": 1.1,
                                "6-8": 1.1, "7-7": 1.1, "7-8": 1.1, "8-8": 1.1})
