"""One structure -> its DFT energy (eV) and forces (eV/A), with PySCF.

PySCF is an optional dependency (`pip install 'gaunt-md[label]'`): it is imported only when a
label is asked for, and a missing install is one clear error (PySCFMissing)."""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Iterable, Optional, Tuple

import numpy as np
from ase.data import chemical_symbols
from ase.units import Bohr, Hartree

from .settings import LabelSettings, resolve_spin

INSTALL_HINT = "pip install 'gaunt-md[label]'"


class PySCFMissing(ImportError):
    """PySCF is not installed."""


class SCFNotConverged(RuntimeError):
    """The SCF did not converge (also not with the second-order solver)."""


def import_pyscf():
    """The pyscf module, or PySCFMissing with the install command."""
    try:
        import pyscf
        from pyscf import dft, gto, lib  # noqa: F401  (the submodules used below)
        from pyscf.dft import libxc  # noqa: F401
    except ImportError as err:
        raise PySCFMissing(f"gaunt-md label needs PySCF, which is not installed ({err}); "
                           f"install it with: {INSTALL_HINT}") from None
    return pyscf


def pyscf_version() -> str:
    return str(import_pyscf().__version__)


def available_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:      # not on Linux
        return os.cpu_count() or 1


def set_threads(threads: Optional[int]) -> int:
    """PySCF's OpenMP threads (None: all available cores); returns the number before."""
    pyscf = import_pyscf()
    before = int(pyscf.lib.num_threads())
    pyscf.lib.num_threads(available_threads() if threads is None else int(threads))
    return before


def check_settings(settings: LabelSettings, elements: Iterable[int]) -> None:
    """ValueError (one line) unless PySCF knows the functional and has the basis for every
    element; checked before any SCF is started."""
    pyscf = import_pyscf()
    from pyscf.dft import libxc

    try:
        libxc.parse_xc(settings.xc)
    except (KeyError, ValueError) as err:
        raise ValueError(f"PySCF does not know the functional {settings.xc!r} ({err})") from None
    missing = []
    for z in sorted(set(int(z) for z in elements)):
        symbol = chemical_symbols[z]
        try:
            with warnings.catch_warnings():     # "install basis-set-exchange" hints
                warnings.simplefilter("ignore")
                pyscf.gto.basis.load(settings.basis, symbol)
        except Exception as err:   # BasisNotFoundError (RuntimeError) or a format/parse error
            if "Unknown basis" in str(err) or "not found" not in str(err):
                raise ValueError(f"PySCF does not know the basis {settings.basis!r} "
                                 f"({' '.join(str(err).split())})") from None
            missing.append(symbol)
    if missing:
        raise ValueError(f"basis {settings.basis!r} has no functions for {', '.join(missing)}")


@dataclass
class Label:
    energy: float              # eV
    forces: np.ndarray         # [N, 3] eV/A
    method: str                # "RKS" or "UKS"
    spin: int                  # 2S
    charge: int
    auxbasis: Optional[str]    # the density-fitting basis PySCF chose (None: exact integrals)
    scf_cycles: Optional[int]


def _mole(atoms, settings: LabelSettings, charge: int, spin: int):
    from pyscf import gto

    mol = gto.Mole()
    mol.atom = [(symbol, tuple(float(x) for x in position))
                for symbol, position in zip(atoms.get_chemical_symbols(), atoms.positions)]
    mol.unit = "Angstrom"
    mol.basis = settings.basis
    mol.cart = bool(settings.cart)
    mol.charge = int(charge)
    mol.spin = int(spin)
    mol.max_memory = int(settings.max_memory)
    mol.verbose = 0
    mol.build()
    return mol


def _auxbasis_name(mf) -> Optional[str]:
    with_df = getattr(mf, "with_df", None)
    if with_df is None:
        return None
    basis = getattr(with_df, "auxbasis", None)
    if basis is None and getattr(with_df, "auxmol", None) is not None:
        basis = with_df.auxmol.basis
    if isinstance(basis, dict):
        names = sorted({value if isinstance(value, str) else "even-tempered" for value in basis.values()})
        return ", ".join(names)
    return basis if isinstance(basis, str) else "even-tempered"


def compute_label(atoms, settings: LabelSettings, forces: bool = True, spin: Optional[int] = None,
                  charge: Optional[int] = None) -> Label:
    """The SCF energy and (forces=True) the analytic forces of `atoms`.  spin/charge None: from
    the settings (spin "auto": see LabelSettings).  Non-periodic only: the cell is ignored."""
    import_pyscf()
    from pyscf import dft

    charge = settings.charge if charge is None else int(charge)
    if spin is None:
        spin = resolve_spin(atoms.numbers, LabelSettings(**{**settings.as_dict(), "charge": charge}))
    mol = _mole(atoms, settings, charge, spin)
    mf = (dft.UKS if spin else dft.RKS)(mol)
    mf.xc = settings.xc
    mf.grids.level = int(settings.grid_level)
    mf.conv_tol = float(settings.conv_tol)
    mf.max_memory = int(settings.max_memory)
    if settings.density_fit:
        mf = mf.density_fit()
    mf.kernel()
    if not mf.converged:
        # second-order SCF from where the first one stopped
        second = mf.newton()
        second.kernel(mf.make_rdm1())
        if not second.converged:
            raise SCFNotConverged(f"SCF did not converge ({'UKS' if spin else 'RKS'}, 2S={spin}, "
                                  f"{len(atoms)} atoms {atoms.get_chemical_formula()})")
        mf = second
    energy = float(mf.e_tot) * Hartree
    if forces and len(atoms) > 1:
        gradient = np.asarray(mf.nuc_grad_method().kernel(), dtype=np.float64).reshape(len(atoms), 3)
        f = -gradient * (Hartree / Bohr)
    else:       # a single atom feels no force
        f = np.zeros((len(atoms), 3))
    cycles = getattr(mf, "cycles", None)
    return Label(energy=energy, forces=f, method="UKS" if spin else "RKS", spin=int(spin), charge=int(charge),
                 auxbasis=_auxbasis_name(mf), scf_cycles=None if cycles is None else int(cycles))


def label_atoms(atoms, settings: Optional[LabelSettings] = None) -> Tuple[float, np.ndarray]:
    """(energy in eV, forces [N, 3] in eV/A) of one ase.Atoms."""
    result = compute_label(atoms, settings or LabelSettings())
    return result.energy, result.forces
