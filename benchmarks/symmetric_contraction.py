"""The many-body product basis: Gaunt many_body_product against mace-torch's SymmetricContraction.

Both map node features x [N, C, (L+1)^2] (C channels of degrees 0..L, natural parity) and the
species of each node (S elements) to C channels of degrees 0..Lout (default Lout = L) at
correlation K = 3:
  Gaunt  torch.ops.gaunt_md.many_body (gaunt_md.ops.many_body_product): sum_nu w[s, c, l, nu] (f^nu)_lm,
         routes dense / fourier / grid (and auto, the one the model uses);
  MACE   mace.modules.symmetric_contraction.SymmetricContraction(C x (0e+1o+...), C x (0e+1o+...),
         correlation=K, num_elements=S) -- the generalised Clebsch-Gordan contraction, with many more
         weights (one per element, channel and coupling path), run in the mace-torch venv.
Forward (no autograd) and forward+backward (gradients of x and of the weights), timed one after
the other in one fresh process per (route, L); memory = peak resident set of the timed calls
above the resident set before them.  A series stops after the first L where one call took
longer than --max-call s or failed.  A log-log least-squares fit over L >= 3 gives the scaling
exponent in L.  One extra point is the shape the models use (L = 3 -> Lout = 1).

mace-torch builds its coupling basis (U matrices) with e3nn's Wigner 3j symbols up to L = 3; for
L = 4 they would need degree 12 > 11, and mace-torch falls back to cuequivariance's reduced
symmetric basis (installed in the mace venv), which took ~150 s to build at L = 4 and more than
17 GB at L = 5 here, hence --mace-lmax 4.

On a GPU (--device cuda): tensors and modules there, memory = torch's peak CUDA memory
allocated above that allocated before the timed calls; --cueq adds a series "mace-cueq",
cuequivariance_torch's SymmetricContraction as mace builds it with a cueq_config (mace's
SymmetricContractionWrapper; inputs in its ir_mul layout).  --mace-python / --mace-pythonpath as
in model_speed.py.

    python benchmarks/symmetric_contraction.py --quick
    python benchmarks/symmetric_contraction.py --lmax 6 --batch 512 --dtype float64
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import harness

FULL = dict(lmax=6, batch=512, repeats=5, min_sample=0.5, max_call=30.0, budget=20.0)
QUICK = dict(lmax=3, batch=64, repeats=3, min_sample=0.1, max_call=5.0, budget=3.0)
PHASES = ("forward", "forward+backward")
FIT_FROM = 3


def gaunt_worker(req: dict) -> dict:
    import torch
    from gaunt_md.ops import autotune_choices, many_body_product

    dtype = getattr(torch, req["dtype"])
    device = torch.device(req.get("device", "cpu"))
    L, C, S, K, N = req["lmax"], req["channels"], req["num_elements"], req["correlation"], req["batch"]
    lmax_out = req.get("lmax_out", L)
    gen = torch.Generator().manual_seed(100 + L)
    x = torch.randn(N, C, (L + 1) ** 2, generator=gen, dtype=torch.float64).to(dtype).to(device).requires_grad_()
    species = torch.randint(S, (N,), generator=gen).to(device)
    weights = (torch.randn(S, C, lmax_out + 1, K, generator=gen, dtype=torch.float64).to(dtype).to(device)
               .requires_grad_())
    grad = torch.randn(N, C, (lmax_out + 1) ** 2, generator=gen, dtype=torch.float64).to(dtype).to(device)
    method = req["method"]

    def forward():
        with torch.no_grad():
            return many_body_product(x, weights, species, lmax_out, method=method)

    def forward_backward():
        return torch.autograd.grad(many_body_product(x, weights, species, lmax_out, method=method),
                                   [x, weights], grad)

    calls = {"forward": forward, "forward+backward": forward_backward}
    timings = {phase: harness.timed_with_memory(calls[phase], device, req["repeats"], req["min_sample"],
                                                req.get("warmup", 2), req.get("budget"))
               for phase in req["phases"]}
    return {"params": weights.numel(), "timings": timings, "threads": torch.get_num_threads(),
            "autotune": {str(k): v for k, v in autotune_choices().items()}}


class Series:
    def __init__(self, name: str):
        self.name = name
        self.times: Dict[str, Dict[int, dict]] = {p: {} for p in PHASES}
        self.params: Dict[int, int] = {}
        self.stopped: Dict[str, str] = {}


def is_mace(name: str) -> bool:
    return name.startswith("mace")


def run_point(series: Series, lmax: int, req: dict, mace, args) -> Optional[dict]:
    """Both phases of one (series, L) in one fresh process; None once every phase has stopped."""
    phases = [p for p in PHASES if p not in series.stopped]
    if not phases:
        return None
    if args.time_limit is not None and time.time() - args.t0 > args.time_limit:
        for p in phases:
            series.stopped[p] = f"time limit {args.time_limit:g} s reached before L={lmax}"
        return None
    if is_mace(series.name):
        if lmax > args.mace_lmax:
            for p in phases:
                series.stopped[p] = f"not run above L={args.mace_lmax} (--mace-lmax)"
            return None
        cmd, env = [mace[0], str(harness.ROOT / "benchmarks" / "mace_worker.py")], mace[1]
        req = dict(req, task="symmetric_contraction", cueq=series.name == "mace-cueq")
    else:
        cmd, env = harness.worker_command(__file__), dict(os.environ)
        req = dict(req, method=series.name)
    res = harness.run_worker(cmd, dict(req, phases=phases), env=env, timeout=args.timeout, max_rss_gb=args.mem_limit)
    busy = [p for p, t in res.get("timings", {}).items() if t["cores_used"] < args.min_cores]
    if busy:
        # another job took cores from this process: measure those phases once more, keep the cleaner
        again = harness.run_worker(cmd, dict(req, phases=busy), env=env, timeout=args.timeout,
                                   max_rss_gb=args.mem_limit)
        for p, t in again.get("timings", {}).items():
            if t["cores_used"] > res["timings"][p]["cores_used"]:
                res["timings"][p] = t
    if "error" in res:
        for p in phases:
            series.stopped[p] = f"stopped at L={lmax}: {res['error'][:160]}"
        return None
    for p, t in res["timings"].items():
        if t["median"] > args.max_call:
            series.stopped[p] = f"capped after L={lmax} (one call > {args.max_call:g} s)"
    return res


def table(series: List[Series], phase: str, points: List[int], min_cores: float = 0.0) -> str:
    gaunt = [s for s in series if not is_mace(s.name)]
    maces = [s for s in series if is_mace(s.name)]
    head = ["L"] + [f"{s.name} ms" for s in series] + [f"{s.name} / best Gaunt" for s in maces]
    body = []
    for l in points:
        cells = [str(l)]
        for s in series:
            t = s.times[phase].get(l)
            star = "*" if t and t.get("cores_used", 9) < min_cores else ""
            cells.append(f"{harness.fmt_ms(t['median'])}{star} [{harness.fmt_ms(t['min'])}]" if t else "-")
        best = min((s.times[phase][l]["median"] for s in gaunt if l in s.times[phase]), default=None)
        for mace in maces:
            m = mace.times[phase].get(l)
            cells.append(f"{m['median'] / best:.2g}x" if best and m else "-")
        body.append(cells)
    lines = [harness.markdown_table(head, body)]
    exps = ", ".join(f"{s.name} {harness.exponent(s.times[phase], FIT_FROM):.2f}" for s in series)
    lines.append(f"\nscaling exponent in L (log-log fit of the median over L >= {FIT_FROM}): {exps}")
    return "\n".join(lines)


def plot(series: List[Series], path: Path, subtitle: str) -> None:
    import matplotlib
    import matplotlib.ticker
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, phase in zip(axes, PHASES):
        for s in series:
            ls = sorted(s.times[phase])
            if ls:
                slope = harness.exponent(s.times[phase], FIT_FROM)
                label = s.name + ("" if math.isnan(slope) else f" (~L^{slope:.1f})")
                ax.loglog(ls, [s.times[phase][l]["median"] * 1e3 for l in ls], "--" if is_mace(s.name) else "-",
                          marker="o", label=label)
        measured = sorted({l for s in series for l in s.times[phase]})
        if measured:
            ax.set_xticks(measured)
            ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_title(phase, fontsize=10)
        ax.set_xlabel("L (input and output degree)")
        ax.set_ylabel("ms per call (median)")
    harness.finish_figure(fig, path, subtitle, axes)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    served = harness.worker_main(argv, gaunt_worker)
    if served is not None:
        return served
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--quick", action="store_true", help="L <= 3, 64 nodes")
    parser.add_argument("--lmax", type=int, help="largest L (default 6, quick 3)")
    parser.add_argument("--batch", type=int, help="nodes per call (default 512, quick 64)")
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--elements", type=int, default=4)
    parser.add_argument("--correlation", type=int, default=3)
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--methods", nargs="+", default=["dense", "fourier", "grid"],
                        help="Gaunt routes to time (the L=3 -> 1 model point always uses auto)")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--min-sample", type=float)
    parser.add_argument("--budget", type=float, help="s of timed samples per point (fewer, >= 3, for slow calls)")
    parser.add_argument("--max-call", type=float, help="stop a series after a call this slow (s)")
    parser.add_argument("--timeout", type=float, default=600.0, help="s per worker process")
    parser.add_argument("--mace-lmax", type=int, default=4,
                        help="largest L for MACE (default 4: at L = 5 building its coupling basis took more "
                             "than 17 GB and 8 minutes here)")
    parser.add_argument("--mem-limit", type=float, default=14.0, help="GB: a worker above it is stopped")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--min-cores", type=float,
                        help="re-measure a point once if its process kept fewer cores busy (default 0.75 x threads)")
    parser.add_argument("--lmin", type=int, default=1, help="smallest L")
    parser.add_argument("--no-model-point", action="store_true", help="skip the L=3 -> Lout=1 point")
    parser.add_argument("--tag", default="")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where tensors and modules live")
    parser.add_argument("--cueq", action="store_true", help="add mace-cueq: cuequivariance_torch's "
                                                            "SymmetricContraction as mace builds it")
    parser.add_argument("--no-mace", action="store_true", help="Gaunt routes only")
    parser.add_argument("--mace-python", help="interpreter for the MACE workers instead of benchmarks/.mace-venv")
    parser.add_argument("--mace-pythonpath", help="folder put first on PYTHONPATH of the MACE workers only")
    parser.add_argument("--out-dir", type=Path, default=harness.RESULTS, help="where the JSON and PNG go")
    parser.add_argument("--time-limit", type=float, help="s: start no new point after this long")
    args = parser.parse_args(argv)
    harness.interrupt_once()
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)

    mace = None if args.no_mace else harness.mace_python_env(args.mace_python, args.mace_pythonpath)
    import torch
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch.cuda.is_available() is False")
    if args.min_cores is None:
        args.min_cores = 0.0 if args.device == "cuda" else 0.75 * (args.threads or torch.get_num_threads())
    subtitle = (f"{harness.device_label(args.device)}, {args.dtype}, {args.batch} nodes, {args.channels} channels, "
                f"{args.elements} elements, correlation {args.correlation}, torch {torch.__version__}")
    print(f"Many-body product vs SymmetricContraction -- {subtitle}", flush=True)
    mace_names = [] if args.no_mace else ["mace"] + (["mace-cueq"] if args.cueq else [])
    series = [Series(m) for m in args.methods] + [Series(m) for m in mace_names]
    base = {"dtype": args.dtype, "channels": args.channels, "num_elements": args.elements,
            "correlation": args.correlation, "batch": args.batch, "repeats": args.repeats,
            "min_sample": args.min_sample, "budget": args.budget, "threads": args.threads, "device": args.device}
    t0 = args.t0 = time.time()
    model_point = {}
    try:
        for lmax in range(args.lmin, args.lmax + 1):
            for s in series:
                res = run_point(s, lmax, dict(base, lmax=lmax, lmax_out=lmax), mace, args)
                if not res:
                    continue
                s.params[lmax] = res["params"]
                extra = f", basis built in {res['build_s']:.0f} s" if "build_s" in res else ""
                for phase, t in res["timings"].items():
                    s.times[phase][lmax] = t
                    mb = harness.memory_mb(t, args.device)
                    print(f"  L={lmax} {phase:16s} {s.name:7s} {harness.fmt_ms(t['median']):>8} ms"
                          f" (+{mb if mb is not None else float('nan'):.0f} MB{extra})  [{time.time() - t0:.0f} s]",
                          flush=True)
        if not args.no_model_point:
            for name in ["auto"] + mace_names:
                res = run_point(Series(name), 3, dict(base, lmax=3, lmax_out=1), mace, args)
                if res:
                    model_point[name] = {p: t | {"params": res["params"]} for p, t in res["timings"].items()}
    except KeyboardInterrupt:  # e.g. `timeout -s INT`: report what was measured
        print(f"\ninterrupted after {time.time() - t0:.0f} s; reporting the points measured", flush=True)

    out = []
    for phase in PHASES:
        text = table(series, phase, list(range(args.lmin, args.lmax + 1)), args.min_cores)
        out.append(f"### {phase}: ms per call, median [min]; * = fewer than {args.min_cores:g} cores "
                   f"busy in its process (another job on the machine)\n\n{text}")
    for s in series:
        for phase, why in s.stopped.items():
            out.append(f"note: {s.name} {phase} {why}")
    named = [s for s in series if not is_mace(s.name) and s.params][-1:] + [s for s in series if s.name == "mace"]
    out.append("weights per product: " + ", ".join(
        f"{'MACE' if is_mace(s.name) else 'Gaunt'} " + "/".join(str(s.params[l]) for l in sorted(s.params))
        for s in named
    ) + " (L = 1, 2, ...)")
    if model_point:
        lines = ["\nthe model's shape, L = 3 -> Lout = 1: median ms " + ", ".join(
            f"{name}: " + " / ".join(f"{harness.fmt_ms(v[p]['median'])}" for p in PHASES if p in v)
            for name, v in model_point.items()) + " (forward / forward+backward)"]
        for name in mace_names:
            if name in model_point and "auto" in model_point:
                lines.append(f"  {name}/auto: " + " / ".join(
                    f"{model_point[name][p]['median'] / model_point['auto'][p]['median']:.2g}x"
                    for p in PHASES if p in model_point[name] and p in model_point["auto"]))
        out.append("\n".join(lines))
    report = "\n\n".join(out)
    print("\n" + report)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    stem = (f"symmetric_contraction_{args.dtype}" + ("_cuda" if args.device == "cuda" else "")
            + ("_quick" if args.quick else "") + (f"_{args.tag}" if args.tag else ""))
    (args.out_dir / f"{stem}.json").write_text(json.dumps({
        "config": vars(args) | {"subtitle": subtitle, "git": harness.git_state()},
        "series": {s.name: {"times": s.times, "params": s.params, "stopped": s.stopped} for s in series},
        "model_point": model_point, "report": report}, indent=1, default=str))
    plot(series, args.out_dir / f"{stem}.png", subtitle)
    print(f"\nwrote {args.out_dir / (stem + '.json')} and {stem}.png  [{time.time() - t0:.0f} s]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
