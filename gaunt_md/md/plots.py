"""PNG figures of a stability run (matplotlib, Agg backend)."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import numpy as np

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .record import RunRecord  # noqa: E402

FIGURES = {
    "temperature_energy": "temperature_energy.png",
    "bond_deviation": "bond_deviation.png",
    "bond_lengths": "bond_lengths.png",
}


def _by_temperature(records: List[RunRecord]) -> Dict[float, List[RunRecord]]:
    groups: Dict[float, List[RunRecord]] = {}
    for r in records:
        groups.setdefault(r.temperature_K, []).append(r)
    return dict(sorted(groups.items()))


def _mark_failure(ax, r: RunRecord, y: np.ndarray, color) -> None:
    if r.failure is not None and len(r.time_ps):
        finite = np.isfinite(y)
        if finite.any():
            k = np.nonzero(finite)[0][-1]
            ax.plot(r.time_ps[k], y[k], "x", color=color, markersize=9, mew=2)


def plot_temperature_energy(records: List[RunRecord], path: Path) -> None:
    """Instantaneous temperature and potential energy (relative to the start) vs time."""
    groups = _by_temperature(records)
    fig, axes = plt.subplots(2, len(groups), figsize=(4.2 * len(groups), 6), squeeze=False, sharex="col")
    for col, (temperature, runs) in enumerate(groups.items()):
        ax_t, ax_e = axes[0, col], axes[1, col]
        for r in runs:
            color = f"C{r.run % 10}"
            t = np.asarray(r.time_ps)
            temp = np.asarray(r.temperature, dtype=float)
            epot = np.asarray(r.potential_energy, dtype=float)
            epot = epot - epot[0] if len(epot) and np.isfinite(epot[0]) else epot
            label = f"run {r.run}" + (f" ({r.failure.kind})" if r.failure is not None else
                                      " (interrupted)" if r.interrupted else "")
            ax_t.plot(t, temp, color=color, lw=0.8, label=label)
            ax_e.plot(t, epot, color=color, lw=0.8)
            _mark_failure(ax_t, r, temp, color)
            _mark_failure(ax_e, r, epot, color)
        ax_t.axhline(temperature, color="k", ls="--", lw=0.8)
        ax_t.set_title(f"{temperature:g} K")
        ax_t.set_ylabel("temperature (K)")
        ax_e.set_ylabel("E_pot - E_pot(0) (eV)")
        ax_e.set_xlabel("time (ps)")
        ax_t.legend(fontsize=7, loc="best")
    fig.suptitle("Temperature and potential energy (x: failure)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_bond_deviation(records: List[RunRecord], path: Path, threshold: float) -> None:
    """Largest bond-length deviation from the reference vs time, per run."""
    groups = _by_temperature(records)
    fig, axes = plt.subplots(1, len(groups), figsize=(4.2 * len(groups), 3.6), squeeze=False, sharey=True)
    for col, (temperature, runs) in enumerate(groups.items()):
        ax = axes[0, col]
        for r in runs:
            color = f"C{r.run % 10}"
            dev = np.asarray(r.max_bond_deviation, dtype=float)
            ax.plot(r.time_ps, dev, color=color, lw=0.8, label=f"run {r.run}")
            _mark_failure(ax, r, dev, color)
        ax.axhline(threshold, color="r", ls="--", lw=1, label=f"failure ({threshold:g} A)")
        ax.set_yscale("log")
        ax.set_title(f"{temperature:g} K")
        ax.set_xlabel("time (ps)")
        ax.legend(fontsize=7, loc="best")
    axes[0, 0].set_ylabel("max |d - d0| over bonds (A)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_bond_lengths(records: List[RunRecord], path: Path) -> None:
    """Distribution of bond lengths by bond type, per temperature, against the starting geometry."""
    groups = _by_temperature(records)
    types = sorted(set(t for r in records for t in r.bond_types))
    ncols = min(3, len(types))
    nrows = -(-len(types) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.8 * ncols, 3.0 * nrows + 0.5), squeeze=False)
    for ax in axes.flat[len(types):]:
        ax.set_visible(False)
    for k, bond_type in enumerate(types):
        ax = axes.flat[k]
        ref = np.concatenate([r.ref_lengths[np.asarray(r.bond_types) == bond_type] for r in records])
        lo, hi = ref.min() - 0.35, ref.max() + 0.35
        bins = np.linspace(lo, hi, 60)
        for i, (temperature, runs) in enumerate(groups.items()):
            samples = [s[np.asarray(r.bond_types) == bond_type] for r in runs for s in r.bond_samples]
            if not samples:
                continue
            values = np.concatenate(samples)
            ax.hist(np.clip(values, lo, hi), bins=bins, density=True, histtype="step", lw=1.2,
                    color=f"C{i}", label=f"{temperature:g} K")
        for value in np.unique(np.round(ref, 3)):
            ax.axvline(value, color="k", lw=0.6, alpha=0.6)
        ax.set_title(f"{bond_type} ({len(ref) // len(records)} bonds)")
        ax.set_xlabel("bond length (A)")
        ax.set_yticks([])
        if k == 0:
            ax.legend(fontsize=7, loc="best", title="black: start", title_fontsize=7)
    fig.suptitle("Bond lengths during MD (up to failure) vs the starting geometry")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def make_plots(records: List[RunRecord], out: Path, threshold: float) -> Dict[str, str]:
    out = Path(out)
    paths = {key: out / name for key, name in FIGURES.items()}
    plot_temperature_energy(records, paths["temperature_energy"])
    plot_bond_deviation(records, paths["bond_deviation"], threshold)
    plot_bond_lengths(records, paths["bond_lengths"])
    return {key: str(p) for key, p in paths.items()}
