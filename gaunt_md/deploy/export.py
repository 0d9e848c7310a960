"""Export a training checkpoint to a self-describing TorchScript file."""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Optional

import torch

from .._version import __version__
from ..data import SpeciesTable
from ..train.checkpoint import model_from_checkpoint, read_checkpoint
from .integrity import DIGEST_KEY, content_digest
from .metadata import EXTRA_FILE, FORMAT, FORMAT_VERSION, dumps


def best_metrics(state: dict) -> dict:
    """Validation metrics of the best epoch recorded in a checkpoint's history."""
    history = json.loads(state.get("history", "[]"))
    if not history:
        return {}
    # the trainer records the best validation loss it kept; compare within that stage only
    # (stage two weighs energies differently, so losses across stages are not comparable)
    kept = [row for row in history if "best" in state and row["valid_loss"] == state["best"]]
    best = kept[-1] if kept else min(history, key=lambda row: row["valid_loss"])
    return {k: v for k, v in best.items() if k.startswith(("e_", "f_", "s_", "v_")) or k == "epoch"}


def _data_keys(state: dict) -> dict:
    data = json.loads(state.get("train_config", "{}")).get("data", {})
    return {key: data.get(key) for key in ("energy_key", "forces_key", "stress_key")}


def export_model(checkpoint, output, dtype: Optional[str] = None) -> dict:
    state = read_checkpoint(checkpoint)
    model = model_from_checkpoint(checkpoint, dtype)
    cfg = model.config
    species = SpeciesTable(list(cfg["atomic_numbers"]))
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "atomic_numbers": species.atomic_numbers,
        "symbols": species.symbols,
        "r_max": cfg["r_max"],
        "num_interactions": cfg["num_interactions"],
        "dtype": dtype or state.get("dtype", "float64"),
        "max_ell": cfg["max_ell"],
        "hidden_lmax": cfg["hidden_lmax"],
        "correlation": cfg["correlation"],
        "channels": cfg["channels"],
        "gaunt_md_version": __version__,
        "torch_version": torch.__version__,
        "custom_op_libraries": {"gaunt_md": "gaunt_md.ops"},
        "metrics": best_metrics(state),
        "data_keys": _data_keys(state),  # label names of the training data: `gaunt-md eval` reuses them
        "model_config": cfg,
    }
    scripted = torch.jit.script(model)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    # the content hash covers every entry but the metadata, so it is taken from a first save
    # (torch writes the same bytes for the same module) and stored in the metadata of the file
    buffer = io.BytesIO()
    torch.jit.save(scripted, buffer, _extra_files={EXTRA_FILE: dumps(meta)})
    meta[DIGEST_KEY] = content_digest(io.BytesIO(buffer.getvalue()))
    torch.jit.save(scripted, str(output), _extra_files={EXTRA_FILE: dumps(meta)})
    if content_digest(output) != meta[DIGEST_KEY]:
        raise RuntimeError(f"writing {output} did not reproduce the exported archive; try again")
    return meta
