"""What `gaunt-md eval` evaluates: a training checkpoint or an exported model file, with the
label keys of the data it was trained on."""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch

from .checkpoint import model_from_checkpoint, read_checkpoint

DEFAULT_KEYS = {"energy_key": "energy", "forces_key": "forces", "stress_key": None}


@dataclass
class EvalModel:
    module: torch.nn.Module        # GauntMACE or its TorchScript export (same forward)
    dtype: torch.dtype
    atomic_numbers: list
    r_max: float
    keys: dict                     # energy_key / forces_key / stress_key of the training data
    kind: str                      # "checkpoint" | "model file"


def _is_model_file(path: Path) -> bool:
    """A TorchScript archive (code/ entries, gaunt-md metadata); a checkpoint is a torch.save zip
    of tensors without code."""
    if not (path.is_file() and zipfile.is_zipfile(path)):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return any("/code/" in name or name.endswith("/extra/gaunt_md.json") for name in archive.namelist())
    except zipfile.BadZipFile:
        return False


def load_eval_model(path, dtype: Optional[str] = None) -> EvalModel:
    path = Path(path)
    if _is_model_file(path):
        from ..deploy import load_model

        loaded = load_model(path, device="cpu", dtype=dtype)
        stored = loaded.metadata.get("data_keys") or {}
        return EvalModel(loaded.module, loaded.dtype, loaded.atomic_numbers, loaded.r_max,
                         {**DEFAULT_KEYS, **{k: v for k, v in stored.items() if k in DEFAULT_KEYS}}, "model file")
    state = read_checkpoint(path)
    model = model_from_checkpoint(path, dtype)
    data = json.loads(state.get("train_config", "{}")).get("data", {})
    keys = {key: data.get(key, default) for key, default in DEFAULT_KEYS.items()}
    return EvalModel(model, next(model.parameters()).dtype, model.atomic_numbers.tolist(), model.r_max, keys,
                     "checkpoint")


def resolve_keys(stored: dict, energy_key=None, forces_key=None, stress_key=None) -> dict:
    """Keys given on the command line win over the stored ones; "none" turns forces or stress off."""
    given = {"energy_key": energy_key, "forces_key": forces_key, "stress_key": stress_key}
    keys = {k: (given[k] if given[k] is not None else stored.get(k)) for k in DEFAULT_KEYS}
    for k in ("forces_key", "stress_key"):
        if isinstance(keys[k], str) and keys[k].lower() == "none":
            keys[k] = None
    if not keys["energy_key"]:
        keys["energy_key"] = "energy"
    return keys
