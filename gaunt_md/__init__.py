"""gaunt-md: molecular dynamics with Gaunt-MACE machine-learned potentials.

`import gaunt_md` registers the `torch.ops.gaunt_md` custom ops (so that exported models
load with `torch.jit.load`); the calculator and the model loader are imported on first use."""
from ._version import __version__
from . import ops  # noqa: F401  (registers the torch.ops.gaunt_md custom ops)

__all__ = ["GauntCalculator", "load_model", "ops", "__version__"]


def __getattr__(name):
    if name == "GauntCalculator":
        from .calculators.ase import GauntCalculator

        return GauntCalculator
    if name == "load_model":
        from .deploy.load import load_model

        return load_model
    raise AttributeError(f"module 'gaunt_md' has no attribute {name!r}")
