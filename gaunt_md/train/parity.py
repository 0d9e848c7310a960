"""Parity plot of `gaunt-md eval`: predicted against reference energy per atom, force and stress
components, coloured by config_type."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import numpy as np


def plot_parity(series: Dict[str, Dict[str, List[np.ndarray]]], path: Path) -> None:
    """series[quantity][config_type] = [reference values, predicted values] (flat arrays);
    quantities: 'energy' (eV/atom), 'forces' (eV/A), 'stress' (eV/A^3), those present."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    titles = {"energy": "energy (eV/atom)", "forces": "force components (eV/A)", "stress": "stress components (eV/A^3)"}
    present = [q for q in titles if series.get(q)]
    fig, axes = plt.subplots(1, len(present), figsize=(4.2 * len(present), 4), squeeze=False)
    for ax, quantity in zip(axes[0], present):
        low, high = np.inf, -np.inf
        for group, (ref, pred) in sorted(series[quantity].items()):
            ax.scatter(ref, pred, s=6, alpha=0.6, label=group)
            low, high = min(low, ref.min(), pred.min()), max(high, ref.max(), pred.max())
        ax.plot([low, high], [low, high], color="black", linewidth=0.8)
        ax.set_xlabel("reference")
        ax.set_ylabel("predicted")
        ax.set_title(titles[quantity])
        ax.grid(alpha=0.3)
    if len(series[present[0]]) > 1:
        axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
