"""Energy + forces of the eager Gaunt-MACE against torch.compile (inductor) of the same model.

An experiment, not a supported path: the calculators run the TorchScript export.  The model
(hyper-parameters of model_speed.py, built by profile_model.build: untrained, weights frozen) is compiled with
torch.compile(model, dynamic=False) and called with forces, as the calculators call it.
Inductor's vectorised C++ code generation fails on this model in torch 2.13 (an assertion in
its CppVecKernel store, `index.is_vec`), so vectorisation is switched off
(torch._inductor.config.cpp.simdlen = 1, this process only).  Reported: the first compiled call
(compilation), then median and min of timed calls of each, and the largest force difference.

    python benchmarks/torch_compile.py                          # 3BPA, factor and power basis
    python benchmarks/torch_compile.py --sizes 3bpa 1000 --bases factors
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import torch

import harness
from profile_model import build  # the same model, eager, weights frozen


def inputs(size: str):
    from ase.io import read

    from gaunt_md.data import SpeciesTable, collate, graph_from_atoms
    atoms = read(harness.structure_path(size))
    g = graph_from_atoms(atoms, SpeciesTable([1, 6, 7, 8]), 5.0)
    return len(atoms), g.edge_index.shape[1] / len(atoms), collate([g]).inputs()


def timed(fn, repeats: int) -> dict:
    """The first call (compilation included), then `repeats` calls."""
    start = time.perf_counter()
    out = fn()
    first = time.perf_counter() - start
    samples = sorted(harness.call_times(fn, torch.device("cpu"), repeats))
    return {"first_s": first, "median_ms": samples[len(samples) // 2] * 1e3, "min_ms": samples[0] * 1e3, "out": out}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["3bpa"])
    parser.add_argument("--bases", nargs="+", default=["factors", "power"], choices=["factors", "power"])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    import torch._inductor.config as inductor_config
    inductor_config.cpp.simdlen = 1
    rows = []
    for size in args.sizes:
        atoms, neighbours, call_inputs = inputs(size)
        for basis in args.bases:
            model = build(torch.float64, neighbours, False, False, basis)
            torch._dynamo.reset()
            compiled = torch.compile(model, dynamic=False)
            eager = timed(lambda: model(call_inputs, compute_forces=True)["forces"], args.repeats)
            comp = timed(lambda: compiled(call_inputs, compute_forces=True)["forces"], args.repeats)
            diff = float((comp.pop("out") - eager.pop("out")).abs().max())
            row = {"system": size, "atoms": atoms, "basis": basis, "eager": eager, "compiled": comp,
                   "max_force_diff": diff, "speed-up": eager["median_ms"] / comp["median_ms"]}
            rows.append(row)
            print(f"{size} ({atoms} atoms) {basis}: eager {eager['median_ms']:.1f} [{eager['min_ms']:.1f}] ms, "
                  f"compiled {comp['median_ms']:.1f} [{comp['min_ms']:.1f}] ms ({row['speed-up']:.2f}x; "
                  f"compilation {comp['first_s']:.0f} s), max |dF| {diff:.1e} eV/A", flush=True)
    harness.write_results("torch_compile.json", {"git": harness.git_state(), "threads": torch.get_num_threads(),
                                                 "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
