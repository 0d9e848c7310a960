"""How closely `gaunt-md label` (PySCF) reproduces the 3BPA reference labels, and how long it takes.

Relabels the first N frames of the 3BPA training file (wB97X/6-31G(d), computed with ORCA) with
the default settings of `gaunt-md label` (or the ones given), optionally the isolated atoms of
iso_atoms.xyz too, and reports per frame: the energy difference (meV), the RMS and max force
difference (meV/A) and the wall time.  Goal: |dE| < 5 meV and force RMS diff < 10 meV/A.

The labels go to benchmarks/results/pyscf_labels/<tag>.xyz through the same resumable loop as
the command: stopping the script (Ctrl-C) and starting it again continues where it stopped.
Slow: 2-4 min per 27-atom frame on 2 free cores (density fitting), 8-12 min without.

    flock /tmp/bench.lock .venv/bin/python benchmarks/pyscf_labels.py -n 5 --isolated-atoms

Writes benchmarks/results/pyscf_labels_<tag>.json and prints a table.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import ase.io
import numpy as np

from harness import RESULTS  # first: it puts the gaunt_md of this checkout on sys.path
from gaunt_md.label.run import label_file  # noqa: E402
from gaunt_md.label.settings import LabelSettings  # noqa: E402

DATA = Path("/work/shared/data/3bpa")
GOAL_ENERGY_MEV = 5.0
GOAL_FORCE_RMS_MEV = 10.0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-n", "--frames", type=int, default=3, help="frames to relabel (default 3)")
    p.add_argument("--data", type=Path, default=DATA / "train_300K.xyz", help="labelled extxyz to reproduce")
    p.add_argument("--iso", type=Path, default=DATA / "iso_atoms.xyz", help="reference isolated-atom energies")
    p.add_argument("--isolated-atoms", action="store_true", help="also relabel the isolated atoms")
    p.add_argument("--method", default="wb97x")
    p.add_argument("--basis", default="6-31g*")
    p.add_argument("--no-density-fit", action="store_true")
    p.add_argument("--grid-level", type=int, default=3)
    p.add_argument("--threads", type=int, default=None, help="default: all cores")
    p.add_argument("--tag", default=None, help="name of the output files (default from the settings)")
    args = p.parse_args(argv)

    settings = LabelSettings(xc=args.method, basis=args.basis, density_fit=not args.no_density_fit,
                             grid_level=args.grid_level, threads=args.threads)
    tag = args.tag or (f"{args.method}_{args.basis}_{'df' if settings.density_fit else 'exact'}_grid{args.grid_level}"
                       .replace("*", "s").replace(",", "-"))
    out_dir = RESULTS / "pyscf_labels"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{tag}.xyz"
    reference = ase.io.read(args.data, index=f":{args.frames}", format="extxyz")
    # the input without its labels, so that nothing of the reference can leak into the result
    source = out_dir / f"{tag}.input.xyz"
    if not source.exists():
        bare = []
        for atoms in reference:
            atoms = atoms.copy()
            atoms.calc = None
            atoms.info = {}
            bare.append(atoms)
        ase.io.write(source, bare, format="extxyz")

    load_before = os.getloadavg()
    start = time.perf_counter()
    summary = label_file(source, out, settings, isolated_atoms=args.isolated_atoms)
    wall = time.perf_counter() - start
    labelled = ase.io.read(out, index=":", format="extxyz")

    rows, atoms_rows = [], []
    for atoms in labelled:
        index = int(atoms.info["label_source_index"])
        if index < 0:
            atoms_rows.append(atoms)
            continue
        ref = reference[index]
        d_e = 1000.0 * (atoms.get_potential_energy() - ref.get_potential_energy())
        d_f = 1000.0 * (atoms.get_forces() - ref.get_forces())
        rows.append({"frame": index, "atoms": len(atoms), "dE_meV": d_e,
                     "dF_rms_meV_A": float(np.sqrt(np.mean(d_f ** 2))), "dF_max_meV_A": float(np.abs(d_f).max()),
                     "ref_F_rms_eV_A": float(np.sqrt(np.mean(ref.get_forces() ** 2))),
                     "wall_s": float(atoms.info.get("label_wall_s", float("nan")))})
    iso_rows = []
    if atoms_rows and args.iso.exists():
        iso_ref = {int(a.numbers[0]): a.get_potential_energy() for a in ase.io.read(args.iso, ":", format="extxyz")}
        for atoms in atoms_rows:
            z = int(atoms.numbers[0])
            if z in iso_ref:
                iso_rows.append({"element": atoms.get_chemical_symbols()[0], "spin_2S": int(atoms.info["label_spin"]),
                                 "dE_meV": 1000.0 * (atoms.get_potential_energy() - iso_ref[z]),
                                 "wall_s": float(atoms.info.get("label_wall_s", float("nan")))})

    print(f"\n{len(rows)} frames of {args.data.name}, {settings.xc}/{settings.basis}, "
          f"{'density fitting' if settings.density_fit else 'exact integrals'}, grid level {settings.grid_level}")
    print(f"{'frame':>5} {'dE meV':>9} {'dF rms':>8} {'dF max':>8} {'wall s':>8}")
    for r in rows:
        print(f"{r['frame']:>5} {r['dE_meV']:>9.2f} {r['dF_rms_meV_A']:>8.2f} {r['dF_max_meV_A']:>8.2f} "
              f"{r['wall_s']:>8.1f}")
    for r in iso_rows:
        print(f"isolated {r['element']} (2S={r['spin_2S']}): dE {r['dE_meV']:.2f} meV, {r['wall_s']:.1f} s")
    result = {"settings": settings.as_dict(), "data": str(args.data), "frames": rows, "isolated_atoms": iso_rows,
              "labelled_now": summary.labelled, "wall_s_this_run": wall, "load_before": load_before,
              "load_after": os.getloadavg(), "cpu_count": os.cpu_count(), "machine": platform.node()}
    if rows:
        d_e = np.array([r["dE_meV"] for r in rows])
        rms = np.array([r["dF_rms_meV_A"] for r in rows])
        result["summary"] = {
            "max_abs_dE_meV": float(np.abs(d_e).max()), "spread_dE_meV": float(d_e.max() - d_e.min()),
            "max_dF_rms_meV_A": float(rms.max()), "mean_wall_s": float(np.mean([r["wall_s"] for r in rows])),
            "energy_goal_met": bool(np.abs(d_e).max() < GOAL_ENERGY_MEV),
            "force_goal_met": bool(rms.max() < GOAL_FORCE_RMS_MEV)}
        s = result["summary"]
        print(f"max |dE| {s['max_abs_dE_meV']:.2f} meV (goal < {GOAL_ENERGY_MEV}: "
              f"{'met' if s['energy_goal_met'] else 'NOT met'}), spread {s['spread_dE_meV']:.2f} meV; "
              f"max force RMS diff {s['max_dF_rms_meV_A']:.2f} meV/A (goal < {GOAL_FORCE_RMS_MEV}: "
              f"{'met' if s['force_goal_met'] else 'NOT met'}); {s['mean_wall_s']:.0f} s per frame")
    path = RESULTS / f"pyscf_labels_{tag}.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
