"""Gaunt coefficients G(l1m1, l2m2, LM) = integral of Y Y Y, against computations that share
nothing with the closed form in gaunt_md.so3.gaunt (Wigner 3j scaled by the m=0 entry)."""
from __future__ import annotations

import itertools
import math

import pytest
import torch

from gaunt_md.so3 import gaunt_block, gaunt_coefficients, sh_dim
from gaunt_md.so3.gaunt import wigner_3j_000_squared


@pytest.mark.parametrize("l1, l2, l3", [(0, 0, 0), (1, 1, 2), (2, 3, 4), (4, 4, 8), (5, 6, 3), (8, 8, 8), (7, 5, 12)])
def test_matches_independent_quadrature(l1, l2, l3, quadrature, sh):
    points, weights = quadrature(l1 + l2 + l3)
    Y1, Y2, Y3 = sh(l1, points), sh(l2, points), sh(l3, points)
    pairs = (weights[:, None, None] * Y1[:, :, None] * Y2[:, None, :]).flatten(1)  # [G, a*b]
    expected = (pairs.T @ Y3).reshape(Y1.shape[1], Y2.shape[1], Y3.shape[1])
    G = gaunt_coefficients(l1, l2, l3)
    assert G.dtype == torch.float64
    assert G.shape == (sh_dim(l1), sh_dim(l2), sh_dim(l3))
    torch.testing.assert_close(G, expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("l1, l2", [(0, 3), (1, 1), (2, 5), (6, 6)])
def test_product_expansion_pointwise(l1, l2, gen, unit_vectors, sh):
    """Y_a Y_b = sum_c G_abc Y_c exactly when the output reaches degree l1 + l2 (no quadrature)."""
    r = unit_vectors(50, gen)
    G = gaunt_coefficients(l1, l2, l1 + l2)
    lhs = sh(l1, r)[:, :, None] * sh(l2, r)[:, None, :]
    rhs = torch.einsum("abc,gc->gab", G, sh(l1 + l2, r))
    torch.testing.assert_close(rhs, lhs, atol=1e-11, rtol=0)


def test_known_values():
    G = gaunt_coefficients(3, 3, 3)
    inv = 1 / math.sqrt(4 * math.pi)
    # Y_00 = 1/sqrt(4 pi): its row is the identity scaled by 1/sqrt(4 pi)
    torch.testing.assert_close(G[0], torch.eye(sh_dim(3), dtype=torch.float64) * inv, atol=1e-14, rtol=0)
    torch.testing.assert_close(G[:, 0], torch.eye(sh_dim(3), dtype=torch.float64) * inv, atol=1e-14, rtol=0)


@pytest.mark.parametrize("l1, l2, l3, value", [
    (0, 0, 0, 1.0), (1, 1, 0, 1 / 3), (1, 1, 2, 2 / 15), (2, 2, 2, 2 / 35),
    (2, 2, 4, 2 / 35), (3, 3, 2, 4 / 105), (1, 2, 2, 0.0), (1, 1, 3, 0.0),
])
def test_wigner_3j_000(l1, l2, l3, value):
    assert wigner_3j_000_squared(l1, l2, l3) == pytest.approx(value, rel=1e-13, abs=1e-15)
    for perm in itertools.permutations((l1, l2, l3)):
        assert wigner_3j_000_squared(*perm) == pytest.approx(value, rel=1e-13, abs=1e-15)


def test_selection_rules():
    lmax = 6
    for l1, l2, l3 in itertools.product(range(lmax + 1), repeat=3):
        allowed = (l1 + l2 + l3) % 2 == 0 and abs(l1 - l2) <= l3 <= l1 + l2
        norm = gaunt_block(l1, l2, l3).abs().max().item()
        assert (norm > 1e-3) == allowed, (l1, l2, l3, norm)
    # the dense tensor respects the rules too: blocks outside them are exactly zero
    G = gaunt_coefficients(lmax, lmax, lmax)
    for l1, l2, l3 in itertools.product(range(lmax + 1), repeat=3):
        if (l1 + l2 + l3) % 2 or not abs(l1 - l2) <= l3 <= l1 + l2:
            assert not G[l1**2:(l1 + 1) ** 2, l2**2:(l2 + 1) ** 2, l3**2:(l3 + 1) ** 2].any()


def test_symmetric_under_slot_permutations():
    G = gaunt_coefficients(4, 4, 4)
    for perm in itertools.permutations(range(3)):
        torch.testing.assert_close(G.permute(perm), G, atol=1e-14, rtol=0)
    # unequal degrees: swapping slots swaps the tensors
    torch.testing.assert_close(gaunt_coefficients(2, 3, 4), gaunt_coefficients(3, 2, 4).transpose(0, 1))
    torch.testing.assert_close(gaunt_coefficients(2, 3, 4), gaunt_coefficients(4, 3, 2).permute(2, 1, 0))


def test_truncation_is_a_slice():
    big = gaunt_coefficients(5, 4, 9)
    torch.testing.assert_close(gaunt_coefficients(3, 2, 4), big[: sh_dim(3), : sh_dim(2), : sh_dim(4)], atol=0, rtol=0)
    # outputs above l1 + l2 are zero
    assert not gaunt_coefficients(1, 2, 6)[:, :, sh_dim(3):].any()


def test_invariant_under_o3(o3_element, wigner_D):
    """G is an O(3) invariant of l1 x l2 x l3 (inversion included: odd l1+l2+l3 vanish)."""
    G = gaunt_coefficients(3, 4, 5)
    D1, D2, D3 = wigner_D(3, o3_element), wigner_D(4, o3_element), wigner_D(5, o3_element)
    rotated = torch.einsum("ia,jb,kc,abc->ijk", D1, D2, D3, G)
    torch.testing.assert_close(rotated, G, atol=1e-12, rtol=0)
