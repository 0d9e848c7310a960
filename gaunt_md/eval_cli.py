"""`gaunt-md eval`: errors of a checkpoint or exported model on a labelled extxyz, overall and
per config_type, as a table, JSON, extxyz of the predictions and a parity plot."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import ase.io
import numpy as np
import torch
from ase.calculators.singlepoint import SinglePointCalculator
from ase.stress import full_3x3_to_voigt_6_stress

from .data import SpeciesTable, graph_from_atoms, read_labelled_structures
from .train.eval_source import load_eval_model, resolve_keys
from .train.evaluate import evaluate
from .train.metrics import ErrorAccumulator
from .train.parity import plot_parity

ROWS = [
    ("E RMSE", "meV", "e_rmse_meV"), ("E MAE", "meV", "e_mae_meV"),
    ("E RMSE", "meV/atom", "e_rmse_meV_per_atom"), ("E MAE", "meV/atom", "e_mae_meV_per_atom"),
    ("F RMSE", "meV/A", "f_rmse_meV_per_A"), ("F MAE", "meV/A", "f_mae_meV_per_A"),
    ("stress RMSE", "meV/A^3", "s_rmse_meV_per_A3"), ("stress MAE", "meV/A^3", "s_mae_meV_per_A3"),
    ("virial RMSE", "meV/atom", "v_rmse_meV_per_atom"), ("virial MAE", "meV/atom", "v_mae_meV_per_atom"),
]


def format_table(metrics: dict) -> str:
    lines = ["| metric | unit | value |", "|---|---|---|"]
    lines += [f"| {name} | {unit} | {metrics[key]:.3f} |" for name, unit, key in ROWS if key in metrics]
    return "\n".join(lines)


def format_group_table(groups: dict) -> str:
    """One row per config_type, one column per metric present."""
    keys = [row for row in ROWS if "RMSE" in row[0] and any(row[2] in m for m in groups.values())]
    lines = ["| config_type | frames | " + " | ".join(f"{n} ({u})" for n, u, _ in keys) + " |",
             "|---|---|" + "---|" * len(keys)]
    for name, m in sorted(groups.items()):
        values = " | ".join(f"{m[k]:.3f}" if k in m else "-" for _, _, k in keys)
        lines.append(f"| {name} | {m['frames']} | {values} |")
    return "\n".join(lines)


def _config_type(atoms) -> str:
    return str(atoms.info.get("config_type", "Default"))


def _by_config_type(frames, graphs, result):
    """(metrics per config_type, parity series) from the per-frame predictions."""
    accumulators, counts = defaultdict(ErrorAccumulator), defaultdict(int)
    series = defaultdict(lambda: defaultdict(lambda: [[], []]))
    for atoms, g, energy, forces, stress in zip(frames, graphs, result["energy"], result["forces"], result["stress"]):
        group = _config_type(atoms)
        counts[group] += 1
        pred_e = torch.tensor([energy], dtype=torch.float64)
        pred_f = torch.as_tensor(forces, dtype=torch.float64) if g.forces is not None else None
        pred_s = torch.as_tensor(stress, dtype=torch.float64)[None] if stress is not None and g.stress is not None else None
        ref_s = g.stress.double()[None] if pred_s is not None else None
        volume = torch.linalg.det(g.cell.double()).abs()[None] if pred_s is not None else None
        accumulators[group].add(pred_e, g.energy.double()[None], torch.tensor([g.num_atoms]), pred_f,
                                None if pred_f is None else g.forces.double(), pred_s, ref_s, None, volume)
        series["energy"][group][0].append(np.array([float(g.energy) / g.num_atoms]))
        series["energy"][group][1].append(np.array([energy / g.num_atoms]))
        if pred_f is not None:
            series["forces"][group][0].append(g.forces.double().numpy().ravel())
            series["forces"][group][1].append(np.asarray(forces).ravel())
        if pred_s is not None:
            series["stress"][group][0].append(g.stress.double().numpy().ravel())
            series["stress"][group][1].append(np.asarray(stress).ravel())
    groups = {name: {"frames": counts[name], **acc.summary()} for name, acc in accumulators.items()}
    flat = {q: {grp: [np.concatenate(r), np.concatenate(p)] for grp, (r, p) in by.items()} for q, by in series.items()}
    return groups, flat


def _predictions(frames, result, keys):
    predicted = []
    for atoms, energy, forces, stress in zip(frames, result["energy"], result["forces"], result["stress"]):
        copy = atoms.copy()
        # the references move to ref_energy/ref_forces/ref_stress: ASE refuses to write a
        # calculator's energy/forces/stress next to info/arrays keys of the same name
        copy.info["ref_energy"] = copy.info.pop(keys["energy_key"])
        if keys["forces_key"]:
            copy.arrays["ref_forces"] = copy.arrays.pop(keys["forces_key"])
        results = {"energy": energy, "forces": forces}
        if keys["stress_key"] and keys["stress_key"] in copy.info:
            copy.info["ref_stress"] = full_3x3_to_voigt_6_stress(copy.info.pop(keys["stress_key"]))
            if stress is not None:
                results["stress"] = full_3x3_to_voigt_6_stress(stress)
        copy.calc = SinglePointCalculator(copy, **results)
        predicted.append(copy)
    return predicted


def run_eval(model_path, data_path, out_dir, energy_key=None, forces_key=None, batch_size=10, dtype=None,
             stress_key=None):
    if batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1, got {batch_size}")
    model = load_eval_model(model_path, dtype)
    keys = resolve_keys(model.keys, energy_key, forces_key, stress_key)
    species = SpeciesTable(model.atomic_numbers)
    frames = read_labelled_structures(data_path, keys["energy_key"], keys["forces_key"], keys["stress_key"])
    graphs = [graph_from_atoms(a, species, model.r_max, energy_key=keys["energy_key"], forces_key=keys["forces_key"],
                               stress_key=keys["stress_key"], dtype=torch.float64) for a in frames]
    result = evaluate(model.module, graphs, batch_size, torch.device("cpu"), model.dtype)
    groups, series = _by_config_type(frames, graphs, result)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = format_table(result["metrics"]) + "\n\nPer config_type:\n\n" + format_group_table(groups)
    print(table)
    (out / "table.md").write_text(table + "\n")
    (out / "metrics.json").write_text(json.dumps(
        {"model": str(model_path), "model_kind": model.kind, "data": str(data_path), "frames": len(frames),
         "keys": keys, **result["metrics"], "by_config_type": groups}, indent=2))
    ase.io.write(out / "predictions.xyz", _predictions(frames, result, keys), format="extxyz")
    plot_parity(series, out / "parity.png")
    return result["metrics"]
