"""Load an exported model: metadata first, the archive verified (CRCs, content hash), the
allowed custom-op libraries imported, then torch.jit.load and the metadata checked against the
module."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Mapping, Optional, Union

import torch

from ..ops.subnormals import flush_subnormals
from .consistency import check_consistency
from .integrity import verify_archive
from .metadata import read_metadata
from .op_libraries import import_op_libraries
from .routes import apply_routes

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


def load_model(path, device: Union[str, torch.device] = "cpu",
               dtype: Union[None, str, torch.dtype] = None,
               op_libraries: Optional[Mapping[str, str]] = None,
               routes: Optional[Mapping[str, str]] = None, flush_denormal: bool = True) -> LoadedModel:
    """The model of an exported file.  `op_libraries` ({package: module}) adds to the custom-op
    libraries the file may make the loader import (gaunt-md's own; see deploy/op_libraries.py).
    `routes` ({op: route}, see gaunt_md/ops/routes.py) chooses how the ops run.  A float32 model
    on CPU makes this process compute subnormal floats as zero from here on (2.8x faster on
    3BPA; gaunt_md/ops/subnormals.py), unless `flush_denormal` is False."""
    meta = read_metadata(path)
    verify_archive(path, meta)
    import_op_libraries(meta, path, op_libraries)
    device = resolve_device(device)
    dtype_t = resolve_dtype(dtype, meta.get("dtype", "float64"))
    try:
        module = torch.jit.load(str(path), map_location=device)
    except RuntimeError as err:
        text = str(err)
        if "gaunt_md::" in text or "Unknown builtin op" in text:
            raise RuntimeError(f"{path} uses custom ops that are not registered: {text.splitlines()[0]}") from err
        raise ValueError(f"{path} could not be loaded as TorchScript: {text.splitlines()[0]}") from err
    check_consistency(module, meta, path)
    module = module.to(dtype_t)
    module.eval()
    apply_routes(module, routes)
    if flush_denormal and dtype_t == torch.float32 and device.type == "cpu":
        problem = flush_subnormals()
        if problem:
            warnings.warn(problem, RuntimeWarning, stacklevel=2)
    for parameter in module.parameters():
        # inference differentiates by positions only: no weight gradients to build
        parameter.requires_grad_(False)
    return LoadedModel(module=module, metadata=meta, device=device, dtype=dtype_t)
