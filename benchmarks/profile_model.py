"""Where the time of one energy + forces call goes: torch profiler, grouped by stage.

Model: the default Gaunt-MACE (channels 64, hidden_lmax 1, max_ell 3, correlation 3, 2
interactions, r_max 5, radial MLP [64, 64, 64]), untrained, weights frozen as in the calculators,
float64 unless --dtype.  Systems: the 27-atom 3BPA molecule and a ~1k-atom periodic box of
3BPA molecules at 1 g/cm^3 (benchmarks/harness).

The model marks its stages with torch.profiler.record_function scopes named gaunt_md.* (they
survive torch.jit.script: --script profiles the TorchScript model).  Each profiled call is the
neighbour list (vesin, scope gaunt_md.neighbour_list) plus model(..., compute_forces=True).
Every profiler event's own (self) CPU time goes to a stage:
  forward ops:  the innermost gaunt_md.* scope around them ('other' outside any scope: the
                edge vectors, energy sums, autograd.grad set-up);
  backward ops: 'backward: <stage>', the stage of the forward op that created the autograd node
                (matched by sequence number) or the gaunt_md.* scope inside a custom op's
                backward (the fused convolution marks its radial MLP and coupling parts).
Stages: neighbour_list, spherical_harmonics, radial_basis (Bessel x cutoff), radial_mlp,
interaction (Gaunt-coupled tensor product + scatter-sum over neighbours), many_body_product,
linear_readout (the scopes embedding, linear_up, linear_out, linear_skip and readout: embedding,
channel-mixing linears, skip, readouts).

    python benchmarks/profile_model.py                      # 3BPA and the 1k box, float64
    python benchmarks/profile_model.py --sizes 3bpa --reference   # the dense reference route
    python benchmarks/profile_model.py --product-basis factors    # the shipped potential's basis
Writes benchmarks/results/profile_<dtype>[_reference][_script].json.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from typing import Dict, List, Optional

import harness

STAGES = ["neighbour_list", "spherical_harmonics", "radial_basis", "radial_mlp", "interaction",
          "many_body_product", "linear_readout", "other"]
PREFIX = "gaunt_md."
# the model's scopes that are reported together as one stage
GROUPED = {scope: "linear_readout" for scope in ("embedding", "linear_up", "linear_out", "linear_skip", "readout")}
DEFAULT = dict(channels=64, hidden_lmax=1, max_ell=3, correlation=3, num_interactions=2, r_max=5.0)


def build(dtype, avg_num_neighbors: float, reference: bool, script: bool, product_basis: str = "power"):
    import torch
    from gaunt_md.nn import GauntMACE, ModelConfig
    torch.manual_seed(0)
    model = GauntMACE(ModelConfig(atomic_numbers=[1, 6, 7, 8], avg_num_neighbors=avg_num_neighbors,
                                  product_basis=product_basis, **DEFAULT)).to(dtype)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    if reference:
        for layer in model.layers:
            layer.interaction.fused = False
    return torch.jit.script(model) if script else model


def graph_call(model, atoms, dtype):
    """The neighbour list + one model call with forces (what a calculator does per step)."""
    import torch
    from torch.profiler import record_function
    from gaunt_md.data import SpeciesTable, neighbour_list, single_graph_inputs
    table = SpeciesTable([1, 6, 7, 8])
    species = torch.as_tensor(table.index(atoms.numbers), dtype=torch.long)
    cell = torch.as_tensor(atoms.cell.array, dtype=dtype)

    def call():
        with record_function(PREFIX + "neighbour_list"):
            edge_index, shifts = neighbour_list(atoms.positions, atoms.cell.array, atoms.pbc, 5.0)
            edge_index = torch.as_tensor(edge_index, dtype=torch.long)
            shifts = torch.as_tensor(shifts, dtype=dtype)
            positions = torch.as_tensor(atoms.positions, dtype=dtype)
        out = model(single_graph_inputs(positions, species, edge_index, shifts, cell), compute_forces=True)
        return out["energy"], out["forces"]
    return call


def _stage_of_scope(name: str) -> Optional[str]:
    if name.startswith(PREFIX):
        stage = name[len(PREFIX):]
        stage = GROUPED.get(stage, stage)
        return stage if stage in STAGES else None
    return None


def attribute(events) -> Dict[str, float]:
    """Self CPU time (us) per stage, forward and backward ('backward: <stage>')."""
    events = list(events)

    def ancestors(e):
        p = e.cpu_parent
        while p is not None:
            yield p
            p = p.cpu_parent

    def in_backward(e) -> bool:
        return any(a.name.startswith("autograd::engine::evaluate_function") for a in ancestors(e)) or \
            e.name.startswith("autograd::engine::evaluate_function")

    # forward: the stage of every op with an autograd sequence number
    seq_stage: Dict[int, str] = {}
    for e in events:
        if getattr(e, "sequence_nr", -1) is None or getattr(e, "sequence_nr", -1) < 0 or in_backward(e):
            continue
        stage = next((s for s in (_stage_of_scope(a.name) for a in ancestors(e)) if s), "other")
        seq_stage.setdefault(e.sequence_nr, stage)
    totals: Dict[str, float] = defaultdict(float)
    for e in events:
        self_us = e.self_cpu_time_total  # scope events keep the glue time between their ops
        if self_us <= 0:
            continue
        chain = [e] + list(ancestors(e))
        if in_backward(e):
            stage = None
            for a in chain:  # a gaunt_md scope inside a custom op's backward
                if a.name.startswith("autograd::engine::evaluate_function"):
                    break
                stage = stage or _stage_of_scope(a.name)
            if stage is None:
                for a in chain:  # the forward op that made this autograd node
                    seq = getattr(a, "sequence_nr", -1)
                    if seq is not None and seq >= 0 and seq in seq_stage:
                        stage = seq_stage[seq]
                        break
            totals["backward: " + (stage or "other")] += self_us
        else:
            stage = next((s for s in (_stage_of_scope(a.name) for a in chain) if s), "other")
            totals[stage] += self_us
    return dict(totals)


def profile_one(size: str, dtype_name: str, reference: bool, script: bool, repeats: int, threads: int,
                product_basis: str = "power") -> dict:
    import torch
    from ase.io import read
    from torch.profiler import ProfilerActivity, profile
    from gaunt_md.data import neighbour_list

    harness.set_threads(threads)
    dtype = getattr(torch, dtype_name)
    atoms = read(harness.structure_path(size))
    edge_index, _ = neighbour_list(atoms.positions, atoms.cell.array, atoms.pbc, 5.0)
    avg = edge_index.shape[1] / len(atoms)
    model = build(dtype, avg, reference, script, product_basis)
    call = graph_call(model, atoms, dtype)
    for _ in range(2):
        call()
    start = time.perf_counter()
    for _ in range(repeats):
        call()
    wall = (time.perf_counter() - start) / repeats
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(repeats):
            call()
    totals = attribute(prof.events())
    total = sum(totals.values())
    return {
        "system": "3BPA molecule" if size == "3bpa" else "3BPA box", "atoms": len(atoms),
        "edges": int(edge_index.shape[1]), "dtype": dtype_name, "route": "reference" if reference else "fused",
        "product_basis": product_basis,
        "script": script, "threads": threads, "repeats": repeats, "wall_ms_unprofiled": wall * 1e3,
        "profiled_cpu_ms_per_call": total / repeats / 1e3,
        "stages_ms": {k: v / repeats / 1e3 for k, v in sorted(totals.items(), key=lambda kv: -kv[1])},
        "stages_percent": {k: 100 * v / total for k, v in sorted(totals.items(), key=lambda kv: -kv[1])},
    }


def order(stages: List[str]) -> List[str]:
    forward = [s for s in STAGES if s in stages]
    backward = ["backward: " + s for s in STAGES if "backward: " + s in stages]
    return forward + backward + [s for s in stages if s not in forward + backward]


def table(results: List[dict]) -> str:
    stages = order(sorted({k for r in results for k in r["stages_ms"]}))
    head = ["stage"] + [f"{r['atoms']} atoms ms" for r in results] + [f"{r['atoms']} atoms %" for r in results]
    rows = [[s] + [f"{r['stages_ms'].get(s, 0.0):.1f}" for r in results]
            + [f"{r['stages_percent'].get(s, 0.0):.1f}" for r in results] for s in stages]
    fwd = [sum(v for k, v in r["stages_ms"].items() if not k.startswith("backward")) for r in results]
    bwd = [sum(v for k, v in r["stages_ms"].items() if k.startswith("backward")) for r in results]
    no_percent = [""] * len(results)
    rows.append(["forward total"] + [f"{v:.1f}" for v in fwd] + no_percent)
    rows.append(["backward total"] + [f"{v:.1f}" for v in bwd] + no_percent)
    rows.append(["wall ms per call (unprofiled)"] + [f"{r['wall_ms_unprofiled']:.1f}" for r in results] + no_percent)
    return harness.markdown_table(head, rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["3bpa", "1000"])
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    parser.add_argument("--reference", action="store_true", help="the dense reference interaction")
    parser.add_argument("--script", action="store_true", help="profile the TorchScript model")
    parser.add_argument("--repeats", type=int, default=0, help="profiled calls (default 10 for 3bpa, 2 else)")
    parser.add_argument("--product-basis", default="power", choices=["power", "factors"])
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's)")
    args = parser.parse_args(argv)
    import torch
    threads = args.threads or torch.get_num_threads()
    results = []
    for size in args.sizes:
        repeats = args.repeats or (10 if size == "3bpa" else 2)
        r = profile_one(size, args.dtype, args.reference, args.script, repeats, threads, args.product_basis)
        print(f"{r['system']}: {r['atoms']} atoms, {r['edges']} edges, {r['wall_ms_unprofiled']:.1f} ms per "
              f"energy+forces call ({args.dtype}, {r['route']}, {args.product_basis} basis{', TorchScript' if args.script else ''}, "
              f"{threads} threads)", flush=True)
        results.append(r)
    text = table(results)
    print(text)
    tag = args.dtype + ("_factors" if args.product_basis == "factors" else "") + ("_reference" if args.reference else "") + ("_script" if args.script else "")
    harness.write_results(f"profile_{tag}.json", {"results": results, "table": text})
    return 0


if __name__ == "__main__":
    sys.exit(main())
