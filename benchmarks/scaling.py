"""Cost of Gaunt-MACE as the work grows: time and peak memory of one energy + forces call.

Sweeps (the default model: channels 64, hidden_lmax 1, max_ell 3, correlation 3, 2
interactions, r_max 5, radial MLP [64, 64, 64]; untrained, weights frozen; eager; --dtype):
  atoms        periodic boxes of randomly packed 3BPA molecules at 1 g/cm^3, ~250 to ~8k atoms
               (9 and 19 molecules packed directly, then the 999-atom box of
               benchmarks/common.py repeated 1, 2, 4, 8 times); exponent of time ~ atoms^k
  hidden_lmax  0..3, degree of the hidden node features (edge harmonics stay at max_ell 3)
  max_ell      1..6, degree of the edge harmonics and A features (hidden_lmax 1)
  correlation  2..5, body order of the Gaunt product basis
  many_body    the Gaunt many-body product op alone (correlation 3, degree L in and out,
               method 'auto'), forward and forward + backward, on nodes x channels rows, vs L
The degree sweeps fit time ~ (L+1)^k (hidden_lmax starts at 0) on the 243-atom box; the
many-body op fits time ~ L^k over L >= 3.  Memory: peak resident set during the timed calls
above the resident set before them (benchmarks/common.py).

    python benchmarks/scaling.py                    # everything, float64 (~10 min, 2 cores)
    python benchmarks/scaling.py --quick            # small sizes, a minute
    python benchmarks/scaling.py --only atoms many_body
Writes benchmarks/results/scaling_<dtype>.json, scaling_<dtype>.md and scaling_<dtype>.png.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import numpy as np  # noqa: E402

import common  # noqa: E402

DEFAULT = dict(channels=64, hidden_lmax=1, max_ell=3, correlation=3, num_interactions=2, r_max=5.0)
SWEEPS = ("atoms", "hidden_lmax", "max_ell", "correlation", "many_body")
FULL = dict(atoms=[9, 19, 999, 1998, 3996, 7992], hidden_lmax=[0, 1, 2, 3], max_ell=[1, 2, 3, 4, 5, 6],
            correlation=[2, 3, 4, 5], many_body=[1, 2, 3, 4, 5, 6, 7, 8], repeats=3, min_sample=0.5,
            budget=20.0, degree_box=9, mb_nodes=256)
QUICK = dict(atoms=[9, 19, 999], hidden_lmax=[0, 1, 2], max_ell=[1, 2, 3], correlation=[2, 3],
             many_body=[1, 2, 3, 4], repeats=2, min_sample=0.1, budget=3.0, degree_box=9, mb_nodes=32)


# --- systems --------------------------------------------------------------------------------

def box(size: int):
    """size < 100: that many molecules packed directly (cached); else the repeated 999-atom box."""
    from ase.io import read, write
    if size >= 100:
        return read(common.molecule_box(size))
    path = common.STRUCTURES / f"3bpa_box_{27 * size}_packed_seed7.xyz"
    if not path.exists():
        common.STRUCTURES.mkdir(parents=True, exist_ok=True)
        write(path, common._random_packing(size, common.DENSITY, common.MIN_DISTANCE, seed=7), format="extxyz")
    return read(path)


def model_call(atoms, dtype, **overrides) -> tuple:
    import torch
    from gaunt_md.data import SpeciesTable, neighbour_list
    from gaunt_md.nn import GauntMACE, ModelConfig
    edge_index, shifts = neighbour_list(atoms.positions, atoms.cell.array, atoms.pbc, 5.0)
    torch.manual_seed(0)
    cfg = dict(DEFAULT, **overrides)
    model = GauntMACE(ModelConfig(atomic_numbers=[1, 6, 7, 8], avg_num_neighbors=edge_index.shape[1] / len(atoms),
                                  **cfg)).to(dtype)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    t = lambda a, dt=dtype: torch.as_tensor(a, dtype=dt)
    inputs = (t(atoms.positions), t(SpeciesTable([1, 6, 7, 8]).index(atoms.numbers), torch.long),
              t(edge_index, torch.long), t(shifts), torch.zeros(len(atoms), dtype=torch.long),
              t(atoms.cell.array).unsqueeze(0), 1)

    def call():
        out = model(*inputs, True, False, False)
        return out["energy"], out["forces"]
    return call, int(edge_index.shape[1])


def measure(call: Callable, cfg: dict) -> dict:
    import torch
    out = common.timed_with_memory(call, torch.device("cpu"), cfg["repeats"], cfg["min_sample"], warmup=2,
                                   budget=cfg["budget"])
    return {"median_s": out["median"], "min_s": out["min"], "peak_extra_mb": out["peak_extra_mb"]}


def fit(xs: List[float], ys: List[float]) -> float:
    pts = [(x, y) for x, y in zip(xs, ys) if x > 0 and y and y > 0 and not math.isnan(y)]
    if len(pts) < 2:
        return float("nan")
    slope, _ = np.polyfit(np.log([p[0] for p in pts]), np.log([p[1] for p in pts]), 1)
    return float(slope)


# --- sweeps ---------------------------------------------------------------------------------

def sweep_atoms(cfg, dtype) -> dict:
    rows = []
    for size in cfg["atoms"]:
        atoms = box(size)
        call, edges = model_call(atoms, dtype)
        r = dict(atoms=len(atoms), edges=edges, **measure(call, cfg))
        print(f"  atoms {r['atoms']:6d}  edges {edges:7d}  {r['median_s'] * 1e3:9.1f} ms  "
              f"{r['peak_extra_mb']:8.0f} MB", flush=True)
        rows.append(r)
    xs = [r["atoms"] for r in rows]
    return {"rows": rows, "time_exponent": fit(xs, [r["median_s"] for r in rows]),
            "memory_exponent": fit(xs, [r["peak_extra_mb"] for r in rows])}


def sweep_degree(cfg, dtype, key: str) -> dict:
    atoms = box(cfg["degree_box"])
    rows = []
    for value in cfg[key]:
        call, edges = model_call(atoms, dtype, **{key: value})
        r = dict(value=value, atoms=len(atoms), edges=edges, **measure(call, cfg))
        print(f"  {key} {value}  {r['median_s'] * 1e3:9.1f} ms  {r['peak_extra_mb']:8.0f} MB", flush=True)
        rows.append(r)
    xs = [r["value"] + 1 for r in rows]
    return {"rows": rows, "variable": f"{key} + 1", "time_exponent": fit(xs, [r["median_s"] for r in rows]),
            "memory_exponent": fit(xs, [r["peak_extra_mb"] for r in rows])}


def sweep_correlation(cfg, dtype) -> dict:
    out = sweep_degree(cfg, dtype, "correlation")
    xs = [r["value"] for r in out["rows"]]
    out.update(variable="correlation", time_exponent=fit(xs, [r["median_s"] for r in out["rows"]]),
               memory_exponent=fit(xs, [r["peak_extra_mb"] for r in out["rows"]]))
    return out


def sweep_many_body(cfg, dtype) -> dict:
    import torch
    from gaunt_md.ops import autotune_choices, many_body_product
    from gaunt_md.so3 import sh_dim
    nodes, channels, correlation = cfg["mb_nodes"], DEFAULT["channels"], 3
    gen = torch.Generator().manual_seed(0)
    species = torch.randint(0, 4, (nodes,), generator=gen)
    rows = []
    for L in cfg["many_body"]:
        x = torch.randn(nodes, channels, sh_dim(L), generator=gen, dtype=torch.float64).to(dtype)
        w = torch.randn(4, channels, L + 1, correlation, generator=gen, dtype=torch.float64).to(dtype)
        xg = x.clone().requires_grad_(True)
        grad = torch.randn(nodes, channels, sh_dim(L), dtype=dtype)
        fwd = lambda: many_body_product(x, w, species, L)
        fwd_bwd = lambda: torch.autograd.grad(many_body_product(xg, w, species, L), [xg], grad)
        r = {"L": L, "rows": nodes * channels}
        for name, fn in (("forward", fwd), ("forward_backward", fwd_bwd)):
            m = measure(fn, cfg)
            r[name + "_s"] = m["median_s"]
            r[name + "_peak_extra_mb"] = m["peak_extra_mb"]
        chosen = {k[0]: v for k, v in autotune_choices().items() if k[1] == sh_dim(L) and k[2] == correlation
                  and k[3] == L}
        r["methods"] = chosen
        print(f"  many-body L {L}  fwd {r['forward_s'] * 1e3:8.2f} ms  fwd+bwd {r['forward_backward_s'] * 1e3:8.2f} ms"
              f"  {chosen}", flush=True)
        rows.append(r)
    fit_rows = [r for r in rows if r["L"] >= 3]
    return {"rows": rows, "nodes": nodes, "channels": channels, "correlation": correlation,
            "forward_exponent": fit([r["L"] for r in fit_rows], [r["forward_s"] for r in fit_rows]),
            "forward_backward_exponent": fit([r["L"] for r in fit_rows], [r["forward_backward_s"] for r in fit_rows])}


# --- output ---------------------------------------------------------------------------------

def markdown(results: dict, dtype: str, threads: int) -> str:
    lines = [f"Energy + forces per call, {dtype}, {threads} threads, eager PyTorch; memory = peak resident set "
             "above the baseline during the calls.", ""]
    if "atoms" in results:
        a = results["atoms"]
        lines += ["| atoms | edges | ms per call | MB |", "|---|---|---|---|"]
        lines += [f"| {r['atoms']} | {r['edges']} | {common.fmt_ms(r['median_s'])} | {r['peak_extra_mb']:.0f} |"
                  for r in a["rows"]]
        lines += ["", f"time ~ atoms^{a['time_exponent']:.2f}, memory ~ atoms^{a['memory_exponent']:.2f}", ""]
    for key in ("hidden_lmax", "max_ell", "correlation"):
        if key not in results:
            continue
        s = results[key]
        lines += [f"| {key} | ms per call | MB |", "|---|---|---|"]
        lines += [f"| {r['value']} | {common.fmt_ms(r['median_s'])} | {r['peak_extra_mb']:.0f} |" for r in s["rows"]]
        lines += ["", f"{s['rows'][0]['atoms']}-atom box: time ~ ({s['variable']})^{s['time_exponent']:.2f}, "
                      f"memory ~ ({s['variable']})^{s['memory_exponent']:.2f}", ""]
    if "many_body" in results:
        s = results["many_body"]
        lines += ["| L | forward ms | forward+backward ms | method (fwd/vjp) |", "|---|---|---|---|"]
        lines += [f"| {r['L']} | {common.fmt_ms(r['forward_s'])} | {common.fmt_ms(r['forward_backward_s'])} | "
                  f"{r['methods'].get('many_body', '-')}/{r['methods'].get('vjp', '-')} |" for r in s["rows"]]
        lines += ["", f"Gaunt many-body op alone ({s['nodes']} nodes x {s['channels']} channels, correlation "
                      f"{s['correlation']}, degree L in and out): forward ~ L^{s['forward_exponent']:.2f}, "
                      f"forward+backward ~ L^{s['forward_backward_exponent']:.2f} (fit over L >= 3)", ""]
    return "\n".join(lines)


def plot(results: dict, path: Path, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 3, figsize=(14, 8))
    ax = axes[0, 0]
    if "atoms" in results:
        a = results["atoms"]
        xs = [r["atoms"] for r in a["rows"]]
        ax.loglog(xs, [r["median_s"] * 1e3 for r in a["rows"]], "o-", label=f"time ~ N^{a['time_exponent']:.2f}")
        ax.set_xlabel("atoms")
        ax.set_ylabel("ms per energy+forces call")
        ax2 = axes[1, 0]
        ax2.loglog(xs, [r["peak_extra_mb"] for r in a["rows"]], "s-", color="C1",
                   label=f"memory ~ N^{a['memory_exponent']:.2f}")
        ax2.set_xlabel("atoms")
        ax2.set_ylabel("peak memory above baseline, MB")
        ax2.legend()
        ax.legend()
    for ax, key in ((axes[0, 1], "hidden_lmax"), (axes[0, 2], "max_ell")):
        if key in results:
            s = results[key]
            xs = [r["value"] + 1 for r in s["rows"]]
            ax.loglog(xs, [r["median_s"] * 1e3 for r in s["rows"]], "o-",
                      label=f"time ~ ({key}+1)^{s['time_exponent']:.2f}")
            ax.set_xlabel(f"{key} + 1")
            ax.set_ylabel("ms per call")
            ax.legend()
    ax = axes[1, 1]
    if "correlation" in results:
        s = results["correlation"]
        ax.plot([r["value"] for r in s["rows"]], [r["median_s"] * 1e3 for r in s["rows"]], "o-",
                label=f"time ~ nu^{s['time_exponent']:.2f}")
        ax.set_xlabel("correlation order")
        ax.set_ylabel("ms per call")
        ax.legend()
    ax = axes[1, 2]
    if "many_body" in results:
        s = results["many_body"]
        xs = [r["L"] for r in s["rows"]]
        ax.loglog(xs, [r["forward_s"] * 1e3 for r in s["rows"]], "o-", label=f"forward ~ L^{s['forward_exponent']:.2f}")
        ax.loglog(xs, [r["forward_backward_s"] * 1e3 for r in s["rows"]], "s-",
                  label=f"fwd+bwd ~ L^{s['forward_backward_exponent']:.2f}")
        ax.set_xlabel("L")
        ax.set_ylabel("ms per call (many-body op alone)")
        ax.legend()
    for ax in axes.flat:
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="+", choices=SWEEPS, default=list(SWEEPS))
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    import warnings

    import torch
    warnings.filterwarnings("ignore", category=UserWarning)
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    cfg = QUICK if args.quick else FULL
    dtype = getattr(torch, args.dtype)
    results: Dict[str, dict] = {}
    start = time.perf_counter()
    runners = {"atoms": lambda: sweep_atoms(cfg, dtype),
               "hidden_lmax": lambda: sweep_degree(cfg, dtype, "hidden_lmax"),
               "max_ell": lambda: sweep_degree(cfg, dtype, "max_ell"),
               "correlation": lambda: sweep_correlation(cfg, dtype),
               "many_body": lambda: sweep_many_body(cfg, dtype)}
    for key in SWEEPS:
        if key in args.only:
            print(f"{key}:", flush=True)
            results[key] = runners[key]()
    text = markdown(results, args.dtype, threads)
    print(text)
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    stem = f"scaling_{args.dtype}" + ("_quick" if args.quick else "")
    meta = {"dtype": args.dtype, "threads": threads, "torch": torch.__version__, "quick": args.quick,
            "seconds": time.perf_counter() - start}
    (common.RESULTS / f"{stem}.json").write_text(json.dumps({"meta": meta, **results}, indent=1, default=str))
    (common.RESULTS / f"{stem}.md").write_text(text + "\n")
    plot(results, common.RESULTS / f"{stem}.png",
         f"Gaunt-MACE scaling, energy+forces, {args.dtype}, {threads} threads (CPU)")
    print(f"wrote benchmarks/results/{stem}.json, .md, .png ({meta['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
