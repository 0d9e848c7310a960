"""One LAMMPS rank's model call with and without skipping ghost atoms' work per layer.

`pair_style gaunt` hands the model (GauntMACE.forward_local) the owned atoms plus every ghost
atom `num_interactions` hops of r_max reach, and edges into the owned atoms and into the
ghosts of the first hops (lammps_plugin/local_graph.cpp).  forward_local runs each layer on
the edges and nodes the owned atoms' energies need only (the last layer: edges into owned
atoms, product basis and linears of owned atoms).  This
script builds that graph in Python for a domain of a dense box (benchmarks/harness's
1 g/cm^3 3BPA box, the middle copy of a 3x3x3 repeat = owned, the rest = ghost candidates),
and times forward_local (energy + forces) of the shipped potential's weights (eager model from
the checkpoint) as it is, with every layer on every node (edges pruned only), and with every
layer on every edge and node (the behaviour before).  The two
must agree to rounding; interleaved repeats, median [min].

    python benchmarks/ghost_edges.py                      # 999 owned atoms, float64, 1 thread
    python benchmarks/ghost_edges.py --atoms 3000 --repeats 3
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np
import torch
from ase.io import read

import harness
from gaunt_md.data import SpeciesTable, neighbour_list, single_graph_inputs
from gaunt_md.train.checkpoint import model_from_checkpoint

CHECKPOINT = harness.ROOT / "potentials" / "gaunt_mace_3bpa.ckpt"


def domain_graph(target_atoms: int, r_max: float, layers: int):
    """(positions, atomic numbers, edge_index, owned) as the plugin builds them: owned atoms
    first, then ghosts in order of hops; receivers only up to layers - 1 hops."""
    box = read(harness.molecule_box(target_atoms))
    owned_count = len(box)
    big = box.repeat((3, 3, 3))
    big.pbc = False
    (receivers, senders), _ = neighbour_list(big.positions, np.zeros((3, 3)), np.array([False] * 3), r_max)
    order = np.argsort(receivers, kind="stable")
    receivers, senders = receivers[order], senders[order]
    starts = np.searchsorted(receivers, np.arange(len(big) + 1))
    owned = np.arange(13 * owned_count, 14 * owned_count)  # the middle copy
    node_of = -np.ones(len(big), dtype=np.int64)
    node_of[owned] = np.arange(owned_count)
    atoms, edges, begin = list(owned), [], 0
    for _ in range(layers):
        end = len(atoms)
        for node in range(begin, end):
            for j in senders[starts[atoms[node]]:starts[atoms[node] + 1]]:
                if node_of[j] < 0:
                    node_of[j] = len(atoms)
                    atoms.append(j)
                edges.append((node, node_of[j]))
        begin = end
    atoms = np.asarray(atoms)
    return big.positions[atoms], big.numbers[atoms], torch.tensor(edges, dtype=torch.long).t().contiguous(), \
        owned_count


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--atoms", type=int, default=1000, help="target owned atoms")
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    harness.set_threads(args.threads)
    model = model_from_checkpoint(CHECKPOINT, args.dtype)
    for p in model.parameters():
        p.requires_grad_(False)
    dtype = getattr(torch, args.dtype)
    positions, numbers, edge_index, owned = domain_graph(args.atoms, model.r_max, model.num_interactions)
    positions = torch.tensor(positions, dtype=dtype)
    species = torch.tensor(SpeciesTable(model.config["atomic_numbers"]).index(numbers))
    nodes, edges = len(numbers), edge_index.shape[1]
    inputs = single_graph_inputs(positions, species, edge_index)
    layer_edges, layer_nodes = model._local_layers(edge_index, nodes, owned)
    kept = [int(k.numel()) for k in layer_edges]
    updated = [int(k.numel()) for k in layer_nodes]
    every_edge, every_node = torch.arange(edges), torch.arange(nodes)
    layers = model.num_interactions
    variants = {
        "every layer on every edge and node": lambda *_: ([every_edge] * layers, [every_node] * layers),
        "per-layer edges, every node": lambda *_: (layer_edges, [every_node] * layers),
        "per-layer edges and nodes (forward_local)": lambda *_: (layer_edges, layer_nodes),
    }
    times = {name: [] for name in variants}
    results = {}
    for repeat in range(args.repeats + 1):  # the first round warms up
        for name, chooser in variants.items():
            model._local_layers = chooser
            start = time.perf_counter()
            out = model.forward_local(inputs, owned)
            if repeat:
                times[name].append(time.perf_counter() - start)
            results[name] = out
    first, *others = results.values()
    diff = max(float((b[k] - first[k]).detach().abs().max()) for b in others for k in ("energy", "forces"))
    print(f"{owned} owned atoms, {nodes} graph nodes, {edges} edges; edges per layer {kept}, nodes {updated}; "
          f"{args.dtype}, {args.threads} thread(s), max difference {diff:.1e}")
    rows = {}
    for name, values in times.items():
        rows[name] = {"median_s": statistics.median(values), "min_s": min(values)}
        rows[name]["speed-up"] = rows[next(iter(variants))]["median_s"] / rows[name]["median_s"]
        print(f"  {name:42s} {rows[name]['median_s']:7.3f} s [{rows[name]['min_s']:.3f}]  "
              f"{rows[name]['speed-up']:.2f}x")
    harness.write_results(f"ghost_edges_{owned}_{args.dtype}.json", {
        "git": harness.git_state(), "owned": owned, "nodes": nodes, "edges": edges, "edges_per_layer": kept,
        "nodes_per_layer": updated, "max_difference": diff, "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
