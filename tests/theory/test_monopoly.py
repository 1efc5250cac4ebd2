"""A monopolist on constant-elasticity demand: the inverse-elasticity rule and cost pass-through.

Scenario ``theory/monopoly``: one cloud with spare capacity, marginal cost MC = $0.104 an hour
(energy), buyers' demand Q(p) = (spend/p0)·(p/p0)^−ε. Textbook (Lerner 1934): the profit-
maximising price is P* = MC·ε/(ε−1), so the Lerner index (p−MC)/p is 1/ε, and the price passes
cost through at dP/dMC = ε/(ε−1) (more than one for one).
"""

from __future__ import annotations

import pytest
from theory_common import MC, compute_prices, lerner, tail_mean

from runs import run

QUARTERS = 40
EPSILONS = (1.5, 2.0, 4.0)


def optimum(eps: float, cost: float = MC) -> float:
    return cost * eps / (eps - 1.0)


def monopoly(eps: float, ask: float, **more) -> list[float]:
    overrides = {
        "firms.buyers.compute_elasticity": eps,
        "firms.cloud.ask_usd_per_hour": ask,
        **more,
    }
    return compute_prices(
        run("theory/monopoly", quarters=QUARTERS, seed=0, overrides=overrides).markets
    )


@pytest.mark.parametrize("start", (0.5, 2.0), ids=("from-half-P*", "from-twice-P*"))
@pytest.mark.parametrize("eps", EPSILONS)
def test_lerner_index_is_the_inverse_elasticity(eps, start):
    prices = monopoly(eps, start * optimum(eps))
    measured = tail_mean([lerner(p) for p in prices])
    assert measured == pytest.approx(1.0 / eps, rel=0.10), (
        f"ε = {eps}, start {start}×P*: Lerner {measured:.4f}, textbook {1 / eps:.4f}"
    )


def test_gross_margin_is_the_lerner_index():
    """With no depreciation or facility costs, the cloud's gross margin is its Lerner index."""
    result = run("theory/monopoly", quarters=QUARTERS, seed=0)
    margin = result.firms.filter(firm="cloud").sort("quarter")["gross_margin"].to_list()
    assert tail_mean(margin) == pytest.approx(0.5, rel=0.10)


@pytest.mark.parametrize("eps", EPSILONS)
def test_cost_pass_through_is_eps_over_eps_minus_one(eps):
    """Raise the electricity price by half (MC $0.104 → $0.156): the price rises by
    ε/(ε−1) times the cost increase."""
    low, high = 0.08, 0.12
    cost_low, cost_high = 1.3 * low, 1.3 * high
    p_low = tail_mean(
        monopoly(eps, optimum(eps, cost_low), **{"technology.energy_usd_per_kwh": low})
    )
    p_high = tail_mean(
        monopoly(eps, optimum(eps, cost_low), **{"technology.energy_usd_per_kwh": high})
    )
    ratio = (p_high - p_low) / (cost_high - cost_low)
    assert ratio == pytest.approx(eps / (eps - 1.0), rel=0.15), (
        f"ε = {eps}: dP/dMC {ratio:.4f}, textbook {eps / (eps - 1):.4f}"
    )
