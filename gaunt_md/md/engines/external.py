"""Any ASE calculator in the stability protocol and `gaunt-md scan`: `--calculator SPEC` names a
factory, called as `factory(model)` (once in every MD process), that returns the calculator (a
baseline model, a quantum-chemistry code, a calculator living in another virtual environment
behind ASE's socket calculator).  SPEC is `package.module:function` or `path/to/file.py:function`."""
from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Callable, Optional


def calculator_factory(spec: str) -> Callable:
    """The function SPEC names; ValueError (naming SPEC) if it cannot be found."""
    where, sep, name = str(spec).rpartition(":")
    if not sep or not where or not name.isidentifier():
        raise ValueError(f"--calculator must be 'module:function' or 'file.py:function', got {spec!r}")
    try:
        if where.endswith(".py"):
            path = Path(where)
            if not path.is_file():
                raise FileNotFoundError(f"--calculator: no file {where}")
            module_spec = importlib.util.spec_from_file_location(f"gaunt_md_calculator_{path.stem}", path)
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(where)
    except ImportError as err:
        raise ValueError(f"--calculator {spec}: cannot import {where} ({err})") from None
    factory = getattr(module, name, None)
    if not callable(factory):
        raise ValueError(f"--calculator {spec}: {where} has no function {name}")
    return factory


def build_calculator(model, spec: Optional[str] = None, **gaunt_options):
    """The calculator for `model`: SPEC's factory called with it, or with SPEC None gaunt-md's own
    (`GauntCalculator(model, **gaunt_options)`)."""
    if spec is not None:
        return calculator_factory(spec)(str(model))
    from ...calculators import GauntCalculator

    return GauntCalculator(str(model), **gaunt_options)
