"""Export to TorchScript with metadata, and loading with clear errors."""
from .load import LoadedModel, load_model
from .metadata import read_metadata

__all__ = ["LoadedModel", "load_model", "read_metadata"]
