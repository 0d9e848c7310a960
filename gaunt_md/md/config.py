"""The settings of a stability protocol: temperatures, runs per temperature, run length,
dynamics and failure criteria."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Optional, Sequence

from .criteria import Criteria


@dataclass
class ProtocolConfig:
    model: str
    temperatures: Sequence[float] = (300.0, 600.0, 1200.0)
    runs: int = 2
    time_ps: float = 0.5
    timestep_fs: float = 0.5
    friction_per_fs: float = 0.01
    ensemble: str = "nvt"
    seed: int = 0
    device: str = "cpu"
    dtype: Optional[str] = None
    calculator: Optional[str] = None  # another ASE calculator's factory (engines/external.py)
    traj_every: int = 20           # 0: no trajectories
    criteria: Criteria = field(default_factory=Criteria)

    @property
    def n_steps(self) -> int:
        return max(1, int(round(self.time_ps * 1000.0 / self.timestep_fs)))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["temperatures"] = [float(t) for t in self.temperatures]
        d["n_steps"] = self.n_steps
        return d
