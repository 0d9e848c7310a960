"""Potentials against reference quantum chemistry along physical scans of 3BPA: the energy of
each scan point relative to the unscanned start, for the reference labels and every model, side
by side (a table on stdout, results.json and a plot per scan).

    python benchmarks/scan_reference.py [--data examples/data/3bpa_scans/scan_points_dft.xyz] \
        --model potentials/gaunt_mace_3bpa.pt --mace benchmarks/results/mace_3bpa/mace_3bpa_stagetwo.model

The data (see examples/data/3bpa_scans/README.md) mark each frame with info["scan"] ("start" for
the reference point), "scan_coordinate" and "scan_index"; labels as `gaunt-md label` writes them.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

import harness
from frame_errors import model_predictions

DATA = harness.ROOT / "examples" / "data" / "3bpa_scans" / "scan_points_dft.xyz"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--model", nargs="*", default=[], help="exported gaunt-md models")
    parser.add_argument("--mace", nargs="*", default=[], help="mace-torch .model files")
    parser.add_argument("--out", default="benchmarks/results/scan_reference")
    args = parser.parse_args(argv)
    from gaunt_md.data.extxyz import read_labelled_structures

    frames = read_labelled_structures(args.data)
    starts = [k for k, a in enumerate(frames) if a.info["scan"] == "start"]
    if len(starts) != 1:
        raise SystemExit(f"{args.data}: expected one frame with scan=start, found {len(starts)}")
    reference = np.array([a.info["energy"] for a in frames])
    energies = {"reference": reference - reference[starts[0]]}
    for name, (pred, _) in model_predictions(args.model, args.mace, frames).items():
        energies[name] = pred - pred[starts[0]]
    scans = defaultdict(list)
    for k, a in enumerate(frames):
        if k != starts[0]:
            scans[a.info["scan"]].append(k)
    names = list(energies)
    rows = [[scan, f"{frames[k].info['scan_coordinate']:.3g}"] + [f"{energies[n][k]:.3f}" for n in names]
            for scan, idx in scans.items() for k in idx]
    print(harness.markdown_table(["scan", "coordinate"] + [f"{n} dE (eV)" for n in names], rows))
    summary = {n: {"rmse_eV": float(np.sqrt(np.mean((energies[n] - energies["reference"]) ** 2))),
                   "max_abs_eV": float(np.max(np.abs(energies[n] - energies["reference"])))}
               for n in names[1:]}
    print(harness.markdown_table(["model", "RMS dE error (eV)", "max abs dE error (eV)"],
                                 [[n, f"{s['rmse_eV']:.3f}", f"{s['max_abs_eV']:.3f}"] for n, s in summary.items()]))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({
        "data": args.data, "scans": {s: [frames[k].info["scan_coordinate"] for k in idx] for s, idx in scans.items()},
        "energies_eV": {n: {s: [float(e[k]) for k in idx] for s, idx in scans.items()} for n, e in energies.items()},
        "summary": summary}, indent=2))
    _plot(frames, scans, energies, out / "scan_reference.png")
    print(f"wrote {out / 'results.json'} and {out / 'scan_reference.png'}")
    return 0


def _plot(frames, scans, energies, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(scans), figsize=(4 * len(scans), 3.5), squeeze=False)
    for ax, (scan, idx) in zip(axes[0], scans.items()):
        x = [frames[k].info["scan_coordinate"] for k in idx]
        for name, e in energies.items():
            style = dict(color="black", lw=2, marker="o") if name == "reference" else dict(marker=".")
            ax.plot(x, [e[k] for k in idx], label=name, **style)
        ax.set_title(scan, fontsize=9)
        ax.set_ylabel("E - E(start) (eV)")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    harness.save_figure(fig, path)


if __name__ == "__main__":
    sys.exit(main())
