"""`gaunt-md eval`: errors of a model on a labelled extxyz, as a table, JSON and extxyz."""
from __future__ import annotations

import json
from pathlib import Path

import ase.io
import torch
from ase.calculators.singlepoint import SinglePointCalculator

from .data import SpeciesTable, graph_from_atoms, read_labelled_structures
from .train.checkpoint import DTYPES, model_from_checkpoint
from .train.evaluate import evaluate


def format_table(metrics: dict) -> str:
    rows = [
        ("E RMSE", "meV", metrics["e_rmse_meV"]), ("E MAE", "meV", metrics["e_mae_meV"]),
        ("E RMSE", "meV/atom", metrics["e_rmse_meV_per_atom"]), ("E MAE", "meV/atom", metrics["e_mae_meV_per_atom"]),
    ]
    if "f_rmse_meV_per_A" in metrics:
        rows += [("F RMSE", "meV/A", metrics["f_rmse_meV_per_A"]), ("F MAE", "meV/A", metrics["f_mae_meV_per_A"])]
    lines = ["| metric | unit | value |", "|---|---|---|"]
    lines += [f"| {name} | {unit} | {value:.3f} |" for name, unit, value in rows]
    return "\n".join(lines)


def run_eval(model_path, data_path, out_dir, energy_key="energy", forces_key="forces", batch_size=10, dtype=None):
    model = model_from_checkpoint(model_path, dtype)
    dtype_t = next(model.parameters()).dtype
    species = SpeciesTable(model.atomic_numbers.tolist())
    frames = read_labelled_structures(data_path, energy_key, forces_key)
    graphs = [graph_from_atoms(a, species, model.r_max, energy_key=energy_key, forces_key=forces_key, dtype=dtype_t)
              for a in frames]
    result = evaluate(model, graphs, batch_size, torch.device("cpu"), dtype_t)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = format_table(result["metrics"])
    print(table)
    (out / "table.md").write_text(table + "\n")
    (out / "metrics.json").write_text(json.dumps({"model": str(model_path), "data": str(data_path),
                                                  "frames": len(frames), **result["metrics"]}, indent=2))
    predicted = []
    for atoms, energy, forces in zip(frames, result["energy"], result["forces"]):
        copy = atoms.copy()
        # the references move to ref_energy/ref_forces: ASE refuses to write a calculator's
        # energy/forces next to info/arrays keys of the same name
        copy.info["ref_energy"] = copy.info.pop(energy_key)
        if forces_key:
            copy.arrays["ref_forces"] = copy.arrays.pop(forces_key)
        copy.calc = SinglePointCalculator(copy, energy=energy, forces=forces)
        predicted.append(copy)
    ase.io.write(out / "predictions.xyz", predicted, format="extxyz")
    return result["metrics"]
