"""Which Python modules a model file may make the loader import: the custom-op libraries
named in its metadata (`custom_op_libraries`, {package: module}) are imported before
torch.jit.load only when gaunt-md knows them (its own ops) or the user allowed them, by the
`op_libraries` argument of load_model or the GAUNT_MD_OP_LIBRARIES environment variable
("package:module,package:module").  Anything else is an error and nothing is imported."""
from __future__ import annotations

import importlib
import os
from typing import Dict, Mapping, Optional

KNOWN = {"gaunt_md": "gaunt_md.ops"}
ENV = "GAUNT_MD_OP_LIBRARIES"


def allowed_op_libraries(extra: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """{package: module} the loader may import: gaunt-md's own, the environment's, `extra`."""
    allowed = dict(KNOWN)
    for item in filter(None, (s.strip() for s in os.environ.get(ENV, "").split(","))):
        package, sep, module = item.partition(":")
        if not sep or not package.strip() or not module.strip():
            raise ValueError(f"{ENV} entries must be package:module, got {item!r}")
        allowed[package.strip()] = module.strip()
    allowed.update(extra or {})
    return allowed


def requested_op_libraries(meta: dict, path) -> Dict[str, str]:
    """The {package: module} a model file's metadata asks for, checked for shape."""
    requested = meta.get("custom_op_libraries", {})
    if not isinstance(requested, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in requested.items()):
        raise ValueError(f"{path}: corrupt gaunt-md metadata (custom_op_libraries must map package names "
                         f"to module names, got {requested!r})")
    return requested


def import_op_libraries(meta: dict, path, extra: Optional[Mapping[str, str]] = None) -> None:
    """Import the op libraries the model needs, after checking every one against the allow-list."""
    requested = requested_op_libraries(meta, path)
    allowed = allowed_op_libraries(extra)
    foreign = {p: m for p, m in requested.items() if allowed.get(p) != m}
    if foreign:
        names = ", ".join(f"{m} (package {p})" for p, m in foreign.items())
        example = ",".join(f"{p}:{m}" for p, m in foreign.items())
        raise ValueError(
            f"{path} asks to import {names}, which is not a custom-op library gaunt-md knows; nothing was "
            f"imported.  If you trust this file and that package, allow it with {ENV}={example} or "
            f"load_model(..., op_libraries={dict(foreign)!r})"
        )
    for package, module in requested.items():
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise RuntimeError(
                f"{path} needs the custom ops of the Python package {package!r} "
                f"(module {module}); install it: pip install {package.replace('_', '-')}"
            ) from err
