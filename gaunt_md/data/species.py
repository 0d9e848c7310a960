"""The elements a model knows, and atomic numbers -> species indices."""
from __future__ import annotations

from typing import List, Sequence

import numpy as np
from ase.data import chemical_symbols


class SpeciesTable:
    def __init__(self, atomic_numbers: Sequence[int]):
        self.atomic_numbers: List[int] = [int(z) for z in atomic_numbers]
        if any(not 0 < z < len(chemical_symbols) for z in self.atomic_numbers):
            raise ValueError(f"atomic numbers must lie in 1..{len(chemical_symbols) - 1}: {self.atomic_numbers}")
        if len(set(self.atomic_numbers)) != len(self.atomic_numbers):
            raise ValueError(f"duplicate elements in {self.symbols}")
        self._lookup = np.full(max(self.atomic_numbers, default=0) + 1, -1, dtype=np.int64)
        for index, z in enumerate(self.atomic_numbers):
            self._lookup[z] = index

    @property
    def symbols(self) -> List[str]:
        return [chemical_symbols[z] for z in self.atomic_numbers]

    def __repr__(self) -> str:
        return f"SpeciesTable({self.atomic_numbers})"

    def __len__(self) -> int:
        return len(self.atomic_numbers)

    def index(self, numbers) -> np.ndarray:
        """Species index (position in `atomic_numbers`) of each atomic number."""
        numbers = np.asarray(numbers, dtype=np.int64)
        inside = (numbers >= 0) & (numbers < len(self._lookup))
        out = np.full(numbers.shape, -1, dtype=np.int64)
        out[inside] = self._lookup[numbers[inside]]
        if (out < 0).any():
            unknown = sorted({chemical_symbols[z] if 0 <= z < len(chemical_symbols) else str(z)
                              for z in numbers[out < 0].tolist()})
            raise ValueError(
                f"element(s) {', '.join(unknown)} not known to the model; it knows {', '.join(self.symbols)}"
            )
        return out
