"""The factor product basis's Gaunt products: the chunked custom op against plain autograd.

Both compute, for node factors [N, F, C, D] (F = 6 factors at correlation 3, C = 64 channels,
D = 16 coefficients: degree 3), the projections to degree <= 1 of the products of each body
order's factors on one exact sphere grid (G = 66 points):
  autograd  gaunt_md.ops.factor_products.products_reference on all nodes at once, autograd
            backward (what GauntFactorProductBasis ran before the op: it keeps [N, F, C, G]
            grid values and their products for the backward);
  op        torch.ops.gaunt_md.factor_products (a few nodes at a time; the backward recomputes
            the grid values).
Timed: 'forces' = forward + gradient of the factors (what energy + forces needs), 'training' =
that gradient with create_graph, then a backward through it (a force loss's double backward).
Each (route, N, pass) in this process one after the other; memory = peak resident set of the
timed calls above the resident set before them (benchmarks/common.py).

    python benchmarks/factor_products.py                 # float64, N = 27, 256, 1000, 5000
    python benchmarks/factor_products.py --dtype float32 --nodes 135 1000
"""
from __future__ import annotations

import argparse
import json
import sys

import torch

import common
from gaunt_md.ops.factor_products import products_reference
from gaunt_md.so3.quadrature import analysis_matrix, synthesis_matrix

CORRELATION, CHANNELS, LMAX_IN, LMAX_OUT = 3, 64, 3, 1


def routes(synthesis, analysis, chunk):
    return {
        "autograd": lambda x: products_reference(x, synthesis, analysis, CORRELATION),
        "op": lambda x: torch.ops.gaunt_md.factor_products(x, synthesis, analysis, CORRELATION, chunk),
    }


def call(fn, factors, grad, weights, training: bool):
    def run():
        x = factors.detach().requires_grad_(True)
        out = fn(x)
        if not training:
            return torch.autograd.grad(out, x, grad)
        g, = torch.autograd.grad((out * weights).sum(), x, create_graph=True)
        (g * g).sum().backward()
    return run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", nargs="+", type=int, default=[27, 256, 1000, 5000])
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from gaunt_md.nn.factor_product import GauntFactorProductBasis
    dtype, device = getattr(torch, args.dtype), torch.device("cpu")
    module = GauntFactorProductBasis(CHANNELS, LMAX_IN, LMAX_OUT, CORRELATION, 1)
    degree = CORRELATION * LMAX_IN + LMAX_OUT
    synthesis = synthesis_matrix(LMAX_IN, degree).to(dtype)
    analysis = analysis_matrix(LMAX_OUT, degree).to(dtype)
    num_factors = CORRELATION * (CORRELATION + 1) // 2
    rows = []
    print(f"factor products, {args.dtype}, C {CHANNELS}, L {LMAX_IN} -> {LMAX_OUT}, correlation {CORRELATION}, "
          f"grid {synthesis.shape[1]} points, op chunk {module.chunk_nodes} nodes, {torch.get_num_threads()} threads")
    for n in args.nodes:
        g = torch.Generator().manual_seed(n)
        factors = torch.randn(n, num_factors, CHANNELS, (LMAX_IN + 1) ** 2, generator=g, dtype=dtype)
        grad = torch.randn(n, CORRELATION, CHANNELS, (LMAX_OUT + 1) ** 2, generator=g, dtype=dtype)
        weights = grad.clone()
        for training in (False, True):
            row = {"nodes": n, "pass": "training" if training else "forces"}
            for name, fn in routes(synthesis, analysis, module.chunk_nodes).items():
                t = common.timed_with_memory(call(fn, factors, grad, weights, training), device, args.repeats, 0.2)
                row[f"{name}_ms"], row[f"{name}_min_ms"] = t["median"] * 1e3, t["min"] * 1e3
                row[f"{name}_mb"] = t["peak_extra_mb"]
            row["speed-up"] = row["autograd_ms"] / row["op_ms"]
            rows.append(row)
            print(f"  N {n:5d} {row['pass']:8s}: autograd {row['autograd_ms']:9.1f} ms {row['autograd_mb']:7.0f} MB | "
                  f"op {row['op_ms']:8.1f} ms {row['op_mb']:6.0f} MB | {row['speed-up']:.1f}x", flush=True)
    lines = ["| nodes | pass | autograd ms [min] | op ms [min] | speed-up | autograd MB | op MB |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['nodes']} | {r['pass']} | {r['autograd_ms']:.1f} [{r['autograd_min_ms']:.1f}] | "
                     f"{r['op_ms']:.1f} [{r['op_min_ms']:.1f}] | {r['speed-up']:.1f}x | {r['autograd_mb']:.0f} | "
                     f"{r['op_mb']:.0f} |")
    text = "\n".join(lines)
    print(text)
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    path = common.RESULTS / f"factor_products_{args.dtype}.json"
    path.write_text(json.dumps({"git": common.git_state(), "rows": rows, "table": text}, indent=1))
    plot(rows, path.with_suffix(".png"), args.dtype)
    print(f"wrote {path.relative_to(common.ROOT)} and .png")
    return 0


def plot(rows, path, dtype: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in ((axes[0], "ms", "ms per call"), (axes[1], "mb", "peak memory above baseline (MB)")):
        for pass_, style in (("forces", "-"), ("training", "--")):
            sel = [r for r in rows if r["pass"] == pass_]
            for route, color in (("autograd", "tab:gray"), ("op", "tab:blue")):
                ax.plot([r["nodes"] for r in sel], [max(r[f"{route}_{key}"], 1e-3) for r in sel], style,
                        color=color, marker="o", label=f"{route}, {pass_}")
        ax.set(xscale="log", yscale="log", xlabel="nodes", ylabel=label)
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle(f"Factor-basis Gaunt products, {dtype}: chunked op vs plain autograd")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
