"""Load an exported model: metadata first, custom-op libraries imported, then torch.jit.load."""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Optional, Union

import torch

from .metadata import read_metadata

DTYPES = {"float32": torch.float32, "float64": torch.float64}


@dataclass
class LoadedModel:
    module: torch.jit.ScriptModule
    metadata: dict
    device: torch.device
    dtype: torch.dtype

    @property
    def atomic_numbers(self):
        return list(self.metadata["atomic_numbers"])

    @property
    def r_max(self) -> float:
        return float(self.metadata["r_max"])


def resolve_device(device: Union[str, torch.device]) -> torch.device:
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_dtype(dtype: Union[None, str, torch.dtype], default: str) -> torch.dtype:
    if dtype is None:
        dtype = default
    if isinstance(dtype, torch.dtype):
        if dtype not in DTYPES.values():
            raise ValueError(f"dtype must be float32 or float64, got {dtype}")
        return dtype
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return DTYPES[dtype]


def _import_op_libraries(meta: dict, path) -> None:
    for package, module in meta.get("custom_op_libraries", {}).items():
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise RuntimeError(
                f"{path} needs the custom ops of the Python package {package!r} "
                f"(module {module}); install it: pip install {package.replace('_', '-')}"
            ) from err


def load_model(path, device: Union[str, torch.device] = "cpu",
               dtype: Union[None, str, torch.dtype] = None) -> LoadedModel:
    meta = read_metadata(path)
    _import_op_libraries(meta, path)
    device = resolve_device(device)
    dtype_t = resolve_dtype(dtype, meta.get("dtype", "float64"))
    try:
        module = torch.jit.load(str(path), map_location=device)
    except RuntimeError as err:
        text = str(err)
        if "gaunt_md::" in text or "Unknown builtin op" in text:
            raise RuntimeError(f"{path} uses custom ops that are not registered: {text.splitlines()[0]}") from err
        raise ValueError(f"{path} could not be loaded as TorchScript: {text.splitlines()[0]}") from err
    module = module.to(dtype_t)
    module.eval()
    for parameter in module.parameters():
        # inference differentiates by positions only: no weight gradients to build
        parameter.requires_grad_(False)
    return LoadedModel(module=module, metadata=meta, device=device, dtype=dtype_t)
