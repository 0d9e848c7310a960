"""Reporting: numbers in tables, markdown tables, figures, the device in words."""
from __future__ import annotations

import math
import os
from typing import Optional, Sequence

import torch


def device_label(device: str) -> str:
    """'CPU, n cores' or the GPU's name (torch.cuda.get_device_name) with the CUDA version."""
    if device.startswith("cuda"):
        return f"GPU {torch.cuda.get_device_name(torch.device(device))}, CUDA {torch.version.cuda}"
    return f"CPU, {os.cpu_count()} cores"


def fmt_ms(seconds: Optional[float]) -> str:
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "-"
    ms = seconds * 1e3
    return f"{ms:.0f}" if ms >= 100 else f"{ms:.1f}" if ms >= 1 else f"{ms:.3f}"



def markdown_table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table: the header row, the separator, one line per row (cells as str)."""
    lines = ["| " + " | ".join(str(h) for h in head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def save_figure(fig, path, dpi: int = 120) -> None:
    """The PNG at `path`; the figure is closed."""
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def finish_figure(fig, path, title: str, axes=(), fontsize: int = 9, dpi: int = 120) -> None:
    """Grid and legend on `axes`, the title, and the PNG at `path` (the figure is closed)."""
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=fontsize)
    fig.tight_layout()
    save_figure(fig, path, dpi)
