"""Training configuration: YAML -> typed dataclasses with documented defaults."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import List, Optional

import yaml


@dataclass
class DataConfig:
    train_file: str = ""                  # extxyz with labelled structures
    valid_file: Optional[str] = None      # separate validation file; else split train_file
    n_valid: int = 50                     # frames held out from train_file when valid_file is unset
    e0s_file: Optional[str] = None        # isolated-atom energies; else least squares on train
    energy_key: str = "energy"
    forces_key: str = "forces"
    stress_key: Optional[str] = None
    atomic_numbers: Optional[List[int]] = None  # default: the elements found in the data


@dataclass
class OptimConfig:
    optimizer: str = "amsgrad"            # adam | amsgrad
    lr: float = 0.01
    weight_decay: float = 5e-7
    batch_size: int = 5
    valid_batch_size: int = 10
    max_epochs: int = 200
    scheduler_patience: int = 5           # epochs without improvement before the LR is reduced
    scheduler_factor: float = 0.8
    ema_decay: float = 0.99               # 0 disables the exponential moving average
    clip_grad: float = 10.0               # max gradient norm; 0 disables clipping
    energy_weight: float = 1.0            # loss weight of (energy error per atom)^2
    forces_weight: float = 100.0          # loss weight of force component errors^2
    stress_weight: float = 1.0
    stage_two_epoch: Optional[int] = None  # from this epoch on, use the stage-two weights/lr
    stage_two_energy_weight: float = 1000.0
    stage_two_forces_weight: float = 100.0
    stage_two_lr: float = 1e-3
    early_stopping_patience: int = 50     # stop after this many epochs without improvement


@dataclass
class TrainConfig:
    name: str = "gaunt_mace"
    output_dir: str = "runs/gaunt_mace"
    seed: int = 123
    dtype: str = "float64"                # float32 | float64
    valid_dtype: str = "float64"          # validation (metrics, best model) in this dtype: the
                                          # deployed model's, whatever the training dtype
    device: str = "cpu"
    num_threads: Optional[int] = None
    init_from: Optional[str] = None       # checkpoint whose weights (EMA ones if kept) start the
                                          # model: same names and shapes; new ones keep their init
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    model: dict = field(default_factory=dict)  # gaunt_md.nn.ModelConfig options (atomic_numbers,
                                               # e0s, avg_num_neighbors, scale, shift come from data)

    def to_dict(self) -> dict:
        return asdict(self)


def _build(cls, values: dict, where: str):
    known = {f.name for f in fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"unknown option(s) in {where}: {', '.join(sorted(unknown))}")
    return cls(**values)


def config_from_dict(values: dict) -> TrainConfig:
    values = dict(values or {})
    data = _build(DataConfig, values.pop("data", {}) or {}, "data")
    optim = _build(OptimConfig, values.pop("optim", {}) or {}, "optim")
    cfg = _build(TrainConfig, values, "the top level")
    cfg.data, cfg.optim = data, optim
    for key in ("dtype", "valid_dtype"):
        if getattr(cfg, key) not in ("float32", "float64"):
            raise ValueError(f"{key} must be float32 or float64, got {getattr(cfg, key)!r}")
    if cfg.optim.optimizer not in ("adam", "amsgrad"):
        raise ValueError(f"optimizer must be adam or amsgrad, got {cfg.optim.optimizer!r}")
    if not cfg.data.train_file:
        raise ValueError("data.train_file is required")
    return cfg


def load_config(path: str) -> TrainConfig:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"config file not found: {path}")
    with p.open() as fh:
        try:
            values = yaml.safe_load(fh)
        except yaml.YAMLError as err:
            raise ValueError(f"{path}: not valid YAML ({err})") from err
    if not isinstance(values, dict):
        raise ValueError(f"{path}: expected a YAML mapping of options")
    return config_from_dict(values)
