"""The factor product basis's Gaunt products: the chunked custom op against plain autograd.

Both compute, for node factors [N, F, C, D] (F = 6 factors at correlation 3, C = 64 channels,
D = 16 coefficients: degree 3), the projections to degree <= 1 of the products of each body
order's factors on one exact sphere grid (G = 66 points):
  autograd  gaunt_md.ops.factor_products.products_reference on all nodes at once, autograd
            backward (what GauntFactorProductBasis ran before the op: it keeps [N, F, C, G]
            grid values and their products for the backward);
  op        torch.ops.gaunt_md.factor_products, PyTorch route (a few nodes at a time on CPU,
            ~2^25 grid values at a time on CUDA; the backward recomputes the grid values);
  triton    (--device cuda) the same op with its Triton kernels (GAUNT_MD_FACTOR_PRODUCTS=triton:
            forward and, for 'forces', the VJP fused; 'training' takes the PyTorch VJP).
Timed: 'forces' = forward + gradient of the factors (what energy + forces needs), 'training' =
that gradient with create_graph, then a backward through it (a force loss's double backward).
Each (route, N, pass) in this process one after the other; memory = peak resident set of the
timed calls above the resident set before them (CUDA: torch's peak allocation above the
allocated; benchmarks/harness).

    python benchmarks/factor_products.py                 # float64, N = 27, 256, 1000, 5000
    python benchmarks/factor_products.py --dtype float32 --nodes 135 1000
    python benchmarks/factor_products.py --device cuda --nodes 27 1000 5000 20000
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path

import torch

import harness
from gaunt_md.ops.factor_products import products_reference
from gaunt_md.ops.routes import OPS, triton_usable
from gaunt_md.so3.quadrature import analysis_matrix, synthesis_matrix

ROUTE_VARIABLE = OPS["factor_products"].variable

CORRELATION, CHANNELS, LMAX_IN, LMAX_OUT = 3, 64, 3, 1


def routes(synthesis, analysis, chunk):
    op = lambda x: torch.ops.gaunt_md.factor_products(x, synthesis, analysis, CORRELATION, chunk)
    found = {"autograd": (lambda x: products_reference(x, synthesis, analysis, CORRELATION), None),
             "op": (op, "torch")}
    if synthesis.device.type == "cuda" and triton_usable(synthesis.device):
        found["triton"] = (op, "triton")
    return found


@contextlib.contextmanager
def op_route(route):
    before = os.environ.get(ROUTE_VARIABLE)
    if route:
        os.environ[ROUTE_VARIABLE] = route
    try:
        yield
    finally:
        os.environ.pop(ROUTE_VARIABLE, None)
        if before is not None:
            os.environ[ROUTE_VARIABLE] = before


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
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out-dir", type=Path, default=harness.RESULTS, help="where the JSON and PNG go")
    args = parser.parse_args(argv)
    harness.set_threads(args.threads)
    from gaunt_md.nn.factor_product import GauntFactorProductBasis
    dtype, device = getattr(torch, args.dtype), torch.device(args.device)
    module = GauntFactorProductBasis(CHANNELS, LMAX_IN, LMAX_OUT, CORRELATION, 1)
    degree = CORRELATION * LMAX_IN + LMAX_OUT
    synthesis = synthesis_matrix(LMAX_IN, degree).to(device, dtype)
    analysis = analysis_matrix(LMAX_OUT, degree).to(device, dtype)
    names = list(routes(synthesis, analysis, module.chunk_nodes))
    num_factors = CORRELATION * (CORRELATION + 1) // 2
    rows = []
    print(f"factor products on {harness.device_label(args.device)}, {args.dtype}, C {CHANNELS}, L {LMAX_IN} -> {LMAX_OUT}, correlation {CORRELATION}, "
          f"grid {synthesis.shape[1]} points, op chunk {module.chunk_nodes} nodes, {torch.get_num_threads()} threads")
    for n in args.nodes:
        g = torch.Generator().manual_seed(n)
        factors = torch.randn(n, num_factors, CHANNELS, (LMAX_IN + 1) ** 2, generator=g, dtype=dtype).to(device)
        grad = torch.randn(n, CORRELATION, CHANNELS, (LMAX_OUT + 1) ** 2, generator=g, dtype=dtype).to(device)
        weights = grad.clone()
        for training in (False, True):
            row = {"nodes": n, "pass": "training" if training else "forces"}
            for name, (fn, route) in routes(synthesis, analysis, module.chunk_nodes).items():
                with op_route(route):
                    t = harness.timed_with_memory(call(fn, factors, grad, weights, training), device,
                                                  args.repeats, 0.2)
                row[f"{name}_ms"], row[f"{name}_min_ms"] = t["median"] * 1e3, t["min"] * 1e3
                row[f"{name}_mb"] = t.get("cuda_peak_extra_mb", t["peak_extra_mb"])
            for name in names[1:]:
                row[f"{name}_speed-up"] = row["autograd_ms"] / row[f"{name}_ms"]
            rows.append(row)
            print(f"  N {n:5d} {row['pass']:8s}: " + " | ".join(
                f"{name} {row[name + '_ms']:9.2f} ms {row[name + '_mb']:7.0f} MB" for name in names), flush=True)
    text = table(rows, names)
    print(text)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    suffix = "" if device.type == "cpu" else f"_{device.type}"
    path = args.out_dir / f"factor_products_{args.dtype}{suffix}.json"
    path.write_text(json.dumps({"git": harness.git_state(), "rows": rows, "table": text}, indent=1))
    plot(rows, names, path.with_suffix(".png"), f"{args.dtype}, {harness.device_label(args.device)}")
    print(f"wrote {path} and .png")
    return 0


def table(rows, names) -> str:
    head = ["nodes", "pass"] + [f"{n} ms [min]" for n in names] + [f"{n} speed-up" for n in names[1:]]
    head += [f"{n} MB" for n in names]
    cells = []
    for r in rows:
        row = [str(r["nodes"]), r["pass"]] + [f"{r[n + '_ms']:.2f} [{r[n + '_min_ms']:.2f}]" for n in names]
        row += [f"{r[n + '_speed-up']:.1f}x" for n in names[1:]] + [f"{r[n + '_mb']:.0f}" for n in names]
        cells.append(row)
    return harness.markdown_table(head, cells)


def plot(rows, names, path, label: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in ((axes[0], "ms", "ms per call"), (axes[1], "mb", "peak memory above baseline (MB)")):
        for pass_, style in (("forces", "-"), ("training", "--")):
            sel = [r for r in rows if r["pass"] == pass_]
            for route, color in zip(names, ("tab:gray", "tab:blue", "tab:orange")):
                ax.plot([r["nodes"] for r in sel], [max(r[f"{route}_{key}"], 1e-3) for r in sel], style,
                        color=color, marker="o", label=f"{route}, {pass_}")
        ax.set(xscale="log", yscale="log", xlabel="nodes", ylabel=label)
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle(f"Factor-basis Gaunt products, {label}: " + " vs ".join(names))
    fig.tight_layout()
    harness.save_figure(fig, path)


if __name__ == "__main__":
    sys.exit(main())
