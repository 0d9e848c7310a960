"""Gaunt-MACE: MACE-style message passing whose product basis is the Gaunt many-body op."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import torch
from e3nn import o3
from torch import nn
from torch.profiler import record_function

from ..data.inputs import ModelInputs
from .config import ModelConfig
from .factor_product import GauntFactorProductBasis
from .interaction import GauntInteraction
from .linear import DegreeLinear, SpeciesDegreeLinear
from .product import GauntProductBasis
from .radial import BesselBasis, PolynomialCutoff, RadialFloor, floor_matrix
from .repulsion import ZBLRepulsion
from .readout import LinearReadout, MLPReadout


def graph_sums(values: torch.Tensor, graph: torch.Tensor, num_graphs: int) -> torch.Tensor:
    """[G, ...] sums of values [K, ...] by graph [K] (one graph: a plain sum)."""
    if num_graphs == 1:
        return values.sum(0).unsqueeze(0)
    shape = [num_graphs] + list(values.shape[1:])
    return torch.zeros(shape, dtype=values.dtype, device=values.device).index_add(0, graph, values)


class GauntLayer(nn.Module):
    """Interaction -> product basis -> linear, plus a species-dependent skip connection."""

    def __init__(self, cfg: ModelConfig, lmax_in: int, lmax_out: int, skip: bool):
        super().__init__()
        num_species = len(cfg.atomic_numbers)
        self.interaction = GauntInteraction(
            cfg.channels, lmax_in, cfg.max_ell, cfg.max_ell, cfg.num_bessel, list(cfg.radial_hidden),
            cfg.avg_num_neighbors, cfg.radial_parametrisation, cfg.separate_paths,
        )
        if cfg.product_basis == "factors":
            self.product = GauntFactorProductBasis(cfg.channels, cfg.max_ell, lmax_out, cfg.correlation, num_species,
                                                   cfg.product_rank)
        else:
            self.product = GauntProductBasis(cfg.channels, lmax_out, cfg.correlation, num_species, cfg.gaunt_method)
        self.linear = DegreeLinear(cfg.channels, cfg.channels, lmax_out)
        self.skip = SpeciesDegreeLinear(cfg.channels, cfg.channels, min(lmax_in, lmax_out), num_species) if skip else None
        self.lmax_out = lmax_out

    def forward(self, h: torch.Tensor, species: torch.Tensor, one_hot: torch.Tensor, edge_sh: torch.Tensor,
                radial: torch.Tensor, edge_index: torch.Tensor, active: Optional[torch.Tensor] = None) -> torch.Tensor:
        """New features of every node; with `active` (node indices) only of those, zeros elsewhere."""
        a = self.interaction(h, edge_sh, radial, edge_index)
        num_nodes = h.shape[0]
        if active is not None:
            a, h = a.index_select(0, active), h.index_select(0, active)
            species, one_hot = species.index_select(0, active), one_hot.index_select(0, active)
        with record_function("gaunt_md.many_body_product"):
            b = self.product(a, species)
        with record_function("gaunt_md.linear_skip"):
            out = self.with_skip(self.linear(b), h, one_hot)
        if active is None:
            return out
        return out.new_zeros((num_nodes,) + out.shape[1:]).index_copy(0, active, out)

    def with_skip(self, out: torch.Tensor, h: torch.Tensor, one_hot: torch.Tensor) -> torch.Tensor:
        """out plus the species-dependent skip of the layer's input h, on the degrees both have."""
        if self.skip is None:
            return out
        d = min(h.shape[-1], out.shape[-1])
        return torch.cat([out[:, :, :d] + self.skip(h[:, :, :d], one_hot), out[:, :, d:]], dim=-1)

    def isolated(self, h: torch.Tensor, one_hot: torch.Tensor) -> torch.Tensor:
        """The output for atoms without neighbours: A = 0, so the product (bias free, no constant
        term) and the linear give 0 and only the skip connection is left."""
        out = h.new_zeros((h.shape[0], h.shape[1], (self.lmax_out + 1) * (self.lmax_out + 1)))
        return self.with_skip(out, h, one_hot)


class GauntMACE(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        cfg.validate()
        self.config = cfg.to_dict()
        num_species = len(cfg.atomic_numbers)
        self.num_species = num_species
        self.r_max = float(cfg.r_max)
        self.num_interactions = cfg.num_interactions
        self.register_buffer("atomic_numbers", torch.tensor(cfg.atomic_numbers, dtype=torch.long))
        # E0s, scale and shift are constants of the config, rebuilt from it (not saved with the
        # weights): a model trained in float32 and exported in float64 keeps its exact E0s
        self.register_buffer(
            "e0", torch.tensor([cfg.e0s.get(z, 0.0) for z in cfg.atomic_numbers], dtype=torch.float64),
            persistent=False,
        )
        self.register_buffer("scale", torch.tensor(float(cfg.scale), dtype=torch.float64), persistent=False)
        self.register_buffer("shift", torch.tensor(float(cfg.shift), dtype=torch.float64), persistent=False)
        self.embedding = nn.Linear(num_species, cfg.channels, bias=False, dtype=torch.float64)
        self.bessel = BesselBasis(cfg.r_max, cfg.num_bessel, cfg.trainable_bessel)
        self.cutoff = PolynomialCutoff(cfg.r_max, cfg.cutoff_p)
        floors = floor_matrix(cfg.atomic_numbers, cfg.radial_floor) if cfg.radial_floor else None
        self.radial_floor = RadialFloor(floors, cfg.radial_floor_width) if floors is not None else None
        self.spherical_harmonics = o3.SphericalHarmonics(
            list(range(cfg.max_ell + 1)), normalize=True, normalization="component"
        )
        layers: List[nn.Module] = []
        readouts: List[nn.Module] = []
        lmax_in = 0
        for t in range(cfg.num_interactions):
            last = t == cfg.num_interactions - 1
            lmax_out = 0 if last else cfg.hidden_lmax
            layers.append(GauntLayer(cfg, lmax_in, lmax_out, skip=t > 0 or cfg.first_layer_skip))
            readouts.append(MLPReadout(cfg.channels, cfg.readout_hidden) if last else LinearReadout(cfg.channels))
            lmax_in = lmax_out
        self.layers = nn.ModuleList(layers)
        self.readouts = nn.ModuleList(readouts)
        self.zbl = ZBLRepulsion(cfg.atomic_numbers, floors, cfg.zbl_cutoff) if cfg.pair_repulsion == "zbl" else None
        # without a first-layer skip a bare atom's layer outputs, and so its readouts, are exactly 0
        # (every block is bias free): only with it is there a bare-atom share to subtract
        self.subtract_bare_atoms = cfg.first_layer_skip
        self.to(torch.float64)

    def node_energies(self, vectors: torch.Tensor, species: torch.Tensor, edge_index: torch.Tensor,
                      layer_edges: Optional[List[torch.Tensor]] = None,
                      layer_nodes: Optional[List[torch.Tensor]] = None) -> torch.Tensor:
        """Energy of every node from the edge vectors (r_j - r_i + shift, edge i <- j).  With
        layer_edges and layer_nodes (the edges each interaction layer uses and the nodes it
        updates, see _local_layers) only the nodes they were chosen for get their true energy."""
        with record_function("gaunt_md.spherical_harmonics"):
            edge_sh = self.spherical_harmonics(vectors)
        with record_function("gaunt_md.radial_basis"):
            lengths = torch.linalg.norm(vectors, dim=-1, keepdim=True)
            seen = lengths
            radial_floor = self.radial_floor
            if radial_floor is not None:
                seen = radial_floor(lengths, species[edge_index[0]], species[edge_index[1]])
            radial = self.bessel(seen) * self.cutoff(seen)
        with record_function("gaunt_md.embedding"):
            one_hot = torch.nn.functional.one_hot(species, self.num_species).to(vectors.dtype)
            h = self.embedding(one_hot).unsqueeze(-1)
        interaction_energy = torch.zeros(species.shape[0], dtype=vectors.dtype, device=vectors.device)
        t = 0
        for layer, readout in zip(self.layers, self.readouts):
            if layer_edges is None or layer_nodes is None:
                h = layer(h, species, one_hot, edge_sh, radial, edge_index)
            else:
                keep = layer_edges[t]
                h = layer(h, species, one_hot, edge_sh.index_select(0, keep), radial.index_select(0, keep),
                          edge_index.index_select(1, keep), layer_nodes[t])
            with record_function("gaunt_md.readout"):
                interaction_energy = interaction_energy + readout(h)
            t += 1
        if self.subtract_bare_atoms:
            bare = self.isolated_network_energies(vectors.dtype).index_select(0, species)
            interaction_energy = interaction_energy - bare
        energy = self.e0[species] + self.shift + self.scale * interaction_energy
        zbl = self.zbl
        if zbl is not None:
            with record_function("gaunt_md.pair_repulsion"):
                energy = energy + zbl(lengths.squeeze(-1), species, edge_index)
        return energy

    def isolated_network_energies(self, dtype: torch.dtype) -> torch.Tensor:
        """[S] the network's energy of a bare atom of each species.  The skip connections carry the
        element embedding through the layers, so with a first-layer skip a bare atom's readouts are
        not zero; node energies then subtract these, and a bare atom is exactly E0 + shift."""
        one_hot = torch.eye(self.num_species, dtype=dtype, device=self.e0.device)
        h = self.embedding(one_hot).unsqueeze(-1)
        energy = torch.zeros(self.num_species, dtype=dtype, device=self.e0.device)
        for layer, readout in zip(self.layers, self.readouts):
            h = layer.isolated(h, one_hot)
            energy = energy + readout(h)
        return energy

    def _local_layers(self, edge_index: torch.Tensor, num_nodes: int,
                      num_local: int) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
        """(edges, nodes) per layer that the energies of nodes [0, num_local) need: the last layer
        updates only those nodes from the edges into them, each earlier layer also the senders
        of the layer after it.  Ghost atoms far from the owned ones then cost no work."""
        needed = torch.zeros(num_nodes, dtype=torch.bool, device=edge_index.device)
        needed[:num_local] = True
        edges: List[torch.Tensor] = []
        nodes: List[torch.Tensor] = []
        for _ in range(self.num_interactions):
            keep = torch.nonzero(needed[edge_index[0]]).squeeze(1)
            edges.append(keep)
            nodes.append(torch.nonzero(needed).squeeze(1))
            needed = needed.index_fill(0, edge_index[1].index_select(0, keep), True)
        edges.reverse()
        nodes.reverse()
        return edges, nodes

    @torch.jit.export
    def forward_local(self, inputs: ModelInputs, num_local: int,
                      compute_virial: bool = False) -> Dict[str, torch.Tensor]:
        """For domain decomposition (LAMMPS): atoms [0, num_local) are owned, the rest are ghost
        images (usually with zero shifts: the images are atoms of their own).  Energy [G] sums the
        owned atoms only (node_energy [num_local]); forces [N, 3] act on every atom (ghosts
        included, to be reverse-communicated); with compute_virial, virial [G, 3, 3] and the
        per-atom virial [N, 3, 3] that splits each edge's term between its two atoms.  Each layer
        runs only on the edges and nodes the owned atoms' energies need (see _local_layers)."""
        positions, species, edge_index = inputs.positions, inputs.species, inputs.edge_index
        vectors = (positions[edge_index[1]] - positions[edge_index[0]] + inputs.shifts).detach().requires_grad_(True)
        layer_edges, layer_nodes = self._local_layers(edge_index, positions.shape[0], num_local)
        node_energy = self.node_energies(vectors, species, edge_index, layer_edges, layer_nodes)[:num_local]
        energy = graph_sums(node_energy, inputs.batch[:num_local], inputs.num_graphs)
        grads = torch.autograd.grad([node_energy.sum()], [vectors], allow_unused=True)
        g = grads[0]
        de_dvec = g if g is not None else torch.zeros_like(vectors)
        forces = torch.zeros_like(positions).index_add(0, edge_index[0], de_dvec).index_add(0, edge_index[1], -de_dvec)
        out: Dict[str, torch.Tensor] = {"energy": energy, "node_energy": node_energy, "forces": forces}
        if compute_virial:
            edge_virial = -vectors.detach()[:, :, None] * de_dvec[:, None, :]  # [E, 3, 3]
            half = 0.5 * edge_virial
            atom_virial = torch.zeros((positions.shape[0], 3, 3), dtype=positions.dtype, device=positions.device)
            atom_virial = atom_virial.index_add(0, edge_index[0], half).index_add(0, edge_index[1], half)
            out["virial"] = graph_sums(edge_virial, inputs.batch[edge_index[0]], inputs.num_graphs)
            out["atom_virial"] = atom_virial
        return out

    def forward(self, inputs: ModelInputs, compute_forces: bool = True, compute_stress: bool = False,
                training: bool = False) -> Dict[str, torch.Tensor]:
        """Energy [G] and node_energy [N]; with compute_forces, forces = -dE/dx [N, 3]; with
        compute_stress, virial = -dE/d(strain) and stress = dE/d(strain) / V [G, 3, 3] (V
        from the cells); with training, the derivatives keep their graph (a loss on forces can be
        differentiated by the weights)."""
        positions, species, edge_index, shifts, batch, cell, num_graphs = inputs
        if compute_forces and not positions.requires_grad:
            positions = positions.detach().requires_grad_(True)  # never flag the caller's tensor
        strain = torch.zeros((num_graphs, 3, 3), dtype=positions.dtype, device=positions.device)
        if compute_stress:
            strain.requires_grad_(True)
            sym = 0.5 * (strain + strain.transpose(1, 2))
            positions = positions + torch.einsum("ni,nij->nj", positions, sym[batch])
            shifts = shifts + torch.einsum("ei,eij->ej", shifts, sym[batch[edge_index[0]]])
        vectors = positions[edge_index[1]] - positions[edge_index[0]] + shifts
        node_energy = self.node_energies(vectors, species, edge_index)
        energy = torch.zeros(num_graphs, dtype=node_energy.dtype, device=node_energy.device).index_add(
            0, batch, node_energy
        )
        out: Dict[str, torch.Tensor] = {"energy": energy, "node_energy": node_energy}
        grad_inputs: List[torch.Tensor] = []
        if compute_forces:
            grad_inputs.append(positions)
        if compute_stress:
            grad_inputs.append(strain)
        if len(grad_inputs) > 0:
            grads = torch.autograd.grad(
                [energy.sum()], grad_inputs, create_graph=training, allow_unused=True
            )
            if compute_forces:
                g = grads[0]
                out["forces"] = -g if g is not None else torch.zeros_like(positions)
            if compute_stress:
                g = grads[-1]
                de_dstrain = g if g is not None else torch.zeros_like(strain)
                volume = torch.linalg.det(cell).abs().clamp_min(1e-12)
                out["virial"] = -de_dstrain
                out["stress"] = de_dstrain / volume[:, None, None]
        return out


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
