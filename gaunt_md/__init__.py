"""gaunt-md: molecular dynamics with Gaunt-MACE machine-learned potentials."""
__version__ = "0.1.0"

from . import ops  # noqa: F401  (registers the torch.ops.gaunt_md custom ops)
