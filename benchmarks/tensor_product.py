"""Time the Gaunt tensor product against e3nn's Clebsch-Gordan tensor products.

Three comparisons, each for forward and forward+backward:
  1. channels = 1: gaunt_product(x, y, L) for x, y of degree L against e3nn's
     o3.FullTensorProduct on 1x0e+1x1o+...+1xL(e/o) with the outputs filtered to the degrees
     <= L of natural parity (exactly the ones a Gaunt product can reach).
  2. channels = C > 1: gaunt_product(x [B, C, D], y [B, 1, D]) against the channelwise
     o3.TensorProduct with 'uvu' instructions (Cx(...) x 1x(...) -> Cx(...)), the baseline of
     Luo et al. 2024 and of MACE/NequIP interactions.  (The uvu product carries one weight
     per path and channel; the Gaunt product has none, as in the paper's comparison.)
  3. the many-body form: many_body_product (correlation K) against the same contraction
     written with plain e3nn channelwise ('uuu') TensorProducts.  mace-torch is not installed
     here; the SymmetricContraction comparison is made by a separate script.

L = L1 = L2 = Lout = 1..--lmax; a method stops at the first L where one call exceeds
--max-call seconds.  Every timing is warmed up, then --repeats samples (each long enough to
be resolvable) are taken; min and median per call are reported.  A log-log least-squares fit
over L >= 3 gives the scaling exponent of each method.

    python benchmarks/tensor_product.py --quick
    python benchmarks/tensor_product.py --lmax 10 --batch 256 --channels 1 128 --dtype float32
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Callable, Dict, List, Optional

import torch
from e3nn import o3

import harness  # first: it puts this checkout's gaunt_md on sys.path
from harness import RESULTS, forward_backward, measure
from gaunt_md.ops import gaunt_product, many_body_product, triton_usable  # noqa: E402
from gaunt_md.so3 import sh_dim  # noqa: E402

FULL = dict(lmax=10, batch=256, channels=[1, 128], repeats=7, min_sample=0.02, max_call=2.0, mb_lmax=6)
QUICK = dict(lmax=6, batch=32, channels=[1, 16], repeats=3, min_sample=0.005, max_call=0.5, mb_lmax=4)
FIT_FROM = 3  # scaling exponents are fitted over L >= FIT_FROM


# --- e3nn baselines -----------------------------------------------------------------------

def natural_irreps(lmax: int, mul: int = 1) -> o3.Irreps:
    return o3.Irreps([(mul, (l, (-1) ** l)) for l in range(lmax + 1)])


def full_tensor_product(lmax: int) -> o3.FullTensorProduct:
    irreps = natural_irreps(lmax)
    return o3.FullTensorProduct(irreps, irreps, filter_ir_out=[o3.Irrep(l, (-1) ** l) for l in range(lmax + 1)])


def _instructions(irreps1, irreps2, irreps_out, mode: str, weighted: bool):
    return [
        (i, j, k, mode, weighted)
        for i, (_, ir1) in enumerate(irreps1)
        for j, (_, ir2) in enumerate(irreps2)
        for k, (_, ir3) in enumerate(irreps_out)
        if ir3 in ir1 * ir2
    ]


def uvu_tensor_product(lmax: int, channels: int) -> o3.TensorProduct:
    irreps1, irreps2 = natural_irreps(lmax, channels), natural_irreps(lmax)
    return o3.TensorProduct(irreps1, irreps2, irreps1, _instructions(irreps1, irreps2, irreps1, "uvu", True))


class E3nnManyBody(torch.nn.Module):
    """sum_nu w[species, c, l, nu] * (projection onto l of f^nu), with f^nu built by iterated
    channelwise ('uuu', unweighted) e3nn tensor products, intermediates kept to degree nu*L."""

    def __init__(self, lmax: int, correlation: int, lmax_out: int, channels: int):
        super().__init__()
        self.lmax_out, self.channels = lmax_out, channels
        base = natural_irreps(lmax, channels)
        self.products = torch.nn.ModuleList()
        self.keep = []  # how many leading features of each power land in degrees <= lmax_out
        degree = lmax
        self.keep.append(natural_irreps(min(lmax, lmax_out), channels).dim)
        for nu in range(2, correlation + 1):
            target = nu * lmax if nu < correlation else lmax_out
            irreps_in, irreps_out = natural_irreps(degree, channels), natural_irreps(target, channels)
            self.products.append(o3.TensorProduct(
                irreps_in, base, irreps_out, _instructions(irreps_in, base, irreps_out, "uuu", False)))
            self.keep.append(natural_irreps(min(target, lmax_out), channels).dim)
            degree = target
        out = natural_irreps(lmax_out, channels)
        # per-feature channel and degree of the e3nn layout (blocks of C x (2l+1), channel-major)
        chan = torch.cat([torch.arange(channels).repeat_interleave(2 * l + 1) for l in range(lmax_out + 1)])
        deg = torch.cat([torch.full((channels * (2 * l + 1),), l) for l in range(lmax_out + 1)])
        self.register_buffer("chan", chan)
        self.register_buffer("deg", deg)
        self.out_dim = out.dim

    def forward(self, x: torch.Tensor, weights: torch.Tensor, species: torch.Tensor) -> torch.Tensor:
        w = weights[species][:, self.chan, self.deg]  # [N, dim_out, K]
        out = x.new_zeros(x.shape[0], self.out_dim)
        power = x
        out[:, : self.keep[0]] += w[:, : self.keep[0], 0] * x[:, : self.keep[0]]
        for nu, tp in enumerate(self.products, start=1):
            power = tp(power, x)
            k = self.keep[nu]
            out[:, :k] += w[:, :k, nu] * power[:, :k]
        return out


# --- benchmark series ---------------------------------------------------------------------

class Series:
    """Times one method over increasing L until a call gets too slow (or fails)."""

    def __init__(self, name: str, max_call: float):
        self.name, self.max_call = name, max_call
        self.times: Dict[str, Dict[int, dict]] = {"forward": {}, "forward+backward": {}}
        self.stopped: Optional[str] = None

    def run(self, lmax: int, build: Callable[[], tuple], device, repeats, min_sample) -> None:
        if self.stopped:
            return
        try:
            fn, inputs, grad = build()
            fwd = measure(lambda: fn(*inputs), device, repeats, min_sample)
            self.times["forward"][lmax] = fwd
            both = measure(forward_backward(fn, inputs, grad), device, repeats, min_sample)
            self.times["forward+backward"][lmax] = both
            if max(fwd["once"], both["once"]) > self.max_call:
                self.stopped = f"capped after L={lmax} (one call > {self.max_call:g} s)"
        except (RuntimeError, NotImplementedError, ValueError) as err:  # e.g. out of memory, degree limits
            self.stopped = f"stopped at L={lmax}: {type(err).__name__}: {str(err).splitlines()[0][:90]}"
            if device.type == "cuda":
                torch.cuda.empty_cache()


def _random(*shape, dtype, device, gen):
    return torch.randn(*shape, generator=gen, dtype=torch.float64).to(dtype=dtype, device=device).requires_grad_()


def gaunt_series(args, device, dtype, channels: int, methods: List[str], baseline: str) -> List[Series]:
    series = [Series(m, args.max_call) for m in methods] + [Series(baseline, args.max_call)]
    for lmax in range(1, args.lmax + 1):
        gen = torch.Generator().manual_seed(lmax)
        d = sh_dim(lmax)
        if channels == 1:
            x, y = (_random(args.batch, d, dtype=dtype, device=device, gen=gen) for _ in range(2))
        else:
            x = _random(args.batch, channels, d, dtype=dtype, device=device, gen=gen)
            y = _random(args.batch, 1, d, dtype=dtype, device=device, gen=gen)
        grad = torch.randn(args.batch, channels, d, generator=gen, dtype=torch.float64).to(dtype=dtype, device=device)
        grad = grad.reshape(args.batch, d) if channels == 1 else grad
        for s in series[:-1]:
            s.run(lmax, lambda m=s.name: (lambda a, b: gaunt_product(a, b, lmax, method=m), [x, y], grad),
                  device, args.repeats, args.min_sample)

        def build_e3nn():
            if channels == 1:
                tp = full_tensor_product(lmax).to(device=device, dtype=dtype)
                xe, ye = x.detach().clone().requires_grad_(), y.detach().clone().requires_grad_()
            else:
                tp = uvu_tensor_product(lmax, channels).to(device=device, dtype=dtype)
                # e3nn layout: blocks of [C, 2l+1] per degree
                xe = torch.cat([x.detach()[:, :, l * l:(l + 1) ** 2].reshape(args.batch, -1) for l in range(lmax + 1)],
                               dim=-1).requires_grad_()
                ye = y.detach()[:, 0].clone().requires_grad_()
            ge = torch.randn(args.batch, tp.irreps_out.dim, dtype=dtype, device=device)
            return tp, [xe, ye], ge

        series[-1].run(lmax, build_e3nn, device, args.repeats, args.min_sample)
    return series


def many_body_series(args, device, dtype, channels: int, methods: List[str]) -> List[Series]:
    K = args.correlation
    series = [Series(m, args.max_call) for m in methods] + [Series("e3nn-uuu", args.max_call)]
    n_species = 3
    for lmax in range(1, args.mb_lmax + 1):
        gen = torch.Generator().manual_seed(100 + lmax)
        x = _random(args.batch, channels, sh_dim(lmax), dtype=dtype, device=device, gen=gen)
        weights = _random(n_species, channels, lmax + 1, K, dtype=dtype, device=device, gen=gen)
        species = torch.randint(n_species, (args.batch,), generator=gen).to(device)
        grad = torch.randn(args.batch, channels, sh_dim(lmax), generator=gen, dtype=torch.float64).to(dtype=dtype,
                                                                                                      device=device)
        for s in series[:-1]:
            s.run(lmax, lambda m=s.name: (
                lambda a, w: many_body_product(a, w, species, lmax, method=m), [x, weights], grad),
                device, args.repeats, args.min_sample)

        def build_e3nn():
            module = E3nnManyBody(lmax, K, lmax, channels).to(device=device, dtype=dtype)
            xe = torch.cat([x.detach()[:, :, l * l:(l + 1) ** 2].reshape(args.batch, -1) for l in range(lmax + 1)],
                           dim=-1).requires_grad_()
            we = weights.detach().clone().requires_grad_()
            ge = torch.randn(args.batch, module.out_dim, dtype=dtype, device=device)
            return (lambda a, w: module(a, w, species)), [xe, we], ge

        series[-1].run(lmax, build_e3nn, device, args.repeats, args.min_sample)
    return series


# --- reporting ----------------------------------------------------------------------------

def exponent(times: Dict[int, dict]) -> float:
    return harness.exponent(times, FIT_FROM)


def crossover(fast: Dict[int, dict], slow: Dict[int, dict]) -> str:
    """Smallest L from which `fast` is quicker than `slow` at every measured L."""
    common = sorted(set(fast) & set(slow))
    wins = [fast[l]["median"] < slow[l]["median"] for l in common]
    for i, l in enumerate(common):
        if all(wins[i:]):
            return f"L = {l}" if i else f"L = {l} (already at the smallest L measured)"
    return "not within the measured range"


def print_table(title: str, series: List[Series], baseline: str) -> dict:
    summary = {}
    for phase in ("forward", "forward+backward"):
        ls = sorted({l for s in series for l in s.times[phase]})
        print(f"\n{title} -- {phase}: ms per call, median [min]")
        header = "  L | " + " | ".join(f"{s.name:>17}" for s in series)
        print(header)
        print("-" * len(header))
        for l in ls:
            cells = []
            for s in series:
                t = s.times[phase].get(l)
                cells.append(f"{t['median'] * 1e3:8.3f} [{t['min'] * 1e3:6.3f}]" if t else f"{'-':>17}")
            print(f"{l:3d} | " + " | ".join(cells))
        by_name = {s.name: s.times[phase] for s in series}
        exps = {s.name: exponent(s.times[phase]) for s in series}
        print(f"scaling exponent in L (log-log fit over L >= {FIT_FROM}): "
              + ", ".join(f"{n} {e:.2f}" for n, e in exps.items()))
        base = by_name[baseline]
        speed = []
        for s in series:
            if s.name == baseline:
                continue
            common = sorted(set(base) & set(s.times[phase]))
            if common:
                ratios = ", ".join(f"L{l}: {base[l]['median'] / s.times[phase][l]['median']:.2g}x" for l in common)
                speed.append(f"  {s.name:>8}: {ratios}")
        print(f"speed-up vs {baseline} (median / median):")
        print("\n".join(speed))
        if "fourier" in by_name and "dense" in by_name:
            print(f"crossover, fourier faster than dense (median) from: {crossover(by_name['fourier'], by_name['dense'])}")
        summary[phase] = {"exponents": exps}
    for s in series:
        if s.stopped:
            print(f"note: {s.name} {s.stopped}")
    return summary


def plot(panels: List[tuple], path: Path, subtitle: str) -> None:
    import matplotlib
    import matplotlib.ticker
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(panels), 2, figsize=(11, 3.6 * len(panels)), squeeze=False)
    for row, (title, series) in enumerate(panels):
        for col, phase in enumerate(("forward", "forward+backward")):
            ax = axes[row][col]
            for s in series:
                ls = sorted(s.times[phase])
                if ls:
                    style = "--" if s.name.startswith("e3nn") else "-"
                    ax.loglog(ls, [s.times[phase][l]["median"] * 1e3 for l in ls], style, marker="o", label=s.name)
            measured = sorted({l for s in series for l in s.times[phase]})
            if measured:
                ax.set_xticks(measured)
                ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
                ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.set_title(f"{title}: {phase}", fontsize=10)
            ax.set_xlabel("L")
            ax.set_ylabel("ms per call (median)")
    harness.finish_figure(fig, path, subtitle, list(axes.flat), fontsize=10)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lmax", type=int, help="largest L = L1 = L2 = Lout (<= 12; default 10, quick 6)")
    parser.add_argument("--batch", type=int, help="rows (nodes/edges) per call (default 256, quick 32)")
    parser.add_argument("--channels", type=int, nargs="+",
                        help="1 compares with FullTensorProduct, >1 with the channelwise uvu TensorProduct "
                             "(default 1 128, quick 1 16)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--repeats", type=int, help="timed samples per point (default 7, quick 3)")
    parser.add_argument("--min-sample", type=float, help="seconds of calls per sample (default 0.02)")
    parser.add_argument("--max-call", type=float, help="stop a method after a call this slow, in s (default 2)")
    parser.add_argument("--mb-lmax", type=int, help="largest L of the many-body comparison (default 6, quick 4)")
    parser.add_argument("--correlation", type=int, default=3, help="many-body correlation order K")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--quick", action="store_true", help="small smoke run (the quick defaults are listed above)")
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.lmax > 12:
        parser.error("--lmax above 12 is beyond e3nn's spherical harmonics")
    harness.set_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning)

    device, dtype = torch.device(args.device), getattr(torch, args.dtype)
    methods = ["dense", "fourier", "grid"]
    if device.type == "cuda" and triton_usable(device):
        methods.append("triton")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
    subtitle = (f"{name}, {args.dtype}, batch {args.batch}, torch {torch.__version__}, e3nn "
                f"{getattr(sys.modules['e3nn'], '__version__', '?')}")
    print(f"Gaunt tensor product benchmark -- {subtitle}")
    print("mace-torch is not installed in this environment: the comparison with MACE's "
          "SymmetricContraction is made by a separate script.")

    panels, summary = [], {"config": vars(args) | {"device_name": name}, "results": {}}
    for channels in args.channels:
        baseline = "e3nn-full" if channels == 1 else "e3nn-uvu"
        series = gaunt_series(args, device, dtype, channels, methods, baseline)
        title = f"Gaunt product, channels={channels} (vs {baseline})"
        summary["results"][title] = print_table(title, series, baseline) | {"series": _raw(series)}
        panels.append((title, series))
    mb_channels = max(args.channels)
    series = many_body_series(args, device, dtype, mb_channels, methods)
    title = f"many-body, K={args.correlation}, channels={mb_channels}"
    summary["results"][title] = print_table(title, series, "e3nn-uuu") | {"series": _raw(series)}
    panels.append((title, series))

    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = f"tensor_product_{device.type}_{args.dtype}" + ("_quick" if args.quick else "")
    plot(panels, RESULTS / f"{stem}.png", subtitle)
    (RESULTS / f"{stem}.json").write_text(json.dumps(summary, indent=1, default=str))
    print(f"\nwrote {RESULTS / (stem + '.png')} and {stem}.json")


def _raw(series: List[Series]) -> dict:
    return {s.name: {"times": s.times, "stopped": s.stopped} for s in series}


if __name__ == "__main__":
    main()
