"""Scarcity: binding capacity prices at the marginal excluded buyer's value; spare capacity
competes the price down to marginal cost.

Scenario ``theory/scarcity``: clouds with small fixed fleets face constant-elasticity demand
Q(p) = (spend/p0)·(p/p0)^−ε (ε = 2, spend $1M at p0 = $1) far above their capacity K. The uniform
price should be p_K with Q(p_K) = K, p_K = p0·(spend/(p0·K))^(1/ε): the price at which demand is
rationed to capacity. In 2029Q1 (quarter 16) demand drops to a hundredth, below either fleet:
with two clouds the price should fall to marginal cost ($0.104; Bertrand); with one, to the
monopoly price MC·ε/(ε−1).
"""

from __future__ import annotations

import pytest
from theory_common import MC, compute_prices

from runs import run

HOURS = 2190.0
FLEET = 1000.0  # H100e a cloud
EVENT = 16  # the quarter demand collapses
SCARCE = range(8, EVENT)  # quarters measured in the scarce phase (after the asks have adjusted)


def rationing_price(capacity_hours: float, spend: float = 1.0e6, eps: float = 2.0) -> float:
    return (spend / capacity_hours) ** (1.0 / eps)


def prices(**overrides) -> list[float]:
    return compute_prices(run("theory/scarcity", quarters=28, seed=0, overrides=overrides).markets)


def test_one_scarce_seller_prices_at_the_marginal_excluded_buyer():
    """One cloud (the other's fleet set to 0): K = 2.19e6 hours, p_K = $0.676."""
    path = prices(**{"firms.cloud_b.installed_h100e": 0.0})
    target = rationing_price(FLEET * HOURS)
    for quarter in SCARCE:
        assert path[quarter] == pytest.approx(target, rel=0.10), (quarter, path[quarter])
    # demand gone below its fleet, it is a monopolist with spare capacity: P* = MC·ε/(ε−1)
    assert path[-1] == pytest.approx(2.0 * MC, rel=0.10)


def test_one_scarce_seller_sells_its_capacity():
    """It prices at the highest bid at which buyers still take its whole fleet (measured: $0.661
    against p_K = $0.676, the bids' points 2.8% apart there), so nothing it can rent stands idle."""
    result = run(
        "theory/scarcity", quarters=28, seed=0, overrides={"firms.cloud_b.installed_h100e": 0.0}
    )
    volume = result.markets.filter(market="compute", book="").sort("quarter")["volume"]
    for quarter in SCARCE:
        assert volume[quarter] >= 0.9 * FLEET * HOURS, (quarter, volume[quarter])


def test_two_scarce_sellers_price_at_the_marginal_excluded_buyer_on_average():
    """Two clouds: K = 4.38e6 hours, p_K = $0.478 (mean over the scarce phase)."""
    path = prices()
    target = rationing_price(2 * FLEET * HOURS)
    measured = sum(path[q] for q in SCARCE) / len(SCARCE)
    assert measured == pytest.approx(target, rel=0.10)


def test_two_scarce_sellers_price_at_the_marginal_excluded_buyer_every_quarter():
    path = prices()
    target = rationing_price(2 * FLEET * HOURS)
    for quarter in SCARCE:
        assert path[quarter] == pytest.approx(target, rel=0.10), (quarter, path[quarter])


def test_spare_capacity_prices_at_marginal_cost_within_8_quarters():
    path = prices()
    assert path[EVENT + 8] == pytest.approx(MC, rel=0.10)


def test_spare_capacity_prices_at_marginal_cost_eventually():
    """Within 12 quarters of the collapse the price is within 10% of marginal cost."""
    path = prices()
    assert path[EVENT + 11] == pytest.approx(MC, rel=0.10)
    assert path[EVENT + 11] >= MC * (1 - 1e-9)
