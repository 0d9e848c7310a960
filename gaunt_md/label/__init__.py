"""Reference labels (DFT energies and forces) with PySCF: `gaunt-md label IN.xyz OUT.xyz`.

PySCF is optional (`pip install 'gaunt-md[label]'`) and imported only when labelling."""
from .pyscf_label import PySCFMissing, SCFNotConverged, compute_label, label_atoms
from .run import label_file
from .settings import LabelSettings

__all__ = ["LabelSettings", "PySCFMissing", "SCFNotConverged", "compute_label", "label_atoms", "label_file"]
