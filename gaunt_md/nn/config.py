"""Model hyper-parameters as a plain, serialisable value."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Dict, List


@dataclass
class ModelConfig:
    atomic_numbers: List[int]                 # species the model knows, in index order
    r_max: float = 5.0                        # edge cutoff (Angstrom)
    num_bessel: int = 8                       # radial basis size
    cutoff_p: int = 5                         # polynomial envelope exponent
    max_ell: int = 3                          # degree of edge harmonics and of the A features
    hidden_lmax: int = 1                      # degree of hidden node features (0e, 1o, 2e, ...)
    channels: int = 64                        # channels per degree
    correlation: int = 3                      # body order of the product basis (nu = 1..K)
    num_interactions: int = 2
    radial_hidden: List[int] = field(default_factory=lambda: [64, 64, 64])
    readout_hidden: int = 16
    avg_num_neighbors: float = 1.0            # set from the training data
    e0s: Dict[int, float] = field(default_factory=dict)  # atomic number -> reference energy (eV)
    scale: float = 1.0                        # initial energy scale (learned)
    shift: float = 0.0                        # initial per-atom energy shift (learned)
    gaunt_method: str = "auto"                # route of the many-body product
    product_basis: str = "power"              # "power": A^nu per channel (fast op); "factors":
                                              # products of nu linearly mixed copies of A
    core_radii: Dict[str, float] = field(default_factory=dict)  # "Z1-Z2" -> r_core (A); see repulsion.py
    core_stiffness: float = 100.0             # k of the core repulsion k (r_core - r)^3 (eV/A^3)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["e0s"] = {int(k): float(v) for k, v in self.e0s.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown model options: {', '.join(sorted(unknown))}")
        d = dict(d)
        if "e0s" in d:
            d["e0s"] = {int(k): float(v) for k, v in d["e0s"].items()}
        return cls(**d)

    def validate(self) -> None:
        if not self.atomic_numbers:
            raise ValueError("atomic_numbers must list at least one element")
        if self.correlation < 1 or self.num_interactions < 1:
            raise ValueError("correlation and num_interactions must be >= 1")
        if self.product_basis not in ("power", "factors"):
            raise ValueError(f"product_basis must be 'power' or 'factors', got {self.product_basis!r}")
        if self.r_max <= 0:
            raise ValueError("r_max must be positive")
        for key, radius in self.core_radii.items():
            parts = key.split("-")
            if len(parts) != 2 or not all(p.isdigit() for p in parts) or not 0 <= float(radius) < self.r_max:
                raise ValueError(f"core_radii: expected 'Z1-Z2': radius in [0, r_max), got {key!r}: {radius!r}")
        missing = [z for z in self.atomic_numbers if self.e0s and z not in self.e0s]
        if missing:
            raise ValueError(f"e0s missing for atomic numbers {missing}")
