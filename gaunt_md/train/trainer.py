"""The training loop: AMSGrad/Adam, LR on plateau or cosine, EMA, gradient clipping, two-stage loss
weights, early stopping, CSV log, learning-curve plot, best/last checkpoints, exact resume."""
from __future__ import annotations

import csv
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from ..nn import GauntMACE, ModelConfig, count_parameters
from ..ops.subnormals import flush_subnormals
from .checkpoint import DTYPES, deployed_model, read_checkpoint, save_checkpoint
from .config import TrainConfig, config_from_dict
from .dataset import PreparedData, batches, prepare_data
from .evaluate import evaluate
from .logs import log as log_message
from .logs import log_to_file
from .loss import validation_loss, weighted_loss
from .output_dir import prepare_output_dir
from .param_groups import optimizer_order, parameter_groups
from .plots import plot_learning_curve
from .progress import progress
from .schedule import check_lr_override, cosine_lr
from .validate import DATA_DEFAULTS


@dataclass
class Stage:
    energy_weight: float
    forces_weight: float
    lr: Optional[float]
    stress_weight: float = 1.0

    @property
    def weights(self) -> tuple:
        return self.energy_weight, self.forces_weight, self.stress_weight


def _stage(cfg: TrainConfig, epoch: int) -> Stage:
    o = cfg.optim
    if o.stage_two_epoch is not None and epoch >= o.stage_two_epoch:
        stress = o.stress_weight if o.stage_two_stress_weight is None else o.stage_two_stress_weight
        return Stage(o.stage_two_energy_weight, o.stage_two_forces_weight, o.stage_two_lr, stress)
    return Stage(o.energy_weight, o.forces_weight, None, o.stress_weight)


def _mixing_lr_scale(state: dict) -> float:
    """The channel-mixing learning-rate factor a checkpoint's optimiser ran with, read from its
    parameter groups (1 for a single group, as before optim.mixing_lr_scale)."""
    groups = (state.get("optimizer_state") or {}).get("param_groups") or [{}]
    return float(groups[-1].get("lr_scale", 1.0)) if len(groups) > 1 else 1.0


def _comparable(value):
    """Config values as JSON round-trips them (a checkpoint's int keys come back as strings)."""
    return json.loads(json.dumps(value, sort_keys=True))


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


AUTO_FLOOR_MARGIN = 0.15  # A below the closest training pair


def auto_radial_floor(closest: Dict[str, float]) -> Dict[str, float]:
    """The radial floor of each species pair: AUTO_FLOOR_MARGIN below its closest training
    distance, so that the bound never touches a training frame (softplus width 0.03 A: < 2e-4 A
    shift there) while the network never sees a distance it was not trained on."""
    return {key: round(max(d - AUTO_FLOOR_MARGIN, 0.0), 3) for key, d in closest.items()}


def build_model(cfg: TrainConfig, data: PreparedData, start: Optional[dict] = None) -> GauntMACE:
    """The model of cfg.model, with what the data fixes: species, E0s, average neighbour count,
    scale (`auto`: the RMS force component), shift (`mean`, the default: the mean per-atom
    energy above the E0s) and radial floor (`auto`, the default: see auto_radial_floor).
    start: the model config of an init_from checkpoint, whose average neighbour count and data
    scale/shift are kept: statistics of new data (hotter frames: larger forces) would rescale
    every trained weight's contribution and undo the warm start."""
    options = dict(cfg.model)
    scale, shift, floor = (options.get(key, DATA_DEFAULTS[key]) for key in ("scale", "shift", "radial_floor"))
    if start:
        neighbours, data_scale, data_shift = start["avg_num_neighbors"], start["scale"], start["shift"]
    else:
        neighbours, data_scale, data_shift = data.avg_num_neighbors, data.scale, data.mean_energy
    options.update(
        atomic_numbers=data.species.atomic_numbers, e0s=data.e0s, avg_num_neighbors=neighbours,
        scale=data_scale if scale == "auto" else scale, shift=data_shift if shift == "mean" else shift,
        radial_floor=auto_radial_floor(data.closest_pairs) if floor == "auto" else floor,
    )
    return GauntMACE(ModelConfig.from_dict(options)).to(DTYPES[cfg.dtype])


class Trainer:
    def __init__(self, cfg: TrainConfig, resume: bool = False, log=log_message, overwrite: bool = False):
        self.cfg = cfg
        self.log = log
        self.out = Path(cfg.output_dir)
        if resume and not (self.out / "last.pt").exists():
            raise FileNotFoundError(f"--resume: no checkpoint at {self.out / 'last.pt'}")
        prepare_output_dir(self.out, resume, overwrite, check_only=True)  # before any work
        problem = flush_subnormals() if cfg.flush_denormal and cfg.device == "cpu" else None
        if problem:
            log(f"warning: {problem}")
        if cfg.num_threads:
            torch.set_num_threads(cfg.num_threads)
        _seed_everything(cfg.seed)
        self.device = torch.device(cfg.device)
        self.dtype = DTYPES[cfg.dtype]
        self.data = prepare_data(cfg, log=log)
        source = read_checkpoint(cfg.init_from) if cfg.init_from else None  # read once: constants, weights
        start = source["model_config"] if source else None
        self.model = build_model(cfg, self.data, start).to(self.device)
        if start:
            log(f"model: average neighbour count {start['avg_num_neighbors']:.4g}, scale {start['scale']:.4g} and "
                f"shift {start['shift']:.4g} of {cfg.init_from} (this data: {self.data.avg_num_neighbors:.4g}, "
                f"RMS force {self.data.scale:.4g} eV/A)")
        mc = self.model.config
        log(f"model: {count_parameters(self.model):,} trainable parameters; energy = E0 + {mc['shift']:.4g} "
            f"+ {mc['scale']:.4g} x network" + (" + ZBL repulsion" if mc["pair_repulsion"] == "zbl" else ""))
        o = cfg.optim
        self.optimizer = torch.optim.Adam(
            parameter_groups(self.model, o.lr, o.mixing_lr_scale), lr=o.lr, weight_decay=o.weight_decay,
            amsgrad=o.optimizer == "amsgrad",
        )
        self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            self.optimizer, factor=o.scheduler_factor, patience=o.scheduler_patience
        )
        if source and not resume:
            self._init_from(cfg.init_from, source)
        self.ema = (
            AveragedModel(self.model, multi_avg_fn=get_ema_multi_avg_fn(o.ema_decay), use_buffers=True)
            if o.ema_decay > 0 else None
        )
        self.epoch = 0
        self.best = float("inf")
        self.stale = 0
        self.history: List[dict] = []
        self._valid_model: Optional[GauntMACE] = None  # the model in valid_dtype, when it differs
        self.started = time.time()
        self.elapsed_before = 0.0
        # the directory is made (old outputs cleared with overwrite) once data, model and
        # init_from weights are ready: a start that fails leaves nothing behind
        prepare_output_dir(self.out, resume, overwrite)
        log_to_file(self.out)
        if resume:
            self._resume()
        with open(self.out / "config.json", "w") as fh:
            json.dump(cfg.to_dict(), fh, indent=2)

    # -- checkpoints ------------------------------------------------------------------------
    def _state(self) -> dict:
        return {
            "dtype": self.cfg.dtype,
            "model_config": self.model.config,
            "model_state": self.model.state_dict(),
            "ema_model_state": self.ema.module.state_dict() if self.ema is not None else None,
            "ema_state": self.ema.state_dict() if self.ema is not None else None,
            "optimizer_state": self.optimizer.state_dict(),
            "scheduler_state": self.scheduler.state_dict(),
            "epoch": self.epoch,
            "best": self.best,
            "stale": self.stale,
            "history": json.dumps(self.history),
            "train_config": json.dumps(self.cfg.to_dict()),
            "elapsed_s": self.elapsed_before + time.time() - self.started,
            "valid_loss_terms": self._valid_loss_terms(),
        }

    def _valid_loss_terms(self) -> List[str]:
        """The labels the validation loss (and so the best-model choice) weighs."""
        terms = ["energy", "forces"]
        return terms + ["stress"] if any(g.stress is not None for g in self.data.valid) else terms

    def _resume(self) -> None:
        path = self.out / "last.pt"
        if not path.exists():
            raise FileNotFoundError(f"--resume: no checkpoint at {path}")
        state = read_checkpoint(path)
        differ = sorted(k for k in set(state["model_config"]) | set(self.model.config)
                        if _comparable(state["model_config"].get(k)) != _comparable(self.model.config.get(k)))
        if differ:
            raise ValueError(f"--resume: the model in {path} differs from the one this config builds "
                             f"({', '.join(differ)}); start a new run (or init_from the checkpoint)")
        self.model.load_state_dict(state["model_state"])
        if self.ema is not None and state["ema_state"] is not None:
            self.ema.load_state_dict(state["ema_state"])
        scale_before = _mixing_lr_scale(state)
        if scale_before != self.cfg.optim.mixing_lr_scale:
            raise ValueError(f"--resume: optim.mixing_lr_scale was {scale_before:g} in {path}, "
                             f"{self.cfg.optim.mixing_lr_scale:g} now; start a new run (or init_from the checkpoint)")
        self.optimizer.load_state_dict(state["optimizer_state"])
        self.scheduler.load_state_dict(state["scheduler_state"])
        self.epoch, self.best, self.stale = state["epoch"], state["best"], state["stale"]
        self.history = json.loads(state["history"])
        self.elapsed_before = state["elapsed_s"]
        self.log(f"resumed from {path} after epoch {self.epoch}")
        before = _stage(config_from_dict(json.loads(state["train_config"]), check_files=False), self.epoch)
        now = _stage(self.cfg, self.epoch)
        terms_before = state.get("valid_loss_terms", ["energy", "forces"])  # checkpoints before stress
        if terms_before != self._valid_loss_terms():
            self._restart_bookkeeping()
            self.log(f"the validation loss now weighs {', '.join(self._valid_loss_terms())} (the checkpoint's "
                     f"weighed {', '.join(terms_before)}): best model, early stopping and LR plateau count afresh")
        elif before.weights != now.weights:
            self._restart_bookkeeping()
            self.log(f"loss weights changed since the checkpoint (energy {before.energy_weight:g} -> "
                     f"{now.energy_weight:g}, forces {before.forces_weight:g} -> {now.forces_weight:g}, "
                     f"stress {before.stress_weight:g} -> {now.stress_weight:g}): "
                     f"best model, early stopping and LR plateau count afresh")

    def _init_from(self, path: str, state: dict) -> None:
        """Weights (and Adam moments) of the init_from checkpoint at path, already read as state."""
        source = state["ema_model_state"] or state["model_state"]
        own = self.model.state_dict()
        clash = [k for k, v in source.items() if k in own and own[k].shape != v.shape]
        if clash:
            raise ValueError(f"init_from {path}: different shapes for {', '.join(clash[:5])} "
                             f"(the model options must match, except for new parts)")
        matched = {k: v for k, v in source.items() if k in own}
        if not matched:
            raise ValueError(f"init_from {path}: no weight of this model is in the checkpoint")
        self.model.load_state_dict(matched, strict=False)
        moments = self._carry_optimizer_moments(state)
        fresh = sorted(k for k in own if k not in source)
        self.log(f"weights from {path} (epoch {state['epoch']}), optimizer moments for {moments} tensors"
                 + (f"; kept initial values: {', '.join(fresh)}" if fresh else ""))

    def _carry_optimizer_moments(self, state: dict) -> int:
        """Adam moments of the shared parameters, matched by name: a fresh Adam's first steps move
        every parameter by about the learning rate, which wrecks converged weights (the energy
        shift first).  Parameters new to this model start with fresh moments."""
        saved = state.get("optimizer_state")
        if not saved or not saved.get("state"):
            return 0
        source_names = optimizer_order(GauntMACE(ModelConfig.from_dict(state["model_config"])), _mixing_lr_scale(state))
        index = {name: i for i, name in enumerate(source_names)}
        count = 0
        for name, param in self.model.named_parameters():
            moments = saved["state"].get(index.get(name, -1))
            if moments is None or moments["exp_avg"].shape != param.shape:
                continue
            self.optimizer.state[param] = {
                k: (v.to(device=param.device, dtype=param.dtype) if v.dim() > 0 else v.clone())
                for k, v in moments.items()
            }
            count += 1
        return count

    def _restart_bookkeeping(self) -> None:
        """Validation losses under different loss weights do not compare: start the best-model,
        early-stopping and LR-plateau bookkeeping afresh."""
        self.best, self.stale = float("inf"), 0
        self.scheduler.best, self.scheduler.num_bad_epochs = self.scheduler.mode_worse, 0

    def set_lr(self, lr: float) -> None:
        """Learning rate from now on. The plateau scheduler counts afresh from here (it goes on
        lowering the rate once the new rate stops improving), so a re-warmed rate is not cut back
        at once for not beating the best loss of the lower rate; the best model is kept."""
        check_lr_override(self.cfg.optim)
        self._set_group_lr(lr)
        self.scheduler.best, self.scheduler.num_bad_epochs = self.scheduler.mode_worse, 0
        self.log(f"learning rate set to {lr:g}")

    def _set_group_lr(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)

    # -- loop -----------------------------------------------------------------------------
    def train_epoch(self, stop: Optional[Callable[[], bool]] = None) -> Optional[float]:
        stage = _stage(self.cfg, self.epoch)
        if self.epoch == self.cfg.optim.stage_two_epoch:
            if stage.lr is not None:
                self._set_group_lr(stage.lr)
            self._restart_bookkeeping()
            lr = "as scheduled" if stage.lr is None else stage.lr
            self.log(f"stage two from epoch {self.epoch + 1}: energy weight {stage.energy_weight}, "
                     f"forces weight {stage.forces_weight}, stress weight {stage.stress_weight}, lr {lr}")
        scheduled = cosine_lr(self.cfg.optim, self.epoch)
        if scheduled is not None:
            self._set_group_lr(scheduled)
        self.model.train()
        generator = torch.Generator().manual_seed(self.cfg.seed + self.epoch)  # exact resume
        total, count = 0.0, 0
        bar = progress(
            batches(self.data.train, self.cfg.optim.batch_size, generator),
            total=-(-len(self.data.train) // self.cfg.optim.batch_size),
            desc=f"epoch {self.epoch + 1}", leave=False,
        )
        for batch in bar:
            if stop is not None and stop():
                bar.close()
                return None          # interrupted: the epoch is abandoned, not half-counted
            batch = batch.to(self.device, self.dtype)
            pred = self.model(batch.inputs(), compute_forces=True, compute_stress=batch.stress is not None,
                              training=True)
            loss = weighted_loss(pred, batch, stage.energy_weight, stage.forces_weight, stage.stress_weight)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.cfg.optim.clip_grad > 0:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.optim.clip_grad)
            self.optimizer.step()
            if self.ema is not None:
                self.ema.update_parameters(self.model)
            total += float(loss.detach()) * batch.num_graphs
            count += batch.num_graphs
            bar.set_postfix(loss=f"{float(loss.detach()):.4g}")
        return total / max(count, 1)

    def validate(self) -> dict:
        """Validation metrics of the EMA weights (else the raw ones) in `valid_dtype`.  In float32
        a 3BPA total energy (~1e4 eV) is rounded to ~1 meV, as much as the gains sought late in
        training, so the best model is chosen on what the float64 deployed model predicts."""
        model = self.ema.module if self.ema is not None else self.model
        dtype = DTYPES[self.cfg.valid_dtype]
        if dtype != self.dtype:  # as `gaunt-md export` builds it; built once, weights copied in
            if self._valid_model is None:
                self._valid_model = deployed_model(self.model.config, model.state_dict(), dtype, self.device)
            else:
                self._valid_model.load_state_dict(model.state_dict())
            model = self._valid_model
        return evaluate(model, self.data.valid, self.cfg.optim.valid_batch_size, self.device, dtype)["metrics"]

    def run(self, time_limit_s: Optional[float] = None, stop: Optional[Callable[[], bool]] = None) -> dict:
        """Train to max_epochs or early stopping; with time_limit_s, stop after the first epoch
        that ends later than that many seconds after this call (checkpointed: continue with
        --resume).  `stop()` (Ctrl-C) is polled before every batch: once True, the epoch in
        progress is dropped and `interrupted` set; last.pt holds the last finished epoch (epoch 0,
        the initial state, is saved first), so --resume continues exactly."""
        o = self.cfg.optim
        session_start = time.time()
        self.interrupted = False
        if self.epoch == 0:
            save_checkpoint(self.out / "last.pt", self._state())
        while self.epoch < o.max_epochs and self.stale < o.early_stopping_patience:
            train_loss = self.train_epoch(stop)
            if train_loss is None:
                self.interrupted = True
                self.log(f"interrupted during epoch {self.epoch + 1}: {self.out / 'last.pt'} holds epoch {self.epoch}")
                break
            metrics = self.validate()
            self.epoch += 1
            stage = _stage(self.cfg, self.epoch - 1)
            valid_loss = validation_loss(metrics, *stage.weights)
            if o.scheduler == "plateau":
                self.scheduler.step(valid_loss)
            row = {"epoch": self.epoch, "train_loss": train_loss, "valid_loss": valid_loss,
                   "lr": self.optimizer.param_groups[0]["lr"],
                   "wall_s": self.elapsed_before + time.time() - self.started, **metrics}
            self.history.append(row)
            improved = valid_loss < self.best
            if improved:
                self.best, self.stale = valid_loss, 0
            else:
                self.stale += 1
            stress = (f"  S RMSE {metrics['s_rmse_meV_per_A3']:.3f} meV/A^3" if "s_rmse_meV_per_A3" in metrics else "")
            self.log(
                f"epoch {self.epoch:4d}  loss {train_loss:.4g}  valid E RMSE {metrics['e_rmse_meV']:.2f} meV "
                f"({metrics['e_rmse_meV_per_atom']:.3f} meV/atom)  F RMSE {metrics.get('f_rmse_meV_per_A', float('nan')):.2f} "
                f"meV/A{stress}  lr {row['lr']:.2e}{'  *' if improved else ''}"
            )
            state = self._state()
            save_checkpoint(self.out / "last.pt", state)
            if improved or o.best_model == "last":
                save_checkpoint(self.out / "best.pt", state)
            self._write_log()
            if stop is not None and stop():      # Ctrl-C during validation: this epoch is saved
                self.interrupted = True
                self.log(f"interrupted after epoch {self.epoch}: {self.out / 'last.pt'} holds it")
                break
            if time_limit_s is not None and time.time() - session_start > time_limit_s:
                self.log(f"time limit of {time_limit_s / 60:.1f} min reached after epoch {self.epoch}: "
                         f"stopped; continue with --resume")
                break
        if self.stale >= o.early_stopping_patience:
            self.log(f"early stopping: no improvement for {self.stale} epochs")
        if self.data.test and not self.interrupted and (self.out / "best.pt").exists():
            self.test_metrics = self.evaluate_test()
        return self.history[-1] if self.history else {}

    def evaluate_test(self) -> dict:
        """Errors of the best model (its EMA weights, in valid_dtype) on data.test_file, once at the
        end: logged, written to test_metrics.json and stored in best.pt (the model card shows them)."""
        path = self.out / "best.pt"
        state = read_checkpoint(path)
        dtype = DTYPES[self.cfg.valid_dtype]
        model = deployed_model(state["model_config"], state["ema_model_state"] or state["model_state"], dtype,
                               self.device)
        metrics = evaluate(model, self.data.test, self.cfg.optim.valid_batch_size, self.device, dtype)["metrics"]
        metrics = {"epoch": state["epoch"], "frames": len(self.data.test), **metrics}
        save_checkpoint(path, {**state, "test_metrics": json.dumps(metrics)})
        (self.out / "test_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        self.log("test (best model, epoch {}): ".format(state["epoch"]) + ", ".join(
            f"{k} {v:.3f}" for k, v in metrics.items() if k not in ("epoch", "frames")))
        return metrics

    def _write_log(self) -> None:
        # every column any row has (a run resumed from a checkpoint written before a metric
        # existed has rows without it: those cells stay empty)
        keys = list(dict.fromkeys(k for row in self.history for k in row))
        with open(self.out / "log.csv", "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=keys, restval="")
            writer.writeheader()
            writer.writerows(self.history)
        plot_learning_curve(self.history, self.out / "learning_curve.png")
