"""The training loss: plain MSE when every frame is labelled; unlabelled frames and per-frame
weights handled by masks, never by the zeros that stand in for missing labels."""
import pytest
import torch

from gaunt_md.data.batch import collate
from gaunt_md.data.graph import AtomicGraph
from gaunt_md.train.loss import weighted_loss


def _graph(n, energy=True, forces=True, energy_weight=1.0, forces_weight=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return AtomicGraph(
        positions=torch.randn(n, 3, generator=g, dtype=torch.float64),
        species=torch.zeros(n, dtype=torch.long),
        edge_index=torch.zeros(2, 0, dtype=torch.long),
        shifts=torch.zeros(0, 3, dtype=torch.float64),
        cell=torch.zeros(3, 3, dtype=torch.float64),
        pbc=torch.zeros(3, dtype=torch.bool),
        energy=torch.randn((), generator=g, dtype=torch.float64) if energy else None,
        forces=torch.randn(n, 3, generator=g, dtype=torch.float64) if forces else None,
        energy_weight=energy_weight,
        forces_weight=forces_weight,
    )


def _pred(batch, seed=1):
    g = torch.Generator().manual_seed(seed)
    return {"energy": torch.randn(batch.num_atoms.shape[0], generator=g, dtype=torch.float64),
            "forces": torch.randn(batch.positions.shape[0], 3, generator=g, dtype=torch.float64)}


def test_all_labelled_is_plain_mse():
    batch = collate([_graph(3, seed=0), _graph(5, seed=1)])
    pred = _pred(batch)
    expected = (((pred["energy"] - batch.energy) / batch.num_atoms) ** 2).mean() * 2.0 \
        + ((pred["forces"] - batch.forces) ** 2).mean() * 7.0
    assert torch.allclose(weighted_loss(pred, batch, 2.0, 7.0, 0.0), expected, rtol=1e-14)


def test_unlabelled_frames_do_not_count():
    full = collate([_graph(3, seed=0)])
    mixed = collate([_graph(3, seed=0), _graph(4, energy=False, forces=False, seed=5)])
    pred_full = _pred(full)
    pred_mixed = _pred(mixed)
    pred_mixed["energy"][0] = pred_full["energy"][0]
    pred_mixed["forces"][:3] = pred_full["forces"]
    assert torch.allclose(weighted_loss(pred_mixed, mixed, 1.0, 1.0, 0.0),
                          weighted_loss(pred_full, full, 1.0, 1.0, 0.0), rtol=1e-14)


@pytest.mark.parametrize("which", ["energy", "forces"])
def test_frame_weights(which):
    weights = {"energy": (1.0, 0.0), "forces": (0.0, 1.0)}[which]
    loss = lambda pred, batch: weighted_loss(pred, batch, *weights, 0.0)
    batch = collate([_graph(3, seed=0), _graph(4, seed=2, **{f"{which}_weight": 0.0})])
    pred = _pred(batch)
    moved = {k: v.clone() for k, v in pred.items()}
    if which == "energy":
        moved["energy"][1] += 10.0
    else:
        moved["forces"][3:] += 10.0
    assert torch.allclose(loss(moved, batch), loss(pred, batch), rtol=1e-14)

    single = collate([_graph(3, seed=0)])
    doubled = collate([_graph(3, seed=0, **{f"{which}_weight": 2.0})])
    p = _pred(single)
    assert torch.allclose(loss(p, doubled), 2 * loss(p, single), rtol=1e-14)
