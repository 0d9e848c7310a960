"""Blocks of the Gaunt-MACE model and the model itself."""
from .config import ModelConfig
from .model import GauntMACE, count_parameters

__all__ = ["GauntMACE", "ModelConfig", "count_parameters"]
