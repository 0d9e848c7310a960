"""Energy and force errors of several potentials on the same labelled frames, grouped (e.g. by the
MD temperature the frames came from), side by side: a table on stdout, results.json and a plot.

    python benchmarks/frame_errors.py DATA.xyz --model potentials/gaunt_mace_3bpa.pt \
        --mace benchmarks/results/mace_3bpa/mace_3bpa_stagetwo.model --group md_temperature_K --out DIR
    python benchmarks/frame_errors.py ../shared/data/3bpa/train_300K.xyz --model m.pt --split 50 123

--split N_VALID SEED groups the frames into the trainer's training and validation split
(`data.n_valid`, `data.split_seed` or `seed`): training against validation error tells an
underfit potential (both alike) from an overfit one.

--model: exported gaunt-md models (GauntCalculator, float64); --mace: mace-torch models, run in
their own venv through benchmarks/mace_socket.py.  Reference labels: info["energy"] and
arrays["forces"] (eV, eV/A), as `gaunt-md label` writes them.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

import harness


def predictions(calc, frames):
    energies, forces = [], []
    for atoms in tqdm(frames, desc="frames", unit="frame", leave=False):
        atoms = atoms.copy()
        atoms.calc = calc
        energies.append(atoms.get_potential_energy())
        forces.append(atoms.get_forces())
    return np.array(energies), forces


def model_predictions(models, maces, frames):
    """{name: (energies [F], forces [list of [n, 3]])} of each gaunt-md model (GauntCalculator,
    float64) and each mace-torch model (its own venv, through benchmarks/mace_socket.py)."""
    from gaunt_md import GauntCalculator

    calcs = [(f"gaunt-md {Path(p).name}", lambda p=p: GauntCalculator(p)) for p in models]
    calcs += [(f"mace-torch {Path(p).name}", lambda p=p: __import__("mace_socket").calculator(p)) for p in maces]
    out = {}
    for name, make in calcs:
        calc = make()
        out[name] = predictions(calc, frames)
        if hasattr(calc, "close"):
            calc.close()   # the socket calculator's client process ends here, not at exit
    return out


def errors(pred_e, pred_f, ref_e, ref_f, n_atoms):
    de = pred_e - ref_e
    df = np.concatenate([p - r for p, r in zip(pred_f, ref_f)])
    return {"frames": int(len(de)), "e_rmse_meV": 1000 * float(np.sqrt(np.mean(de ** 2))),
            "e_mean_meV": 1000 * float(np.mean(de)), "e_rmse_meV_per_atom": 1000 * float(np.sqrt(np.mean((de / n_atoms) ** 2))),
            "f_rmse_meV_per_A": 1000 * float(np.sqrt(np.mean(df ** 2))),
            "f_mae_meV_per_A": 1000 * float(np.mean(np.abs(df)))}


def group_indices(frames, group_key=None, split=None) -> dict:
    """{group name: frame indices}: "all", then one group per value of info[group_key], then
    "split=train" / "split=valid" as the trainer splits the frames with split = (n_valid, seed):
    the frames other than isolated atoms (which it takes as E0s), in file order."""
    from gaunt_md.data.e0s import is_isolated_atom
    from gaunt_md.data.splits import train_valid_split

    groups = defaultdict(list)
    groups["all"] = list(range(len(frames)))
    if group_key:
        for k, atoms in enumerate(frames):
            groups[f"{group_key}={atoms.info.get(group_key)}"].append(k)
    if split is not None:
        molecules = [k for k, a in enumerate(frames) if not is_isolated_atom(a)]
        train, valid = train_valid_split(len(molecules), split[0], split[1])
        groups["split=train"] = [molecules[i] for i in train]
        groups["split=valid"] = [molecules[i] for i in valid]
    return dict(groups)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data")
    parser.add_argument("--model", nargs="*", default=[], help="exported gaunt-md models")
    parser.add_argument("--mace", nargs="*", default=[], help="mace-torch .model files")
    parser.add_argument("--group", default=None, help="info key to group the frames by (e.g. md_temperature_K)")
    parser.add_argument("--split", nargs=2, type=int, metavar=("N_VALID", "SEED"), default=None,
                        help="also group by the trainer's train/valid split (data.n_valid, split seed)")
    parser.add_argument("--out", default="benchmarks/results/frame_errors")
    args = parser.parse_args(argv)
    from gaunt_md.data.extxyz import read_labelled_structures

    frames = read_labelled_structures(args.data)
    ref_e = np.array([a.info["energy"] for a in frames])
    ref_f = [a.arrays["forces"] for a in frames]
    n_atoms = np.array([len(a) for a in frames])
    groups = group_indices(frames, args.group, args.split)
    results = {}
    for name, (pred_e, pred_f) in model_predictions(args.model, args.mace, frames).items():
        results[name] = {g: errors(pred_e[idx], [pred_f[i] for i in idx], ref_e[idx], [ref_f[i] for i in idx],
                                   n_atoms[idx]) for g, idx in groups.items()}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({"data": args.data, "results": results}, indent=2))
    rows = [[f"{name} [{g}]", r["frames"], f"{r['e_rmse_meV']:.1f}", f"{r['e_mean_meV']:+.1f}",
             f"{r['f_rmse_meV_per_A']:.1f}", f"{r['f_mae_meV_per_A']:.1f}"]
            for name, by_group in results.items() for g, r in by_group.items()]
    print(harness.markdown_table(["model", "frames", "E RMSE (meV)", "mean E error (meV)", "F RMSE (meV/A)",
                                  "F MAE (meV/A)"], rows))
    _plot(results, out / "frame_errors.png")
    print(f"wrote {out / 'results.json'} and {out / 'frame_errors.png'}")
    return 0


def _plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    group_names = list(next(iter(results.values())))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    width = 0.8 / max(len(names), 1)
    for k, name in enumerate(names):
        x = np.arange(len(group_names)) + k * width
        axes[0].bar(x, [results[name][g]["e_rmse_meV"] for g in group_names], width, label=name)
        axes[1].bar(x, [results[name][g]["f_rmse_meV_per_A"] for g in group_names], width, label=name)
    for ax, label in zip(axes, ["E RMSE (meV)", "F RMSE (meV/A)"]):
        ax.set_xticks(np.arange(len(group_names)) + 0.4 - width / 2, group_names, rotation=15, fontsize=8)
        ax.set_ylabel(label)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    harness.save_figure(fig, path)


if __name__ == "__main__":
    sys.exit(main())
