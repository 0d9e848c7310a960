"""A Markdown model card written from a training checkpoint: what was trained, on what, how
long, on which machine, and how well it does on the validation split."""
from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import torch

from ..nn import GauntMACE, ModelConfig, count_parameters
from ..train.checkpoint import read_checkpoint
from ..train.config import config_from_dict
from ..train.dataset import split_seed
from .export import best_metrics
from .metadata import FORMAT_VERSION as MODEL_FORMAT_VERSION
from .._version import __version__


def _hardware() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPU cores ({cpu}), torch {torch.__version__}"


def write_model_card(checkpoint, path, title: str, notes: str = "") -> str:
    state = read_checkpoint(checkpoint)
    history = json.loads(state["history"])
    train_cfg = json.loads(state["train_config"])
    model = GauntMACE(ModelConfig.from_dict(state["model_config"]))
    metrics = best_metrics(state)
    last = history[-1] if history else {}
    config = config_from_dict(train_cfg, check_files=False)
    data = train_cfg["data"]
    stress_key = f", stress key `{data['stress_key']}`" if data.get("stress_key") else ""
    e0s = data["e0s_file"] or data.get("e0s") or "isolated atoms in the training file, else least squares"
    lines = [
        f"# {title}",
        "",
        "Gaunt-MACE potential trained with `gaunt-md train`. Numbers below are read from the",
        "training checkpoint; validation frames were held out of training.",
        "",
        "| item | value |",
        "|---|---|",
        f"| data | `{data['train_file']}` (energy key `{data['energy_key']}`, forces key `{data['forces_key']}`{stress_key}) |",
        f"| split | " + (f"validation file `{data['valid_file']}`" if data.get("valid_file") else
                       f"{data['n_valid']} validation frames held out, seed {split_seed(config)}")
        + (f"; test file `{data['test_file']}`" if data.get("test_file") else "") + " |",
    ]
    if data.get("extra_train_files"):
        lines.append("| more training frames | " + ", ".join(f"`{f}`" for f in data["extra_train_files"])
                     + " (trained on, never validated on) |")
    if train_cfg.get("init_from"):
        lines.append(f"| started from | `{train_cfg['init_from']}` (its weights; fine-tuned) |")
    lines += [
        f"| E0s | {e0s} |",
        f"| parameters | {count_parameters(model):,} |",
        f"| training dtype | {state.get('dtype')} |",
        f"| epochs run | {state['epoch']} (best at epoch {metrics.get('epoch', '-')}) |",
        f"| wall time | {state['elapsed_s'] / 3600:.2f} h |",
        f"| hardware | {_hardware()} |",
        f"| model file format | `gaunt-md export` writes format {MODEL_FORMAT_VERSION} (gaunt-md {__version__}) |",
        "",
        "## Validation metrics (best epoch, EMA weights)",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    units = {"e_rmse_meV": "E RMSE (meV)", "e_mae_meV": "E MAE (meV)",
             "e_rmse_meV_per_atom": "E RMSE (meV/atom)", "e_mae_meV_per_atom": "E MAE (meV/atom)",
             "f_rmse_meV_per_A": "F RMSE (meV/A)", "f_mae_meV_per_A": "F MAE (meV/A)",
             "s_rmse_meV_per_A3": "stress RMSE (meV/A^3)", "s_mae_meV_per_A3": "stress MAE (meV/A^3)",
             "v_rmse_meV_per_atom": "virial RMSE (meV/atom)", "v_mae_meV_per_atom": "virial MAE (meV/atom)"}
    lines += [f"| {label} | {metrics[key]:.2f} |" for key, label in units.items() if key in metrics]
    if state.get("test_metrics"):
        test = json.loads(state["test_metrics"])
        lines += ["", f"## Test metrics ({test['frames']} frames of the test file, best model, evaluated once)",
                  "", "| metric | value |", "|---|---|"]
        lines += [f"| {label} | {test[key]:.2f} |" for key, label in units.items() if key in test]
    if last:
        lines += ["", f"Last epoch ({last['epoch']}): F RMSE {last.get('f_rmse_meV_per_A', float('nan')):.2f} meV/A, "
                      f"E RMSE {last['e_rmse_meV']:.2f} meV, learning rate {last['lr']:.2e}."]
    lines += ["", "## Model configuration", "", "```json", json.dumps(state["model_config"], indent=2), "```",
              "", "## Training configuration", "", "```json", json.dumps(train_cfg, indent=2), "```"]
    if notes:
        lines += ["", "## Notes", "", notes]
    text = "\n".join(lines) + "\n"
    Path(path).write_text(text)
    return text
