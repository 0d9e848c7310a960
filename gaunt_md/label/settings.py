"""The electronic-structure settings of `gaunt-md label`, and the spin state of each structure.

The defaults reproduce the 3BPA data set's reference labels (wB97X/6-31G(d), computed with
ORCA) in PySCF: spherical d functions, density fitting, unrestricted Kohn-Sham (UKS) for
open-shell systems; see gaunt_md/label/README.md for the measurements behind them."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Dict, Optional, Sequence

from ase.data import chemical_symbols

# 2S (unpaired electrons) of the ground state of each free atom, H..Kr (Hund's rules, with
# the 3d exceptions Cr 3d5 4s1 and Cu 3d10 4s1).  A single atom labelled with spin "auto" is
# computed in this state: the parity rule alone would put C and O in a singlet.
ATOM_GROUND_STATE_2S = {
    1: 1, 2: 0,
    3: 1, 4: 0, 5: 1, 6: 2, 7: 3, 8: 2, 9: 1, 10: 0,
    11: 1, 12: 0, 13: 1, 14: 2, 15: 3, 16: 2, 17: 1, 18: 0,
    19: 1, 20: 0, 21: 1, 22: 2, 23: 3, 24: 6, 25: 5, 26: 4, 27: 3, 28: 2, 29: 1, 30: 0,
    31: 1, 32: 2, 33: 3, 34: 2, 35: 1, 36: 0,
}


@dataclass(frozen=True)
class LabelSettings:
    """Everything that decides a label's value (threads and memory only decide its speed).

    spin: 2S = N_alpha - N_beta, or None ("auto"): 0 for an even electron count, 1 for an odd
    one, the free-atom ground state (ATOM_GROUND_STATE_2S) for a single atom.  2S = 0 is
    computed with restricted Kohn-Sham (RKS), 2S > 0 with unrestricted (UKS)."""
    xc: str = "wb97x"
    basis: str = "6-31g*"
    cart: bool = False              # False: spherical (5d) functions, as ORCA and the 3BPA labels
    density_fit: bool = True        # RI-JK with PySCF's default auxiliary basis for `basis`
    grid_level: int = 3             # PySCF's DFT grid level (0-9)
    charge: int = 0
    spin: Optional[int] = None
    conv_tol: float = 1e-9          # SCF energy convergence, Hartree
    max_memory: int = 4000          # MB that PySCF may use
    threads: Optional[int] = None   # None: all cores available to this process

    def __post_init__(self):
        if not str(self.xc).strip():
            raise ValueError("the method (exchange-correlation functional) is empty")
        if not str(self.basis).strip():
            raise ValueError("the basis is empty")
        if not 0 <= int(self.grid_level) <= 9:
            raise ValueError(f"grid level must be 0-9, got {self.grid_level}")
        if self.spin is not None and self.spin < 0:
            raise ValueError(f"spin (2S = N_alpha - N_beta) must be >= 0, got {self.spin}")
        if not self.conv_tol > 0:
            raise ValueError(f"SCF convergence tolerance must be > 0, got {self.conv_tol}")
        if self.max_memory < 1:
            raise ValueError(f"max memory must be >= 1 MB, got {self.max_memory}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads}")

    def record(self) -> Dict:
        """The settings that decide the labels, as stored in every labelled frame (and compared
        when a run is continued): all fields but threads and max_memory."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("threads", "max_memory")}
        out["spin"] = "auto" if self.spin is None else int(self.spin)
        return out

    def as_dict(self) -> Dict:
        return asdict(self)


def electron_count(numbers: Sequence[int], charge: int) -> int:
    return int(sum(int(z) for z in numbers)) - int(charge)


def resolve_spin(numbers: Sequence[int], settings: LabelSettings, where: str = "structure") -> int:
    """2S for a structure with these atomic numbers (see LabelSettings), or a ValueError that
    names `where` when the charge and spin cannot go together."""
    electrons = electron_count(numbers, settings.charge)
    if electrons < 1:
        raise ValueError(f"{where}: charge {settings.charge} leaves {electrons} electrons")
    if settings.spin is not None:
        spin = int(settings.spin)
        if spin % 2 != electrons % 2 or spin > electrons:
            raise ValueError(f"{where}: spin 2S={spin} is impossible with {electrons} electrons "
                             f"(2S must have the parity of the electron count)")
        return spin
    if len(numbers) == 1 and settings.charge == 0:
        z = int(numbers[0])
        if z not in ATOM_GROUND_STATE_2S:
            raise ValueError(f"{where}: no tabulated ground-state spin for a free {chemical_symbols[z]} atom; "
                             f"give it with --spin")
        return ATOM_GROUND_STATE_2S[z]
    return electrons % 2


def isolated_atom_spin(z: int) -> int:
    """2S of the free atom's ground state (for the isolated-atom E0 frames)."""
    if int(z) not in ATOM_GROUND_STATE_2S:
        raise ValueError(f"no tabulated ground-state spin for a free {chemical_symbols[int(z)]} atom "
                         f"(elements H-Kr are known); label it separately with --spin")
    return ATOM_GROUND_STATE_2S[int(z)]
