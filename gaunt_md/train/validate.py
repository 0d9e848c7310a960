"""Checks of a whole training config before any work: types (from the dataclass annotations),
ranges, choices, model options and the files it names.  Every error names the option."""
from __future__ import annotations

import math
import typing
from dataclasses import fields
from pathlib import Path
from typing import Any, Dict, Union

from .schedule import SCHEDULERS

FLOAT_TYPES = (int, float)


def _type_name(hint) -> str:
    origin = typing.get_origin(hint)
    if origin is Union:
        names = [_type_name(a) for a in typing.get_args(hint) if a is not type(None)]
        return " or ".join(names) + (" or null" if type(None) in typing.get_args(hint) else "")
    if origin in (list, typing.List):
        return f"a list of {_type_name(typing.get_args(hint)[0])}"
    if origin in (dict, typing.Dict):
        return "a mapping"
    return {float: "a number", int: "a whole number", str: "a string", bool: "true or false"}.get(hint, str(hint))


class _Mismatch(Exception):
    pass


def _coerce(value: Any, hint) -> Any:
    """value as `hint` wants it, or _Mismatch.  Whole numbers pass as floats, and strings that
    read as numbers do too (YAML 1.1 reads `1e-3`, without a dot, as a string)."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin is Union:
        for option in typing.get_args(hint):
            try:
                return _coerce(value, option)
            except _Mismatch:
                continue
        raise _Mismatch
    if hint is type(None):
        if value is None:
            return None
        raise _Mismatch
    if origin in (list, typing.List):
        if not isinstance(value, (list, tuple)):
            raise _Mismatch
        return [_coerce(v, typing.get_args(hint)[0]) for v in value]
    if origin in (dict, typing.Dict):
        if not isinstance(value, dict):
            raise _Mismatch
        key_t, value_t = typing.get_args(hint)
        return {_coerce(k, key_t): _coerce(v, value_t) for k, v in value.items()}
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise _Mismatch
    if isinstance(value, bool):
        raise _Mismatch
    if hint is float:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise _Mismatch from None
        if isinstance(value, FLOAT_TYPES) and math.isfinite(value):
            return float(value)
        raise _Mismatch
    if isinstance(value, hint):  # int, str and other plain classes (bools were refused above)
        return value
    raise _Mismatch


def coerce_options(cls, values: Dict[str, Any], where: str) -> Dict[str, Any]:
    """Known options of dataclass `cls` converted to their annotated types; ValueError for an
    unknown option or a value of the wrong type."""
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"unknown option(s) in {where}: {', '.join(sorted(unknown))} "
                         f"(known: {', '.join(sorted(known))})")
    out = {}
    for key, value in values.items():
        try:
            out[key] = _coerce(value, hints[key])
        except _Mismatch:
            prefix = "" if where == "the top level" else f"{where}."
            raise ValueError(f"{prefix}{key} must be {_type_name(hints[key])}, got {value!r}") from None
    return out


def _choice(value, choices, name: str) -> None:
    if value not in choices:
        options = " or ".join(choices) if len(choices) == 2 else "one of " + ", ".join(choices)
        raise ValueError(f"{name} must be {options}, got {value!r}")


def _at_least(value, low, name: str, strict: bool = False) -> None:
    if value is not None and (value <= low if strict else value < low):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {low}, got {value!r}")


# model options whose default is a value the trainer takes from the data (build_model)
DATA_DEFAULTS = {"scale": "auto", "shift": "mean", "radial_floor": "auto"}


def _check_model(model: dict) -> None:
    """The model options as ModelConfig types (in place), checked by ModelConfig.validate."""
    from ..nn import ModelConfig

    options = dict(model)
    for key in ("atomic_numbers", "e0s", "avg_num_neighbors"):
        if key in options:
            raise ValueError(f"model.{key} comes from the data; set data.atomic_numbers / data.e0s instead")
    scale, shift = (options.pop(key, DATA_DEFAULTS[key]) for key in ("scale", "shift"))
    if scale != "auto":
        scale = coerce_options(ModelConfig, {"scale": scale}, "model")["scale"]
    if shift != "mean":
        shift = coerce_options(ModelConfig, {"shift": shift}, "model")["shift"]
    floor = options.pop("radial_floor", DATA_DEFAULTS["radial_floor"])
    if floor != "auto":  # its keys name species pairs: checked against the data's species later
        model["radial_floor"] = coerce_options(ModelConfig, {"radial_floor": floor}, "model")["radial_floor"]
    typed = coerce_options(ModelConfig, options, "model")
    ModelConfig(atomic_numbers=[1], scale=1.0 if scale == "auto" else scale,
                shift=0.0 if shift == "mean" else shift, **typed).validate()
    model.update(typed)


def check_config(cfg, files: bool = True) -> None:
    """Choices, ranges and model options of a built TrainConfig; with `files`, that the files it
    names exist."""
    d, o = cfg.data, cfg.optim
    _choice(cfg.dtype, ("float32", "float64"), "dtype")
    _choice(cfg.valid_dtype, ("float32", "float64"), "valid_dtype")
    _choice(o.optimizer, ("adam", "amsgrad"), "optimizer")
    if not d.train_file:
        raise ValueError("data.train_file is required")
    if d.e0s_file and d.e0s is not None:
        raise ValueError("give data.e0s_file or data.e0s, not both")
    if isinstance(d.e0s, str):
        _choice(d.e0s, ("isolated", "least_squares", "average"), "data.e0s")
    if isinstance(d.e0s, dict):
        from ..data.e0s import e0s_from_mapping
        e0s_from_mapping(d.e0s)  # element names checked here
    if not d.energy_key:
        raise ValueError("data.energy_key is required")
    for name, weight in d.config_type_weights.items():
        _at_least(weight, 0.0, f"data.config_type_weights[{name!r}]")
    _choice(o.scheduler, SCHEDULERS, "optim.scheduler")
    if o.min_lr < 0 or o.min_lr > o.lr:
        raise ValueError(f"optim.min_lr must lie in [0, optim.lr], got {o.min_lr!r}")
    for name in ("lr", "stage_two_lr"):
        _at_least(getattr(o, name), 0.0, f"optim.{name}")
    for name in ("batch_size", "valid_batch_size"):
        _at_least(getattr(o, name), 1, f"optim.{name}")
    for name in ("max_epochs", "scheduler_patience", "early_stopping_patience", "stage_two_epoch"):
        _at_least(getattr(o, name), 0, f"optim.{name}")
    for name in ("weight_decay", "clip_grad", "energy_weight", "forces_weight", "stress_weight",
                 "stage_two_energy_weight", "stage_two_forces_weight", "stage_two_stress_weight"):
        _at_least(getattr(o, name), 0.0, f"optim.{name}")
    _choice(o.best_model, ("valid", "last"), "optim.best_model")
    if not 0 <= o.ema_decay < 1:
        raise ValueError(f"optim.ema_decay must lie in [0, 1), got {o.ema_decay!r}")
    if not o.mixing_lr_scale > 0:
        raise ValueError(f"optim.mixing_lr_scale must be positive, got {o.mixing_lr_scale!r}")
    if not 0 < o.scheduler_factor < 1:
        raise ValueError(f"optim.scheduler_factor must lie in (0, 1), got {o.scheduler_factor!r}")
    _at_least(cfg.num_threads, 1, "num_threads")
    _check_model(cfg.model)
    if files:
        for name in ("train_file", "valid_file", "test_file", "e0s_file"):
            path = getattr(d, name)
            if path and not Path(path).is_file():
                raise FileNotFoundError(f"data.{name}: file not found: {path}")
        for path in d.extra_train_files:
            if not Path(path).is_file():
                raise FileNotFoundError(f"data.extra_train_files: file not found: {path}")
        if cfg.init_from and not Path(cfg.init_from).is_file():
            raise FileNotFoundError(f"init_from: checkpoint not found: {cfg.init_from}")
