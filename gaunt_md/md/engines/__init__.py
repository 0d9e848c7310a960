"""MD engines behind one interface (base.Engine); `get_engine(name)` picks one."""
from .base import ENSEMBLES, Engine, EngineUnavailable, MDSettings, MDState, Simulation

ENGINES = ("ase", "lammps")


def get_engine(name: str) -> Engine:
    if name == "ase":
        from .ase_engine import AseEngine

        return AseEngine()
    if name == "lammps":
        from .lammps_engine import lammps_engine

        return lammps_engine()
    raise ValueError(f"unknown engine {name!r}; choose from {', '.join(ENGINES)}")


__all__ = ["ENGINES", "ENSEMBLES", "Engine", "EngineUnavailable", "MDSettings", "MDState", "Simulation", "get_engine"]
