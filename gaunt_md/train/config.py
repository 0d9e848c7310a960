"""Training configuration: YAML -> typed dataclasses with documented defaults."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Union

import yaml

from .validate import check_config, coerce_options


@dataclass
class DataConfig:
    train_file: str = ""                  # extxyz with labelled structures
    valid_file: Optional[str] = None      # separate validation file; else split train_file
    n_valid: Union[int, float] = 50       # frames (or a fraction) held out from train_file when
                                          # valid_file is unset
    split_seed: Optional[int] = None      # seed of that split; None: the run's seed (set it to
                                          # compare seeds of a recipe on the same validation frames)
    test_file: Optional[str] = None       # evaluated once, with the best model, at the end
    extra_train_files: List[str] = field(default_factory=list)  # more labelled frames for training
                                          # only (e.g. active learning): the validation frames
                                          # stay those of train_file / valid_file
    e0s_file: Optional[str] = None        # isolated-atom energies (one single-atom frame each)
    e0s: Union[None, str, Dict[Union[int, str], float]] = None  # None (see e0s.py), "isolated",
                                          # "least_squares", "average" or {element: eV}
    energy_key: str = "energy"
    forces_key: Optional[str] = "forces"
    stress_key: Optional[str] = None
    config_type_weights: Dict[str, float] = field(default_factory=dict)  # info["config_type"] ->
                                          # weight of that frame's energy, forces and stress terms
    atomic_numbers: Optional[List[int]] = None  # default: the elements found in the data


@dataclass
class OptimConfig:
    optimizer: str = "amsgrad"            # adam | amsgrad
    lr: float = 0.01
    weight_decay: float = 5e-7
    batch_size: int = 5
    valid_batch_size: int = 10
    max_epochs: int = 200
    scheduler: str = "plateau"            # plateau: cut the LR by scheduler_factor after
                                          # scheduler_patience epochs without a better validation
                                          # loss | cosine: from lr down to min_lr at max_epochs
    min_lr: float = 0.0                   # where the cosine ends
    scheduler_patience: int = 5           # epochs without improvement before the LR is reduced
    scheduler_factor: float = 0.8
    ema_decay: float = 0.99               # 0 disables the exponential moving average
    clip_grad: float = 10.0               # max gradient norm; 0 disables clipping
    mixing_lr_scale: float = 1.0          # learning-rate factor of the channel-mixing weights
                                          # (equivariant linears, factor mixing; param_groups.py)
    energy_weight: float = 1.0            # loss weight of (energy error per atom)^2
    forces_weight: float = 100.0          # loss weight of force component errors^2
    stress_weight: float = 1.0            # loss weight of stress component errors^2 (eV/A^3)
    stage_two_epoch: Optional[int] = None  # from this epoch on, use the stage-two weights/lr
    stage_two_energy_weight: float = 1000.0
    stage_two_forces_weight: float = 100.0
    stage_two_stress_weight: Optional[float] = None  # None: stress_weight
    stage_two_lr: Optional[float] = 1e-3  # LR at the start of stage two (cosine: a second cosine
                                          # from it); null: the schedule goes on as it was
    early_stopping_patience: int = 50     # stop after this many epochs without improvement
    best_model: str = "valid"             # what best.pt (export, card, test metrics) holds: the epoch of
                                          # lowest validation loss | the last epoch (fine-tuning on data
                                          # unlike the validation frames, whose loss is lowest at the start)


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
    flush_denormal: bool = True           # CPU: subnormal floats computed as 0 (ops/subnormals.py:
                                          # they had made 3BPA epochs 2x slower)
    init_from: Optional[str] = None       # checkpoint whose weights (EMA ones if kept) start the
                                          # model: same names and shapes; new ones keep their init
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    model: dict = field(default_factory=dict)  # gaunt_md.nn.ModelConfig options (atomic_numbers,
                                               # e0s, avg_num_neighbors, scale, shift come from data)

    def to_dict(self) -> dict:
        return asdict(self)


def _build(cls, values, where: str):
    if not isinstance(values, dict):
        raise ValueError(f"{where} must be a mapping of options, got {values!r}")
    return cls(**coerce_options(cls, values, where))


def config_from_dict(values: dict, check_files: bool = True) -> TrainConfig:
    """The config of a YAML mapping, every option checked (types, ranges, model options; with
    `check_files`, the files it names) before any work: see validate.py."""
    values = dict(values or {})
    data = _build(DataConfig, values.pop("data", {}) or {}, "data")
    optim = _build(OptimConfig, values.pop("optim", {}) or {}, "optim")
    cfg = _build(TrainConfig, values, "the top level")
    cfg.data, cfg.optim = data, optim
    check_config(cfg, files=check_files)
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
