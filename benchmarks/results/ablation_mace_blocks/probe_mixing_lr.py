"""Probe: lr x K for the weights the model scales by 1/sqrt(fan-in) (channel-mixing linears,
factor mixing), i.e. steps between e3nn-style (K=1) and torch.nn.Linear-style (K=sqrt(fan_in))."""
import sys
import torch
from gaunt_md.train import trainer as T
from gaunt_md.nn.linear import DegreeLinear, PathDegreeLinear
from gaunt_md.nn.factor_product import GauntFactorProductBasis
from gaunt_md.cli import main

K = float(sys.argv.pop(1))
holder = {}
_build = T.build_model
def build_model(*a, **kw):
    m = _build(*a, **kw); holder["model"] = m; return m
T.build_model = build_model
_Adam = torch.optim.Adam
def Adam(params, lr, **kw):
    model = holder["model"]
    scaled = []
    for mod in model.modules():
        if isinstance(mod, (DegreeLinear, PathDegreeLinear)):
            scaled.append(mod.weight)
        if isinstance(mod, GauntFactorProductBasis):
            scaled.append(mod.factor_weights)
    ids = {id(p) for p in scaled}
    rest = [p for p in model.parameters() if id(p) not in ids]
    print(f"probe: lr x {K} for {sum(p.numel() for p in scaled):,} parameters in {len(scaled)} tensors", flush=True)
    return _Adam([{"params": rest, "lr_scale": 1.0}, {"params": scaled, "lr": lr * K, "lr_scale": K}], lr=lr, **kw)
torch.optim.Adam = Adam
def _set_group_lr(self, lr):
    for g in self.optimizer.param_groups:
        g["lr"] = lr * g.get("lr_scale", 1.0)
T.Trainer._set_group_lr = _set_group_lr
sys.exit(main())
