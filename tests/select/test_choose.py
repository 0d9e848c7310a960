import numpy as np
import pytest
from ase.build import molecule

from gaunt_md.select import Candidate, choose


def stretched(amount: float):
    mol = molecule("H2O")
    mol.positions[1] *= 1.0 + amount
    return mol


def candidates(amounts, scores=None, precursors=()):
    out = []
    for k, amount in enumerate(amounts):
        c = Candidate(atoms=stretched(amount), source="traj.xyz", index=k, precursor=k in precursors)
        if scores is not None:
            c.scores["force_std"] = scores[k]
        out.append(c)
    return out


def test_highest_score_first_and_no_near_duplicates():
    pool = candidates([0.0, 0.001, 0.2, 0.4], scores=[0.9, 0.8, 0.5, 0.1])
    chosen = choose(pool, 4, score="force_std", min_distance=0.01)
    assert [c.index for c in chosen] == [0, 2, 3]    # 1 is a near-duplicate of 0


def test_precursors_come_before_scores():
    pool = candidates([0.0, 0.2, 0.4], scores=[0.9, 0.5, 0.1], precursors=(2,))
    assert [c.index for c in choose(pool, 2, score="force_std")] == [2, 0]
    assert [c.index for c in choose(pool, 2, score="force_std", precursors_first=False)] == [0, 1]


def test_without_scores_it_is_farthest_point_sampling():
    pool = candidates(np.linspace(0.0, 0.5, 11))
    chosen = [c.index for c in choose(pool, 3, min_distance=0.0)]
    assert chosen[0] in (0, 10) and set(chosen[:2]) == {0, 10} and chosen[2] == 5


def test_known_frames_block_their_neighbourhood():
    pool = candidates([0.0, 0.2, 0.4])
    chosen = choose(pool, 3, known=[stretched(0.001)], min_distance=0.01)
    assert sorted(c.index for c in chosen) == [1, 2]


def test_min_score_filters_and_count_limits():
    pool = candidates([0.0, 0.2, 0.4], scores=[0.1, 0.5, 0.9])
    assert [c.index for c in choose(pool, 5, score="force_std", min_score=0.4)] == [2, 1]
    assert len(choose(pool, 1, score="force_std")) == 1


def test_bad_arguments():
    pool = candidates([0.0, 0.2])
    with pytest.raises(ValueError, match="count"):
        choose(pool, -1)
    with pytest.raises(ValueError, match="no 'force_std' score"):
        choose(pool, 1, score="force_std")
