"""Cost of Gaunt-MACE as the work grows: time and peak memory of one energy + forces call.

Sweeps (the default model: channels 64, hidden_lmax 1, max_ell 3, correlation 3, 2
interactions, r_max 5, radial MLP [64, 64, 64]; untrained, weights frozen; eager; --dtype):
  atoms        the 27-atom 3BPA molecule (open boundaries, shown but not fitted: 16.5 neighbours
               per atom instead of a liquid's 43) and periodic boxes of randomly packed 3BPA
               molecules at 1 g/cm^3 (4, 9 and 19 molecules packed directly, then the 999-atom
               box of benchmarks/harness repeated 1, 2, 4, 10 times); exponent of time ~ atoms^k
               over the boxes
  hidden_lmax  0..3, degree of the hidden node features (edge harmonics stay at max_ell 3)
  max_ell      1..6, degree of the edge harmonics and A features (hidden_lmax 1)
  correlation  2..5, body order of the Gaunt product basis
  many_body    the Gaunt many-body product op alone (correlation 3, degree L in and out,
               method 'auto' or --mb-method), forward and forward + backward, on nodes x channels
               rows, vs L; with --product-basis factors the factor basis module alone
               (GauntFactorProductBasis: channel mixing of each factor + the factor-products op)
--product-basis factors runs every sweep with the shipped potential's product basis.
The degree sweeps fit time ~ (L+1)^k (hidden_lmax starts at 0) on the 243-atom box, over all
points and over L >= 2; the many-body op fits time ~ L^k over L >= 3.  Every point runs in a
fresh worker process (benchmarks/harness: run_worker); memory = peak resident set during the
timed calls above the resident set before them; '*' marks a point whose process kept fewer
than 0.75 x threads cores busy (another job on the machine).

    python benchmarks/scaling.py                    # everything, float64 (~20 min, 2 cores)
    python benchmarks/scaling.py --quick            # small sizes, a minute or two
    python benchmarks/scaling.py --only atoms many_body --atoms 3bpa 9 999
    python benchmarks/scaling.py --product-basis factors --only many_body correlation --tag factors
Writes benchmarks/results/scaling_<dtype>[_quick][_<tag>].json, .md and .png.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Dict, List

import numpy as np

import harness

DEFAULT = dict(channels=64, hidden_lmax=1, max_ell=3, correlation=3, num_interactions=2, r_max=5.0)
SWEEPS = ("atoms", "hidden_lmax", "max_ell", "correlation", "many_body")
FULL = dict(atoms=["3bpa", "4", "9", "19", "999", "1998", "3996", "9990"], hidden_lmax=[0, 1, 2, 3],
            max_ell=[1, 2, 3, 4, 5, 6], correlation=[2, 3, 4, 5], many_body=[1, 2, 3, 4, 5, 6], repeats=3,
            min_sample=0.5, budget=20.0, degree_box=9, mb_nodes=256)
QUICK = dict(atoms=["3bpa", "9", "999"], hidden_lmax=[0, 1, 2], max_ell=[1, 2, 3], correlation=[2, 3],
             many_body=[1, 2, 3, 4], repeats=2, min_sample=0.1, budget=3.0, degree_box=9, mb_nodes=32)


# --- systems --------------------------------------------------------------------------------

def box(size):
    """'3bpa': the molecule; n < 100: n molecules packed directly (cached); else the repeated
    999-atom box."""
    from ase.io import read, write
    if str(size) == "3bpa":
        return harness.molecule()
    size = int(size)
    if size >= 100:
        return read(harness.molecule_box(size))
    path = harness.STRUCTURES / f"3bpa_box_{27 * size}_packed_seed7.xyz"
    if not path.exists():
        harness.STRUCTURES.mkdir(parents=True, exist_ok=True)
        write(path, harness.random_packing(size, harness.DENSITY, harness.MIN_DISTANCE, seed=7), format="extxyz")
    return read(path)


# --- the worker side (one point per fresh process) --------------------------------------------

def model_call(atoms, dtype, **overrides) -> tuple:
    import torch
    from gaunt_md.data import SpeciesTable, collate, graph_from_atoms
    from gaunt_md.nn import GauntMACE, ModelConfig
    graph = graph_from_atoms(atoms, SpeciesTable([1, 6, 7, 8]), 5.0, dtype=dtype)
    torch.manual_seed(0)
    cfg = dict(DEFAULT, **overrides)  # overrides include product_basis
    model = GauntMACE(ModelConfig(atomic_numbers=[1, 6, 7, 8], avg_num_neighbors=graph.num_edges / len(atoms),
                                  **cfg)).to(dtype)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    inputs = collate([graph]).inputs()

    def call():
        out = model(inputs, compute_forces=True)
        return out["energy"], out["forces"]
    return call, graph.num_edges


def measure(call, req: dict) -> dict:
    import torch
    out = harness.timed_with_memory(call, torch.device("cpu"), req["repeats"], req["min_sample"], warmup=2,
                                    budget=req["budget"])
    return {"median_s": out["median"], "min_s": out["min"], "peak_extra_mb": out["peak_extra_mb"],
            "cores_used": out["cores_used"], "load_before": out["load_before"], "load_after": out["load_after"],
            "samples": len(out["samples"]), "calls_per_sample": out["calls_per_sample"]}


def worker_model(req: dict) -> dict:
    import torch
    atoms = box(req["size"])
    call, edges = model_call(atoms, getattr(torch, req["dtype"]), **req.get("overrides", {}))
    return dict(atoms=len(atoms), edges=edges, pbc=bool(atoms.pbc.any()), threads=torch.get_num_threads(),
                **measure(call, req))


def worker_many_body(req: dict) -> dict:
    import torch
    from gaunt_md.nn.factor_product import GauntFactorProductBasis
    from gaunt_md.ops import autotune_choices, many_body_product
    from gaunt_md.so3 import sh_dim
    dtype = getattr(torch, req["dtype"])
    nodes, channels, correlation, L = req["nodes"], req["channels"], req["correlation"], req["L"]
    gen = torch.Generator().manual_seed(0)
    species = torch.randint(0, 4, (nodes,), generator=gen)
    x = torch.randn(nodes, channels, sh_dim(L), generator=gen, dtype=torch.float64).to(dtype)
    w = torch.randn(4, channels, L + 1, correlation, generator=gen, dtype=torch.float64).to(dtype)
    xg = x.clone().requires_grad_(True)
    grad = torch.randn(nodes, channels, sh_dim(L), dtype=dtype)
    method = req.get("method", "auto")
    if req.get("product_basis") == "factors":
        basis = GauntFactorProductBasis(channels, L, L, correlation, 4).to(dtype).requires_grad_(False)
        product = lambda features: basis(features, species)
        method = "factors"
    else:
        product = lambda features: many_body_product(features, w, species, L, method)

    def fwd():
        with torch.no_grad():
            return product(x)
    fwd_bwd = lambda: torch.autograd.grad(product(xg), [xg], grad)
    r = {"L": L, "rows": nodes * channels, "threads": torch.get_num_threads(), "method": method}
    for name, fn in (("forward", fwd), ("forward_backward", fwd_bwd)):
        m = measure(fn, req)
        r[name + "_s"] = m["median_s"]
        r[name + "_min_s"] = m["min_s"]
        r[name + "_peak_extra_mb"] = m["peak_extra_mb"]
        r[name + "_cores_used"] = m["cores_used"]
    r["methods"] = {k[0]: v for k, v in autotune_choices().items() if k[1] == sh_dim(L) and k[2] == correlation
                    and k[3] == L}
    return r


def worker(req: dict) -> dict:
    return (worker_many_body if req["task"] == "many_body" else worker_model)(req)


# --- the driver -----------------------------------------------------------------------------

def point(cfg: dict, args, **req) -> dict:
    req = dict(req, dtype=args.dtype, threads=args.threads, repeats=cfg["repeats"], min_sample=cfg["min_sample"],
               budget=cfg["budget"])
    return harness.run_worker(harness.worker_command(__file__), req,
                              timeout=args.timeout, max_rss_gb=args.mem_limit)


def fit(xs: List[float], ys: List[float]) -> float:
    pts = [(x, y) for x, y in zip(xs, ys) if x > 0 and y and y > 0 and not math.isnan(y)]
    if len(pts) < 2:
        return float("nan")
    slope, _ = np.polyfit(np.log([p[0] for p in pts]), np.log([p[1] for p in pts]), 1)
    return float(slope)


def busy(r: dict, key: str = "cores_used") -> bool:
    return r.get(key, 9.0) < 0.75 * r.get("threads", 1)


def star(r: dict, key: str = "cores_used") -> str:
    return "*" if busy(r, key) else ""


def report_error(label: str, r: dict) -> bool:
    if "error" in r:
        print(f"  {label}: {r['error']}", flush=True)
        return True
    return False


def sweep_atoms(cfg, args) -> dict:
    rows = []
    for size in cfg["atoms"]:
        r = point(cfg, args, task="model", size=str(size), overrides={"product_basis": args.product_basis})
        if report_error(f"size {size}", r):
            continue
        print(f"  atoms {r['atoms']:6d}  edges {r['edges']:7d}  {r['median_s'] * 1e3:9.1f} ms{star(r)}  "
              f"{r['peak_extra_mb']:8.0f} MB", flush=True)
        rows.append(r)
    fitted = [r for r in rows if r["pbc"]]
    xs = [r["atoms"] for r in fitted]
    return {"rows": rows, "fit_over": "periodic boxes", "time_exponent": fit(xs, [r["median_s"] for r in fitted]),
            "memory_exponent": fit(xs, [r["peak_extra_mb"] for r in fitted])}


def sweep_degree(cfg, args, key: str) -> dict:
    rows = []
    for value in cfg[key]:
        r = point(cfg, args, task="model", size=str(cfg["degree_box"]),
                  overrides={key: value, "product_basis": args.product_basis})
        if report_error(f"{key} {value}", r):
            continue
        r["value"] = value
        print(f"  {key} {value}  {r['median_s'] * 1e3:9.1f} ms{star(r)}  {r['peak_extra_mb']:8.0f} MB", flush=True)
        rows.append(r)
    xs = [r["value"] + 1 for r in rows]
    high = [r for r in rows if r["value"] >= 2]
    return {"rows": rows, "variable": f"{key} + 1", "time_exponent": fit(xs, [r["median_s"] for r in rows]),
            "memory_exponent": fit(xs, [r["peak_extra_mb"] for r in rows]),
            "time_exponent_high": fit([r["value"] + 1 for r in high], [r["median_s"] for r in high]),
            "memory_exponent_high": fit([r["value"] + 1 for r in high], [r["peak_extra_mb"] for r in high])}


def sweep_correlation(cfg, args) -> dict:
    out = sweep_degree(cfg, args, "correlation")
    xs = [r["value"] for r in out["rows"]]
    out.update(variable="correlation", time_exponent=fit(xs, [r["median_s"] for r in out["rows"]]),
               memory_exponent=fit(xs, [r["peak_extra_mb"] for r in out["rows"]]))
    out.pop("time_exponent_high")
    out.pop("memory_exponent_high")
    return out


def sweep_many_body(cfg, args) -> dict:
    nodes, channels, correlation = cfg["mb_nodes"], DEFAULT["channels"], 3
    rows = []
    for L in cfg["many_body"]:
        r = point(cfg, args, task="many_body", L=L, nodes=nodes, channels=channels, correlation=correlation,
                  method=args.mb_method, product_basis=args.product_basis)
        if report_error(f"many-body L {L}", r):
            continue
        print(f"  many-body L {L}  fwd {r['forward_s'] * 1e3:8.2f} ms{star(r, 'forward_cores_used')}  "
              f"fwd+bwd {r['forward_backward_s'] * 1e3:8.2f} ms{star(r, 'forward_backward_cores_used')}  "
              f"{r['methods']}", flush=True)
        rows.append(r)
    fit_rows = [r for r in rows if r["L"] >= 3]
    method = "factors (GauntFactorProductBasis)" if args.product_basis == "factors" else args.mb_method
    return {"rows": rows, "nodes": nodes, "channels": channels, "correlation": correlation, "method": method,
            "forward_exponent": fit([r["L"] for r in fit_rows], [r["forward_s"] for r in fit_rows]),
            "forward_backward_exponent": fit([r["L"] for r in fit_rows], [r["forward_backward_s"] for r in fit_rows])}


# --- output ---------------------------------------------------------------------------------

def markdown(results: dict, dtype: str, threads: int) -> str:
    lines = [f"Energy + forces per call, {dtype}, {threads} threads, eager PyTorch; ms = median [min]; MB = peak "
             "resident set above the baseline during the calls; * = fewer than 0.75 x threads cores busy in its "
             "process.", ""]
    if "atoms" in results:
        a = results["atoms"]
        lines.append(harness.markdown_table(
            ["system", "atoms", "edges", "ms per call", "us per atom", "MB", "kB per atom"],
            [["box" if r["pbc"] else "molecule", r["atoms"], r["edges"],
              f"{harness.fmt_ms(r['median_s'])} [{harness.fmt_ms(r['min_s'])}]{star(r)}",
              f"{r['median_s'] / r['atoms'] * 1e6:.0f}", f"{r['peak_extra_mb']:.0f}",
              f"{r['peak_extra_mb'] / r['atoms'] * 1024:.0f}"] for r in a["rows"]]))
        lines += ["", f"{a['fit_over']}: time ~ atoms^{a['time_exponent']:.2f}, "
                      f"memory ~ atoms^{a['memory_exponent']:.2f}", ""]
    for key in ("hidden_lmax", "max_ell", "correlation"):
        if key not in results or not results[key]["rows"]:
            continue
        s = results[key]
        lines.append(harness.markdown_table(
            [key, "ms per call", "MB"],
            [[r["value"], f"{harness.fmt_ms(r['median_s'])} [{harness.fmt_ms(r['min_s'])}]{star(r)}",
              f"{r['peak_extra_mb']:.0f}"] for r in s["rows"]]))
        text = (f"{s['rows'][0]['atoms']}-atom box: time ~ ({s['variable']})^{s['time_exponent']:.2f}, "
                f"memory ~ ({s['variable']})^{s['memory_exponent']:.2f}")
        if "time_exponent_high" in s:
            text += (f"; over {key} >= 2: time ~ ({s['variable']})^{s['time_exponent_high']:.2f}, "
                     f"memory ~ ({s['variable']})^{s['memory_exponent_high']:.2f}")
        lines += ["", text, ""]
    if "many_body" in results and results["many_body"]["rows"]:
        s = results["many_body"]
        lines.append(harness.markdown_table(
            ["L", "forward ms", "forward+backward ms", "fwd+bwd MB", "method (fwd/vjp)"],
            [[r["L"], f"{harness.fmt_ms(r['forward_s'])}{star(r, 'forward_cores_used')}",
              f"{harness.fmt_ms(r['forward_backward_s'])}{star(r, 'forward_backward_cores_used')}",
              f"{r['forward_backward_peak_extra_mb']:.0f}",
              f"{r['methods'].get('many_body', r.get('method', '-'))}/{r['methods'].get('vjp', r.get('method', '-'))}"]
             for r in s["rows"]]))
        lines += ["", f"Gaunt many-body step alone ({s['nodes']} nodes x {s['channels']} channels, correlation "
                      f"{s['correlation']}, degree L in and out, method {s.get('method', 'auto')}): forward ~ L^{s['forward_exponent']:.2f}, "
                      f"forward+backward ~ L^{s['forward_backward_exponent']:.2f} (fit over L >= 3)", ""]
    return "\n".join(lines)


def plot(results: dict, path: Path, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 3, figsize=(14, 8))
    ax = axes[0, 0]
    if "atoms" in results and results["atoms"]["rows"]:
        a = results["atoms"]
        xs = [r["atoms"] for r in a["rows"]]
        ax.loglog(xs, [r["median_s"] * 1e3 for r in a["rows"]], "o-", label=f"time ~ N^{a['time_exponent']:.2f}")
        ax.set_xlabel("atoms (first point: the molecule)")
        ax.set_ylabel("ms per energy+forces call")
        ax2 = axes[1, 0]
        ax2.loglog(xs, [r["peak_extra_mb"] for r in a["rows"]], "s-", color="C1",
                   label=f"memory ~ N^{a['memory_exponent']:.2f}")
        ax2.set_xlabel("atoms")
        ax2.set_ylabel("peak memory above baseline, MB")
        ax2.legend()
        ax.legend()
    def sweep(ax, key: str, offset: int, xlabel: str, var: str, log: bool) -> None:
        """Time (left axis) and memory (right axis) of one parameter sweep."""
        if key not in results or not results[key]["rows"]:
            return
        s = results[key]
        xs = [r["value"] + offset for r in s["rows"]]
        draw = "loglog" if log else "plot"
        getattr(ax, draw)(xs, [r["median_s"] * 1e3 for r in s["rows"]], "o-",
                          label=f"time ~ {var}^{s['time_exponent']:.2f}")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("ms per call")
        ax.legend()
        axm = ax.twinx()
        getattr(axm, draw)(xs, [r["peak_extra_mb"] for r in s["rows"]], "s--", color="C1",
                           label="memory (MB, right)")
        axm.legend(loc="lower right")

    for ax, key in ((axes[0, 1], "hidden_lmax"), (axes[0, 2], "max_ell")):
        sweep(ax, key, 1, f"{key} + 1", f"({key}+1)", True)
    sweep(axes[1, 1], "correlation", 0, "correlation order", "nu", False)
    ax = axes[1, 2]
    if "many_body" in results and results["many_body"]["rows"]:
        s = results["many_body"]
        xs = [r["L"] for r in s["rows"]]
        ax.loglog(xs, [r["forward_s"] * 1e3 for r in s["rows"]], "o-", label=f"forward ~ L^{s['forward_exponent']:.2f}")
        ax.loglog(xs, [r["forward_backward_s"] * 1e3 for r in s["rows"]], "s-",
                  label=f"fwd+bwd ~ L^{s['forward_backward_exponent']:.2f}")
        ref = [s["rows"][-1]["forward_backward_s"] * 1e3 * (x / xs[-1]) ** 3 for x in xs]
        ax.loglog(xs, ref, ":", color="grey", label="L^3")
        ax.set_xlabel("L")
        ax.set_ylabel("ms per call (many-body op alone)")
        ax.legend()
    for ax in axes.flat:
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    harness.save_figure(fig, path, dpi=110)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    served = harness.worker_main(argv, worker)
    if served is not None:
        return served
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="+", choices=SWEEPS, default=list(SWEEPS))
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    parser.add_argument("--threads", type=int, default=0, help="torch threads in the workers (default: torch's)")
    parser.add_argument("--atoms", nargs="+", help="'3bpa', molecules (< 100) or box atoms (>= 100)")
    for key in ("hidden_lmax", "max_ell", "correlation", "many_body"):
        parser.add_argument("--" + key.replace("_", "-"), nargs="+", type=int, dest=key)
    parser.add_argument("--mb-method", default="auto", help="route of the many-body sweep (default auto; "
                        "'dense', which auto may try, fails above L = 6 at correlation 3: degree 2L > 12)")
    parser.add_argument("--repeats", type=int, help="timed samples per point (default 3, quick 2)")
    parser.add_argument("--budget", type=float, help="s of timed samples per point; slow points get fewer "
                                                     "repeats, never fewer than 3 (default 20)")
    parser.add_argument("--timeout", type=float, default=900.0, help="s per worker process")
    parser.add_argument("--mem-limit", type=float, default=16.0, help="GB: stop a worker above this resident set")
    parser.add_argument("--tag", default="", help="suffix of the output files")
    parser.add_argument("--product-basis", default="power", choices=["power", "factors"],
                        help="product basis of every sweep (factors: the shipped potential's)")
    args = parser.parse_args(argv)
    import torch
    cfg = dict(QUICK if args.quick else FULL)
    for key in ("atoms", "hidden_lmax", "max_ell", "correlation", "many_body", "repeats", "budget"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    threads = args.threads or torch.get_num_threads()
    results: Dict[str, dict] = {}
    start = time.perf_counter()
    runners = {"atoms": lambda: sweep_atoms(cfg, args),
               "hidden_lmax": lambda: sweep_degree(cfg, args, "hidden_lmax"),
               "max_ell": lambda: sweep_degree(cfg, args, "max_ell"),
               "correlation": lambda: sweep_correlation(cfg, args),
               "many_body": lambda: sweep_many_body(cfg, args)}
    for key in SWEEPS:
        if key in args.only:
            print(f"{key}:", flush=True)
            results[key] = runners[key]()
    text = markdown(results, args.dtype, threads)
    print(text)
    harness.RESULTS.mkdir(parents=True, exist_ok=True)
    stem = f"scaling_{args.dtype}" + ("_quick" if args.quick else "") + (f"_{args.tag}" if args.tag else "")
    meta = {"dtype": args.dtype, "threads": threads, "torch": torch.__version__, "quick": args.quick,
            "product_basis": args.product_basis,
            "config": cfg, "git": harness.git_state(), "seconds": time.perf_counter() - start}
    (harness.RESULTS / f"{stem}.json").write_text(json.dumps({"meta": meta, **results}, indent=1, default=str))
    (harness.RESULTS / f"{stem}.md").write_text(text + "\n")
    plot(results, harness.RESULTS / f"{stem}.png",
         f"Gaunt-MACE scaling, energy+forces, {args.dtype}, {threads} threads (CPU), "
         f"{args.product_basis} product basis")
    print(f"wrote benchmarks/results/{stem}.json, .md, .png ({meta['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
