"""The factor product basis: identity factors reproduce the power basis; random factors match
products built pair by pair with the dense Gaunt-coefficient route; double backward; factors
start distinct and stay distinct under training (identical starts would stay identical)."""
import pytest
import torch

import gaunt_md  # noqa: F401  (registers the ops)
from gaunt_md.nn.factor_product import GauntFactorProductBasis
from gaunt_md.nn.product import GauntProductBasis

CHANNELS, SPECIES = 5, 3


def _inputs(lmax_in, dtype, n=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, CHANNELS, (lmax_in + 1) ** 2, generator=g, dtype=dtype)
    species = torch.randint(0, SPECIES, (n,), generator=g)
    return x, species


def _randomised(module, seed=1):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        w = module.factor_weights
        w.copy_(torch.randn(w.shape, generator=g, dtype=w.dtype))
        s = module.factor_species_weights
        s.copy_(1.0 + 0.5 * torch.randn(s.shape, generator=g, dtype=s.dtype))
    return module


def _identity_factors(module):
    """Identity channel mixing and unit element weights in every factor."""
    with torch.no_grad():
        c = module.factor_weights.shape[-1]
        module.factor_weights.copy_(torch.eye(c, dtype=module.factor_weights.dtype) * c ** 0.5)
        module.factor_species_weights.fill_(1.0)
    return module


def _factor(module, k, x, species):
    w = module.factor_weights[k][module.degree] / w_norm(module)                # [D, C, C']
    s = module.factor_species_weights[species, k][:, :, module.degree]          # [N, C', D]
    return torch.einsum("ncd,dce->ned", x, w) * s


def w_norm(module):
    return module.factor_weights.shape[-1] ** 0.5


def _dense_reference(module, x, species, lmax_in, lmax_out):
    """sum_nu w_nu (u_1 (u_2 (... u_nu))), each pair product by the dense route with an exact
    intermediate degree, projected to lmax_out only at the end."""
    n, c, _ = x.shape
    out = torch.zeros(n, c, (lmax_out + 1) ** 2, dtype=x.dtype)
    degree_of = torch.tensor([l for l in range(lmax_out + 1) for _ in range(2 * l + 1)])
    k = 0
    for nu in range(1, module.correlation + 1):
        factors = [_factor(module, k + i, x, species).reshape(n * c, -1) for i in range(nu)]
        k += nu
        running = factors[0]
        for i, factor in enumerate(factors[1:], start=2):
            target = lmax_out if i == nu else i * lmax_in
            running = torch.ops.gaunt_md.gaunt_product(running, factor, target, "dense")
        if nu == 1:  # the linear term: truncated or zero-padded to lmax_out
            dim = (lmax_out + 1) ** 2
            running = torch.nn.functional.pad(running, (0, max(0, dim - running.shape[-1])))[:, :dim]
        w = module.weights[species][:, :, degree_of, nu - 1]                # [N, C, Dout]
        out = out + running.reshape(n, c, -1) * w
    return out


@pytest.mark.parametrize("lmax_in,lmax_out,correlation", [(2, 1, 3), (3, 0, 3), (2, 2, 2), (1, 1, 4)])
def test_identity_factors_are_the_power_basis(lmax_in, lmax_out, correlation):
    torch.manual_seed(0)
    factors = _identity_factors(GauntFactorProductBasis(CHANNELS, lmax_in, lmax_out, correlation, SPECIES))
    powers = GauntProductBasis(CHANNELS, lmax_out, correlation, SPECIES, "grid")
    with torch.no_grad():
        powers.weights.copy_(factors.weights)
    x, species = _inputs(lmax_in, torch.float64)
    torch.testing.assert_close(factors(x, species), powers(x, species), rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-10), (torch.float32, 2e-4)], ids=["float64", "float32"])
@pytest.mark.parametrize("lmax_in,lmax_out,correlation", [(2, 1, 3), (3, 0, 3), (1, 2, 2)])
def test_random_factors_match_the_dense_route(lmax_in, lmax_out, correlation, dtype, tol):
    torch.manual_seed(0)
    module = _randomised(GauntFactorProductBasis(CHANNELS, lmax_in, lmax_out, correlation, SPECIES)).to(dtype)
    x, species = _inputs(lmax_in, dtype)
    out = module(x, species)
    assert out.dtype == dtype
    with torch.no_grad():
        expected = _dense_reference(module.double(), x.double(), species, lmax_in, lmax_out)
    scale = expected.abs().max()
    assert (out.double() - expected).abs().max() <= tol * scale


def test_factors_are_not_the_power_basis():
    """Guard for the test above: random factors change the result."""
    torch.manual_seed(0)
    module = _identity_factors(GauntFactorProductBasis(CHANNELS, 2, 1, 3, SPECIES))
    x, species = _inputs(2, torch.float64)
    before = module(x, species)
    after = _randomised(module)(x, species)
    assert (before - after).abs().max() > 1e-2 * before.abs().max()


def _body_order_spread(module):
    """Smallest relative difference between two factors of one body order (mixing and element
    weights together): 0 when a body order has collapsed to a power."""
    w = module.factor_weights.detach()
    s = module.factor_species_weights.detach()
    spread, first = float("inf"), 0
    for nu in range(1, module.correlation + 1):
        group = range(first, first + nu)
        for i in group:
            for j in group:
                if i < j:
                    dw = (w[i] - w[j]).norm() / w[i].norm()
                    ds = (s[:, i] - s[:, j]).norm() / s[:, i].norm()
                    spread = min(spread, float(dw + ds))
        first += nu
    return spread


def _train_steps(module, steps=20):
    g = torch.Generator().manual_seed(5)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-2)
    for _ in range(steps):
        x = torch.randn(16, CHANNELS, 9, generator=g, dtype=torch.float64)
        species = torch.randint(0, SPECIES, (16,), generator=g)
        target = torch.randn(16, CHANNELS, 4, generator=g, dtype=torch.float64)
        loss = (module(x, species) - target).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return module


def test_factors_stay_distinct_under_training():
    """A fresh module's factors differ, and after training steps they still differ (and moved).
    The counter-case shows what this guards against: factors that start equal (the identity
    starts of an earlier version) get equal gradients and are still equal after training."""
    torch.manual_seed(0)
    module = GauntFactorProductBasis(CHANNELS, 2, 1, 3, SPECIES)
    start = module.factor_weights.detach().clone()
    assert _body_order_spread(module) > 0.5
    _train_steps(module)
    assert _body_order_spread(module) > 0.5
    assert not torch.equal(module.factor_weights.detach(), start)

    collapsed = _train_steps(_identity_factors(GauntFactorProductBasis(CHANNELS, 2, 1, 3, SPECIES)))
    assert _body_order_spread(collapsed) < 1e-12


def test_double_backward():
    torch.manual_seed(0)
    module = _randomised(GauntFactorProductBasis(2, 1, 1, 3, 2))
    x = torch.randn(3, 2, 4, dtype=torch.float64, requires_grad=True)
    species = torch.tensor([0, 1, 1])
    assert torch.autograd.gradgradcheck(lambda t: module(t, species), (x,))


@pytest.mark.parametrize("rank", [2, 3])
def test_rank_r_is_the_sum_of_r_rank_one_bases(rank):
    """Rank r of channel c is product channel r * C + c: the rank-R module equals R rank-one
    modules that share the channel mixing, each with its own slice of the element and output
    weights, summed."""
    torch.manual_seed(0)
    module = _randomised(GauntFactorProductBasis(CHANNELS, 2, 1, 3, SPECIES, rank=rank))
    x, species = _inputs(2, torch.float64)
    expected = torch.zeros(x.shape[0], CHANNELS, 4, dtype=torch.float64)
    for r in range(rank):
        part = GauntFactorProductBasis(CHANNELS, 2, 1, 3, SPECIES)
        rows = slice(r * CHANNELS, (r + 1) * CHANNELS)
        with torch.no_grad():
            part.factor_weights.copy_(module.factor_weights)
            part.factor_species_weights.copy_(module.factor_species_weights[:, :, rows])
            part.weights.copy_(module.weights[:, rows])
        expected = expected + part(x, species)
    torch.testing.assert_close(module(x, species), expected, rtol=1e-12, atol=1e-12)


def test_rank_terms_start_distinct_and_train_apart():
    """The R terms start with different element weights (equal ones would differ only through
    their output weights) and still differ after training steps."""
    torch.manual_seed(0)
    module = GauntFactorProductBasis(CHANNELS, 2, 1, 3, SPECIES, rank=2)
    s = module.factor_species_weights.detach()
    first, second = s[:, :, :CHANNELS], s[:, :, CHANNELS:]
    assert (first - second).norm() > 0.5 * first.norm()
    _train_steps(module)
    s = module.factor_species_weights.detach()
    assert (s[:, :, :CHANNELS] - s[:, :, CHANNELS:]).norm() > 0.5 * s[:, :, :CHANNELS].norm()


def test_rank_must_be_positive():
    with pytest.raises(ValueError, match="rank must be >= 1"):
        GauntFactorProductBasis(CHANNELS, 2, 1, 3, SPECIES, rank=0)
