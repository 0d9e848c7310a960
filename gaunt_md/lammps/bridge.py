"""What `pair_style gaunt` (lammps_plugin/pair_gaunt.cpp) calls: load a model for the
atom types of a LAMMPS run, and evaluate it on one rank's graph.

Arrays travel as raw addresses of C++ buffers (no copies on the way in); results are
written into the buffers the pair style owns."""
from __future__ import annotations

import ctypes
import os
import traceback
from typing import List, Optional, Sequence

import numpy as np
import torch
from ase.data import atomic_numbers as ATOMIC_NUMBERS
from ase.data import chemical_symbols

from ..data.inputs import ModelInputs, single_graph_inputs
from ..deploy import load_model
from ..deploy.guards import OVERLAP_DISTANCE, non_finite, overlapping_edges
from .diagnostics.timing import TIMING_ENV, TimedModel


class InputError(Exception):
    """A problem with the LAMMPS input (model file, elements): reported without traceback."""


def describe_exception(error: BaseException) -> str:
    """Text LAMMPS shows for an exception raised here: the message for input errors,
    the full traceback for anything unexpected."""
    if isinstance(error, InputError):
        return str(error)
    return "Python exception:\n" + "".join(traceback.format_exception(type(error), error, error.__traceback__))


def check_geometry(positions: np.ndarray, edges: np.ndarray) -> None:
    """InputError when two atoms of the rank's graph (owned or ghost) sit on top of each other."""
    pairs = overlapping_edges(positions[edges[1]] - positions[edges[0]], edges)
    if pairs:
        where = "; ".join(f"atoms at {np.array2string(positions[i], precision=4)} and "
                          f"{np.array2string(positions[j], precision=4)}, {d:.2g} A apart" for i, j, d in pairs[:3])
        raise InputError(f"overlapping atoms (closer than {OVERLAP_DISTANCE:g} A): {where}; the model is undefined there")


def check_finite(outputs: dict) -> None:
    """InputError when the model's results hold NaN or infinite values."""
    bad = non_finite(outputs)
    if bad:
        raise InputError(f"the model gave non-finite {', '.join(bad)} (no result is passed to LAMMPS)")


_NUMPY_TYPES = {ctypes.c_double: np.float64, ctypes.c_int64: np.int64}


def _array(address: int, ctype, count: int, shape) -> np.ndarray:
    """A numpy view of `count` C values at `address` (an empty array for count 0)."""
    if count == 0 or address == 0:
        return np.zeros(shape, dtype=_NUMPY_TYPES[ctype])
    return np.ctypeslib.as_array((ctype * count).from_address(address)).reshape(shape)


def species_of_elements(elements: Sequence[str], model_numbers: Sequence[int], path) -> List[int]:
    """Model species index for each LAMMPS atom type, from one element symbol per type."""
    index = {z: i for i, z in enumerate(model_numbers)}
    known = " ".join(chemical_symbols[z] for z in model_numbers)
    species = []
    for t, element in enumerate(elements, start=1):
        z = ATOMIC_NUMBERS.get(element)
        if z is None:
            raise InputError(f"pair_coeff: '{element}' (atom type {t}) is not a chemical element symbol")
        if z not in index:
            raise InputError(f"pair_coeff: element {element} (atom type {t}) is not in model {path}, "
                             f"which knows: {known}")
        species.append(index[z])
    return species


def _limit_threads(nprocs: int) -> None:
    # several MPI ranks on one node each starting a full-width torch thread pool would
    # oversubscribe the cores; honour OMP_NUM_THREADS when the user set it
    if nprocs > 1 and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(1)


class LammpsModel:
    """An exported model bound to the atom types of one LAMMPS run."""

    def __init__(self, path: str, elements: Sequence[str], device: str = "cpu",
                 dtype: Optional[str] = None):
        try:
            self.loaded = load_model(path, device=device, dtype=dtype or None)
        except FileNotFoundError as err:
            raise InputError(str(err)) from err
        except ValueError as err:
            raise InputError(f"cannot use model file {path}: {err}") from err
        self.module = self.loaded.module
        self.device = self.loaded.device
        self.dtype = self.loaded.dtype
        self.r_max = float(self.loaded.r_max)
        self.num_interactions = int(self.loaded.metadata["num_interactions"])
        self.type_species = species_of_elements(elements, self.loaded.atomic_numbers, path)

    def _call_model(self, inputs: ModelInputs, nlocal: int, want_virial: bool):
        return self.module.forward_local(inputs, nlocal, compute_virial=want_virial)

    def compute(self, n: int, nlocal: int, nedges: int, positions: int, species: int, edges: int,
                forces: int, node_energy: int, virial: int, atom_virial: int, want_virial: int) -> float:
        """Evaluate the rank's graph; fill forces [n,3], node_energy [nlocal] and, when
        asked, virial [3,3] and atom_virial [n,3,3]; return the owned atoms' energy."""
        as_t = lambda a, dt: torch.from_numpy(a).to(device=self.device, dtype=dt)  # noqa: E731
        positions_np = _array(positions, ctypes.c_double, 3 * n, (n, 3))
        edges_np = _array(edges, ctypes.c_int64, 2 * nedges, (2, nedges))
        check_geometry(positions_np, edges_np)
        # forces are autograd derivatives: grad mode on, whatever a hosting Python set
        with torch.inference_mode(False), torch.enable_grad():
            # ghosts are atoms of their own: no periodic shifts, no cell
            inputs = single_graph_inputs(as_t(positions_np, self.dtype),
                                         as_t(_array(species, ctypes.c_int64, n, (n,)), torch.long),
                                         as_t(edges_np, torch.long))
            out = self._call_model(inputs, int(nlocal), bool(want_virial))
        results = {"energy": _numpy(out["energy"][0]), "forces": _numpy(out["forces"]),
                   "node_energy": _numpy(out["node_energy"])}
        if want_virial:
            results.update(virial=_numpy(out["virial"][0]), atom_virial=_numpy(out["atom_virial"]))
        check_finite(results)       # before anything is written into LAMMPS' buffers
        _array(forces, ctypes.c_double, 3 * n, (n, 3))[...] = results["forces"]
        _array(node_energy, ctypes.c_double, nlocal, (nlocal,))[...] = results["node_energy"]
        if want_virial:
            _array(virial, ctypes.c_double, 9, (3, 3))[...] = results["virial"]
            _array(atom_virial, ctypes.c_double, 9 * n, (n, 3, 3))[...] = results["atom_virial"]
        return float(results["energy"])


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float64).numpy()


def load(path: str, elements: List[str], device: str = "cpu", dtype: str = "", nprocs: int = 1):
    """Entry point of `pair_coeff * * <path> <elements...>`: the LammpsModel, wrapped in
    diagnostics.timing.TimedModel when GAUNT_MD_BRIDGE_TIMING is set."""
    _limit_threads(nprocs)
    model = LammpsModel(path, elements, device=device or "cpu", dtype=dtype or None)
    prefix = os.environ.get(TIMING_ENV)
    return TimedModel(model, prefix, nprocs) if prefix else model
