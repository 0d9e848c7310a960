"""The metadata of a model file against the module it describes: the calculator and LAMMPS
take r_max, the elements and the number of layers from the metadata, so a value that is not
the module's own would give wrong results silently.  Also: every weight must be finite."""
from __future__ import annotations

import math

import torch
from ase.data import chemical_symbols


def _module_values(module, path) -> dict:
    try:
        return {
            "r_max": float(module.r_max),
            "num_interactions": int(module.num_interactions),
            "atomic_numbers": [int(z) for z in module.atomic_numbers.tolist()],
        }
    except (AttributeError, RuntimeError, TypeError, ValueError) as err:
        raise ValueError(f"{path} is not a gaunt-md model: the module does not carry r_max, "
                         f"num_interactions and atomic_numbers ({err})") from err


def _same(key: str, a, b) -> bool:
    if key == "r_max":
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=0.0)
        except (TypeError, ValueError):
            return False
    if key == "atomic_numbers":
        return isinstance(a, list) and [int(z) for z in a if isinstance(z, int)] == b and len(a) == len(b)
    return a == b


def check_consistency(module: torch.jit.ScriptModule, meta: dict, path) -> None:
    """ValueError naming the first metadata value that differs from the module's own."""
    own = _module_values(module, path)
    config = meta.get("model_config") if isinstance(meta.get("model_config"), dict) else {}
    for where, values in (("metadata", meta), ("metadata model_config", config)):
        for key, value in own.items():
            if key in values and not _same(key, values[key], value):
                raise ValueError(f"{path}: {where} says {key} = {values[key]!r} but the model in the file has "
                                 f"{value!r}; the file was edited or is corrupt: export the model again")
    for key in ("r_max", "num_interactions", "atomic_numbers"):
        if key not in meta:
            raise ValueError(f"{path}: corrupt gaunt-md metadata (no {key})")
    symbols = [chemical_symbols[z] if 0 < z < len(chemical_symbols) else "?" for z in own["atomic_numbers"]]
    if "symbols" in meta and meta["symbols"] != symbols:
        raise ValueError(f"{path}: metadata symbols {meta['symbols']} do not match the model's elements {symbols}")
    for name, tensor in list(module.named_parameters()) + list(module.named_buffers()):
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ValueError(f"{path}: the model's {name} holds NaN or infinite values; the file is corrupt")
