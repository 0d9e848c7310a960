"""Checkpoints: plain dicts of tensors and numbers (loadable with weights_only=True), never
pickled modules."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import torch

from ..nn import GauntMACE, ModelConfig

FORMAT = "gaunt-md-checkpoint"
FORMAT_VERSION = 2
# model options that format-1 checkpoints predate, with the behaviour those models were trained with
FORMAT_1_MODEL_OPTIONS = {"zbl_cutoff": "covalent", "radial_parametrisation": "plain", "first_layer_skip": False,
                          "product_rank": 1, "separate_paths": False}
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def save_checkpoint(path: Path, state: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save({"format": FORMAT, "format_version": FORMAT_VERSION, **state}, tmp)
    tmp.replace(path)  # atomic: a run killed mid-write keeps the previous checkpoint


def read_checkpoint(path) -> dict:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ValueError(f"{path} is not a readable gaunt-md checkpoint ({err})") from err
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{path} is not a gaunt-md checkpoint")
    if state.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"{path} has checkpoint format {state['format_version']}, newer than this gaunt-md "
            f"understands ({FORMAT_VERSION}); upgrade gaunt-md"
        )
    if state.get("format_version", 0) < 2 and isinstance(state.get("model_config"), dict):
        state["model_config"] = {**FORMAT_1_MODEL_OPTIONS, **state["model_config"]}
    return state


def model_from_checkpoint(path, dtype: Optional[str] = None) -> GauntMACE:
    """The deployable model of a checkpoint (EMA weights where the run kept them)."""
    state = read_checkpoint(path)
    return deployed_model(state["model_config"], state["ema_model_state"] or state["model_state"],
                          DTYPES[dtype or state.get("dtype", "float64")])


def deployed_model(model_config: dict, weights: dict, dtype: torch.dtype, device="cpu") -> GauntMACE:
    """A model built from its config and given the weights, in eval mode: its derived constants
    (coupling and quadrature matrices) are computed in float64 and then cast, never carried over
    from a float32 model, so the model predicts what the export of these weights predicts."""
    model = GauntMACE(ModelConfig.from_dict(model_config))
    model.load_state_dict(weights)
    model.to(device=device, dtype=dtype)
    model.eval()
    return model
