"""One mace-torch measurement in a fresh process; runs in the mace venv (benchmarks/mace_env.py).

    benchmarks/.mace-venv/bin/python benchmarks/mace_worker.py request.json

The request (JSON) names a task:
  "model"                  build mace.modules.ScaleShiftMACE with the given hyper-parameters,
                           read `structure` (extxyz), build the graph the way MACECalculator
                           does (timed separately: graph_s), then time energy+forces per call
                           (model forward with compute_force=True) and its peak memory.
                           With "cueq": the same model converted to cuEquivariance
                           (mace.cli.convert_e3nn_cueq, as mace's --enable_cueq does; fails
                           if cuequivariance_torch is not importable).
  "symmetric_contraction"  mace's SymmetricContraction on C x (0e+1o+...+L) -> degrees <= lmax_out,
                           correlation K, S elements, `batch` nodes; each of `phases` (forward,
                           forward+backward) timed in turn on the one module (its coupling basis
                           takes minutes to build from L = 4 on).  With "cueq": the
                           cuequivariance_torch SymmetricContraction that mace builds with a
                           cueq_config (inputs in its ir_mul layout, species as indices).
"device" (default "cpu") puts module and inputs there.
Prints one line: benchmarks.harness.RESULT_TAG + JSON.  Never imports gaunt_md.
"""
from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")  # e3nn 0.4.4 under torch >= 2.6

import numpy as np  # noqa: E402
import torch  # noqa: E402

import harness  # noqa: E402  (no gaunt_md inside)


def natural_irreps(mul: int, lmax: int) -> str:
    return "+".join(f"{mul}x{l}{'e' if l % 2 == 0 else 'o'}" for l in range(lmax + 1))


def build_mace(hyper: dict):
    from e3nn import o3
    from mace import modules

    z = list(hyper["atomic_numbers"])
    e0s = hyper.get("e0s") or {}
    kwargs = dict(
        r_max=float(hyper["r_max"]),
        num_bessel=int(hyper["num_bessel"]),
        num_polynomial_cutoff=int(hyper["cutoff_p"]),
        max_ell=int(hyper["max_ell"]),
        interaction_cls=modules.interaction_classes["RealAgnosticResidualInteractionBlock"],
        interaction_cls_first=modules.interaction_classes["RealAgnosticResidualInteractionBlock"],
        num_interactions=int(hyper["num_interactions"]),
        num_elements=len(z),
        hidden_irreps=o3.Irreps(natural_irreps(hyper["channels"], hyper["hidden_lmax"])),
        MLP_irreps=o3.Irreps(f"{hyper['readout_hidden']}x0e"),
        atomic_energies=np.array([float(e0s.get(str(a), e0s.get(a, 0.0))) for a in z]),
        avg_num_neighbors=float(hyper["avg_num_neighbors"]),
        atomic_numbers=z,
        correlation=int(hyper["correlation"]),
        gate=torch.nn.functional.silu,
        radial_MLP=list(hyper["radial_hidden"]),
        use_reduced_cg=bool(hyper.get("reduced_cg", False)),
    )
    if hyper.get("scale_shift", True):
        return modules.ScaleShiftMACE(atomic_inter_scale=float(hyper.get("scale", 1.0)),
                                      atomic_inter_shift=float(hyper.get("shift", 0.0)), **kwargs)
    return modules.MACE(**kwargs)


def require_cueq() -> None:
    from mace.modules import wrapper_ops
    if not getattr(wrapper_ops, "CUET_AVAILABLE", False):
        try:
            import cuequivariance_torch  # noqa: F401  (re-raise the import's own error)
        except Exception as exc:
            raise RuntimeError(f"cuequivariance_torch not importable: {exc}") from exc
        raise RuntimeError("mace sees no cuequivariance_torch (CUET_AVAILABLE is False)")


def model_task(req: dict) -> dict:
    from ase.io import read
    from mace import data as mace_data
    from mace.tools import torch_geometric, utils

    dtype = getattr(torch, req["dtype"])
    torch.set_default_dtype(dtype)
    torch.manual_seed(req.get("seed", 0))
    hyper = req["hyper"]
    device = torch.device(req.get("device", "cpu"))
    model = build_mace(hyper).to(device=device, dtype=dtype)
    if req.get("cueq"):
        require_cueq()
        from mace.cli.convert_e3nn_cueq import run as convert_e3nn_cueq
        model = convert_e3nn_cueq(model, device=device.type, return_model=True)
        if not any(getattr(getattr(m, "cueq_config", None), "enabled", False) for m in model.modules()):
            raise RuntimeError("convert_e3nn_cueq returned a model without cuEquivariance enabled")
    model = model.to(device=device, dtype=dtype)
    model.eval()
    params = sum(p.numel() for p in model.parameters())
    for p in model.parameters():  # inference, as MACECalculator does
        p.requires_grad_(False)

    atoms = read(req["structure"])
    z_table = utils.AtomicNumberTable(list(hyper["atomic_numbers"]))
    start = time.perf_counter()
    config = mace_data.config_from_atoms(atoms)
    graph = mace_data.AtomicData.from_config(config, z_table=z_table, cutoff=float(hyper["r_max"]))
    loader = torch_geometric.dataloader.DataLoader(dataset=[graph], batch_size=1, shuffle=False, drop_last=False)
    batch = next(iter(loader)).to(device).to_dict()
    graph_s = time.perf_counter() - start

    def call():
        out = model(dict(batch), compute_force=True, training=False)
        return out["energy"], out["forces"]

    energy, forces = call()
    timing = harness.timed_with_memory(call, device, req["repeats"], req["min_sample"], req.get("warmup", 2),
                                       req.get("budget"))
    return {
        "model": type(model).__name__, "params": params, "atoms": len(atoms),
        "edges": int(batch["edge_index"].shape[1]), "graph_s": graph_s, "timing": timing,
        "energy": float(energy.detach().sum()), "force_norm": float(forces.detach().norm()),
        "threads": torch.get_num_threads(), "torch": torch.__version__, "mace": _mace_version(),
        "device": str(device), "cueq": bool(req.get("cueq")),
    }


def symmetric_contraction_task(req: dict) -> dict:
    from e3nn import o3
    from mace.modules.symmetric_contraction import SymmetricContraction

    dtype = getattr(torch, req["dtype"])
    torch.set_default_dtype(dtype)
    torch.manual_seed(req.get("seed", 0))
    L, C, S, K, N = req["lmax"], req["channels"], req["num_elements"], req["correlation"], req["batch"]
    lmax_out = req.get("lmax_out", L)
    device = torch.device(req.get("device", "cpu"))
    irreps_in, irreps_out = o3.Irreps(natural_irreps(C, L)), o3.Irreps(natural_irreps(C, lmax_out))
    start = time.perf_counter()
    if req.get("cueq"):
        require_cueq()
        from mace.modules.wrapper_ops import CuEquivarianceConfig, SymmetricContractionWrapper
        cueq_config = CuEquivarianceConfig(enabled=True, layout="ir_mul", group="O3_e3nn", optimize_symmetric=True)
        sc = SymmetricContractionWrapper(irreps_in, irreps_out, correlation=K, num_elements=S,
                                         cueq_config=cueq_config, use_reduced_cg=bool(req.get("reduced_cg", False)))
        if isinstance(sc, SymmetricContraction):
            raise RuntimeError("mace built its e3nn SymmetricContraction, not cuequivariance's")
    else:
        sc = SymmetricContraction(irreps_in, irreps_out, correlation=K, num_elements=S,
                                  use_reduced_cg=bool(req.get("reduced_cg", False)))
    sc = sc.to(device=device, dtype=dtype)
    build_s = time.perf_counter() - start
    gen = torch.Generator().manual_seed(100 + L)
    x = torch.randn(N, C, (L + 1) ** 2, generator=gen, dtype=torch.float64).to(dtype)
    species = torch.randint(S, (N,), generator=gen)
    if req.get("cueq"):  # cuequivariance's layout: [N, (L+1)^2 * C] (ir_mul), species as int32 indices
        x = x.transpose(1, 2).flatten(1).contiguous()
        y = species.to(torch.int32).to(device)
    else:
        y = torch.nn.functional.one_hot(species, S).to(dtype).to(device)
    x = x.to(device).requires_grad_()
    weights = [p for p in sc.parameters()]
    grad = torch.randn(N, C * (lmax_out + 1) ** 2, generator=gen, dtype=torch.float64).to(dtype).to(device)
    inputs = [x] + weights

    def forward():
        with torch.no_grad():
            return sc(x, y)

    def forward_backward():
        return torch.autograd.grad(sc(x, y), inputs, grad)

    calls = {"forward": forward, "forward+backward": forward_backward}
    timings = {phase: harness.timed_with_memory(calls[phase], device, req["repeats"], req["min_sample"],
                                                req.get("warmup", 2), req.get("budget"))
               for phase in req["phases"]}
    return {"params": sum(p.numel() for p in weights), "build_s": build_s, "timings": timings,
            "threads": torch.get_num_threads(), "mace": _mace_version(), "device": str(device),
            "module": type(sc).__module__ + "." + type(sc).__name__}


def _mace_version() -> str:
    import mace
    return getattr(mace, "__version__", "?")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    tasks = {"model": model_task, "symmetric_contraction": symmetric_contraction_task}
    return harness.serve_request(argv[0], lambda req: tasks[req["task"]](req))


if __name__ == "__main__":
    raise SystemExit(main())
