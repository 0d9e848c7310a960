"""The optimiser's parameter groups: the channel-mixing weights may take their own learning-rate
factor (optim.mixing_lr_scale).

Those weights (the equivariant linear maps and the factor basis's channel mixing) enter the
model times 1 / sqrt(fan-in), e3nn's parametrisation, while the radial MLP, readouts and element
weights do not: under Adam, whose steps are about the learning rate whatever the gradient's
size, the two kinds move at rates that differ by sqrt(fan-in), so one learning rate fits both
only by chance."""
from __future__ import annotations

from typing import Dict, List

from torch import nn

from ..nn.factor_product import GauntFactorProductBasis
from ..nn.linear import DegreeLinear, PathDegreeLinear


def channel_mixing_names(model: nn.Module) -> List[str]:
    """Names of the channel-mixing weights, in model.named_parameters() order."""
    names = []
    for prefix, module in model.named_modules():
        if isinstance(module, (DegreeLinear, PathDegreeLinear)):
            names.append(f"{prefix}.weight")
        elif isinstance(module, GauntFactorProductBasis):
            names.append(f"{prefix}.factor_weights")
    order = [name for name, _ in model.named_parameters()]
    return sorted(names, key=order.index)


def parameter_groups(model: nn.Module, lr: float, mixing_lr_scale: float) -> List[Dict]:
    """One group (all parameters) for a scale of 1, as the optimiser had before the option;
    else the other parameters, then the channel-mixing weights at lr x scale.  Each group
    carries its `lr_scale`, which every later setting of the learning rate applies."""
    if mixing_lr_scale == 1.0:
        return [{"params": list(model.parameters()), "lr": lr, "lr_scale": 1.0}]
    mixing = set(channel_mixing_names(model))
    named = list(model.named_parameters())
    return [{"params": [p for n, p in named if n not in mixing], "lr": lr, "lr_scale": 1.0},
            {"params": [p for n, p in named if n in mixing], "lr": lr * mixing_lr_scale,
             "lr_scale": mixing_lr_scale}]


def optimizer_order(model: nn.Module, mixing_lr_scale: float) -> List[str]:
    """Parameter names in the order of the optimiser's state indices (group after group)."""
    names = {id(p): n for n, p in model.named_parameters()}
    return [names[id(p)] for group in parameter_groups(model, 1.0, mixing_lr_scale) for p in group["params"]]


__all__ = ["channel_mixing_names", "optimizer_order", "parameter_groups"]
