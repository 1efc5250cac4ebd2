"""Quantity forecasts from a seller's demand signal: growth at a given price and demand at a new
price read along the market's elasticity when every seller's price moves together."""

from __future__ import annotations

import pytest

from agents.protocol import DemandSignal
from agents.supply import demand_at, demand_growth
from market.catalogue import Market


def signal(price: float, sold: float, own: float = 4.0, market: float = 1.0) -> DemandSignal:
    """A seller that sold ``sold`` at ``price`` (not sold out), whose residual demand has
    elasticity ``own`` a step either side and the market's demand elasticity ``market``."""
    step = 0.05
    return DemandSignal(
        Market.TOKENS,
        "",
        price,
        offered=2.0 * sold,
        sold=sold,
        wanted=sold,
        wanted_below=sold * (1.0 - step) ** -own,
        wanted_above=sold * (1.0 + step) ** -own,
        step=step,
        market_elasticity=market,
    )


def test_growth_of_a_market_whose_prices_all_fell() -> None:
    """Every seller cut its price by a quarter and demand rose 50%: at unit market elasticity
    1.5/(1/0.75) = 12.5% of it is growth at a given price. Read along the residual elasticity
    (4) the same quarter looks like a 53% fall."""
    before, after = signal(1.0, 100.0), signal(0.75, 150.0)
    assert demand_growth(before, after, 0.0) == pytest.approx(0.5 * (1.5 * 0.75 - 1.0))
    unknown = signal(0.75, 150.0, market=float("nan"))
    assert demand_growth(before, unknown, 0.0) == pytest.approx(
        0.5 * (150.0 / 100.0 / 0.75**-4 - 1)
    )


def test_demand_at_a_common_price_move_reads_the_market_curve() -> None:
    last = signal(1.0, 100.0)
    assert demand_at(last, 0.75, 0.0, common=True) == pytest.approx(100.0 / 0.75)
    assert demand_at(last, 0.75, 0.0) == pytest.approx(100.0 * 0.75**-4.0, rel=1e-6)
