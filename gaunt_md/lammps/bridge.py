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

from ..deploy import load_model


class InputError(Exception):
    """A problem with the LAMMPS input (model file, elements): reported without traceback."""


def describe_exception(error: BaseException) -> str:
    """Text LAMMPS shows for an exception raised here: the message for input errors,
    the full traceback for anything unexpected."""
    if isinstance(error, InputError):
        return str(error)
    return "Python exception:\n" + "".join(traceback.format_exception(type(error), error, error.__traceback__))


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

    def compute(self, n: int, nlocal: int, nedges: int, positions: int, species: int, edges: int,
                forces: int, node_energy: int, virial: int, atom_virial: int, want_virial: int) -> float:
        """Evaluate the rank's graph; fill forces [n,3], node_energy [nlocal] and, when
        asked, virial [3,3] and atom_virial [n,3,3]; return the owned atoms' energy."""
        as_t = lambda a, dt: torch.from_numpy(a).to(device=self.device, dtype=dt)  # noqa: E731
        # forces are autograd derivatives: grad mode on, whatever a hosting Python set
        with torch.inference_mode(False), torch.enable_grad():
            pos = as_t(_array(positions, ctypes.c_double, 3 * n, (n, 3)), self.dtype)
            spec = as_t(_array(species, ctypes.c_int64, n, (n,)), torch.long)
            edge_index = as_t(_array(edges, ctypes.c_int64, 2 * nedges, (2, nedges)), torch.long)
            out = self.module.forward_local(pos, spec, edge_index, int(nlocal), bool(want_virial))
        _array(forces, ctypes.c_double, 3 * n, (n, 3))[...] = _numpy(out["forces"])
        _array(node_energy, ctypes.c_double, nlocal, (nlocal,))[...] = _numpy(out["node_energy"])
        if want_virial:
            _array(virial, ctypes.c_double, 9, (3, 3))[...] = _numpy(out["virial"])
            _array(atom_virial, ctypes.c_double, 9 * n, (n, 3, 3))[...] = _numpy(out["atom_virial"])
        return float(out["energy"].detach())


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float64).numpy()


def load(path: str, elements: List[str], device: str = "cpu", dtype: str = "", nprocs: int = 1) -> LammpsModel:
    """Entry point of `pair_coeff * * <path> <elements...>`."""
    _limit_threads(nprocs)
    return LammpsModel(path, elements, device=device or "cpu", dtype=dtype or None)
