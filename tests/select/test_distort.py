import numpy as np
import pytest
from ase.io import read, write

from gaunt_md.cli import main
from gaunt_md.data.splits import train_valid_split
from gaunt_md.md.connectivity import Connectivity, pair_distances
from gaunt_md.md.scans import angle_deg, scan_moves
from gaunt_md.md.starts import SHIPPED_START
from gaunt_md.select.distort import DistortRanges, distorted_frames
from tests.fixtures import shaken_copies

EXACT = DistortRanges(jitter_A=0.0)


@pytest.fixture(scope="module")
def start():
    return read(SHIPPED_START)


def coordinate(frame, base, kind, move):
    """The scan coordinate of `frame` along `move`, measured from the geometry."""
    idx = dict(scan_moves(base, Connectivity.from_atoms(base))[kind])[move]
    p, q = frame.get_positions(), base.get_positions()
    if kind == "bend":
        h, x, y = idx
        return angle_deg(p[h] - p[x], p[y] - p[x])
    if kind == "stretch":
        i, j = idx
        return np.linalg.norm(p[i] - p[j]) / np.linalg.norm(q[i] - q[j])
    return np.linalg.norm(p[idx[0]] - p[idx[1]])


def test_each_frame_reaches_its_range_along_its_move(start):
    frames = distorted_frames([start], 12, seed=3, ranges=EXACT)
    assert [f.info["distort_kind"] for f in frames[:3]] == ["bend", "stretch", "contact"]
    ranges = {"bend": EXACT.bend_deg, "stretch": EXACT.stretch_factor, "contact": EXACT.contact_A}
    for f in frames:
        kind, move = f.info["distort_kind"], f.info["distort_move"]
        measured = coordinate(f, start, kind, move)
        assert measured == pytest.approx(f.info["distort_coordinate"], abs=1e-3)
        lo, hi = ranges[kind]
        assert lo - 1e-3 <= measured <= hi + 1e-3
        assert not f.arrays.keys() - {"numbers", "positions"} and f.calc is None
        assert f.info["config_type"] == "distorted"


def test_a_move_changes_only_what_it_names(start):
    bend = distorted_frames([start], 1, seed=0, kinds=["bend"], ranges=EXACT)[0]
    moved = np.nonzero(np.linalg.norm(bend.positions - start.positions, axis=1) > 1e-9)[0]
    h = dict(scan_moves(start, Connectivity.from_atoms(start))["bend"])[bend.info["distort_move"]][0]
    assert moved.tolist() == [h]


def test_same_seed_same_frames_and_jitter_shakes_every_atom(start):
    a = distorted_frames([start], 6, seed=1)
    b = distorted_frames([start], 6, seed=1)
    c = distorted_frames([start], 6, seed=2)
    assert all(np.array_equal(x.positions, y.positions) and x.info == y.info for x, y in zip(a, b))
    assert not all(np.array_equal(x.positions, y.positions) for x, y in zip(a, c))
    exact = distorted_frames([start], 6, seed=1, ranges=EXACT)
    shift = np.linalg.norm(a[0].positions - exact[0].positions, axis=1)
    assert (shift > 0).all() and shift.max() < 0.2


def test_excluded_moves_never_appear_and_no_atoms_overlap(start):
    everything = [m for m, _ in scan_moves(start, Connectivity.from_atoms(start))["contact"]]
    keep = everything[0]
    frames = distorted_frames([start], 6, seed=0, kinds=["contact"], exclude=everything[1:])
    assert {f.info["distort_move"] for f in frames} == {keep}
    for f in frames:
        d = pair_distances(f.get_positions())
        np.fill_diagonal(d, np.inf)
        assert d.min() >= DistortRanges().min_pair_A


def test_bad_requests_are_refused(start):
    with pytest.raises(ValueError, match="kinds"):
        distorted_frames([start], 1, kinds=["twist"])
    with pytest.raises(ValueError, match="no base frames"):
        distorted_frames([], 1)
    with pytest.raises(ValueError, match="stretch_factor"):
        DistortRanges(stretch_factor=(1.5, 1.2))
    everything = [m for m, _ in scan_moves(start, Connectivity.from_atoms(start))["stretch"]]
    with pytest.raises(ValueError, match="no stretch move"):
        distorted_frames([start], 1, kinds=["stretch"], exclude=everything)


def test_cli_distorts_only_training_frames(tmp_path, start, capsys):
    write(tmp_path / "pool.xyz", shaken_copies(start, 10, seed=0, frame=int), format="extxyz")
    out = tmp_path / "distorted.xyz"
    assert main(["distort", str(tmp_path / "pool.xyz"), str(out), "-n", "9", "--train-split", "3", "5"]) == 0
    frames = read(out, index=":")
    train, valid = train_valid_split(10, 3, 5)
    assert len(frames) == 9 and {f.info["distort_base"] for f in frames} <= set(train)
    assert "3 bend, 3 stretch, 3 contact" in capsys.readouterr().out
