"""Learning-curve plot from the per-epoch history."""
from __future__ import annotations

from pathlib import Path
from typing import List


def plot_learning_curve(history: List[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [row["epoch"] for row in history]
    stress = "s_rmse_meV_per_A3" in history[-1]
    fig, axes = plt.subplots(1, 4 if stress else 3, figsize=(17 if stress else 13, 3.6))
    axes[0].semilogy(epochs, [row["train_loss"] for row in history], label="train")
    axes[0].semilogy(epochs, [row["valid_loss"] for row in history], label="valid")
    axes[0].set_title("loss")
    axes[0].legend()
    axes[1].semilogy(epochs, [row["e_rmse_meV"] for row in history])
    axes[1].set_title("valid energy RMSE (meV)")
    if "f_rmse_meV_per_A" in history[0]:
        axes[2].semilogy(epochs, [row["f_rmse_meV_per_A"] for row in history])
    axes[2].set_title("valid force RMSE (meV/A)")
    if stress:
        axes[3].semilogy(epochs, [row.get("s_rmse_meV_per_A3", float("nan")) for row in history])
        axes[3].set_title("valid stress RMSE (meV/A^3)")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
