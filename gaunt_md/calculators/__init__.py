from .ase import GauntCalculator

__all__ = ["GauntCalculator"]
