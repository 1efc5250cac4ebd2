"""Users compare plans by the dollars between them (a logit in dollars, markets.plan_choice_in =
"dollars"), or by their ratio (the CES form, "ratios"): economy/clearing.py."""

from __future__ import annotations

import math

import polars as pl
import pytest

from agents.protocol import Order, Side
from economy.clearing import dollar_weight, logit_weights
from market.catalogue import Market
from runs import run
from runs.scenario import ScenarioError, load_scenario


def shares(weights: list[float]) -> list[float]:
    total = math.fsum(weights)
    return [w / total for w in weights]


def test_in_ratios_shares_ignore_the_price_level_in_dollars_they_do_not() -> None:
    """Halving every price leaves ratio-form shares as they were (so markups follow cost down);
    in dollars the same cut narrows the dollar gap and the shares move toward equal."""
    prices = [20.0, 30.0]
    cheap = [p / 10 for p in prices]
    assert shares(logit_weights([1, 1], prices, 5.0)) == pytest.approx(
        shares(logit_weights([1, 1], cheap, 5.0))
    )
    per_usd = 5.0 / 25.0
    high = shares(logit_weights([1, 1], prices, 5.0, per_usd))
    low = shares(logit_weights([1, 1], cheap, 5.0, per_usd))
    assert high[0] == pytest.approx(1 / (1 + math.exp(-per_usd * 10)))
    assert 0.5 < low[0] < high[0]


def test_the_dollar_weight_is_fixed_at_the_first_prices_a_book_sees() -> None:
    """α = x over the mean ask of the book's first quarter, then kept; 0 in the ratio form."""

    def asks(*prices: float) -> list[Order]:
        return [Order(Market.PLANS, Side.ASK, f"s{i}", p, 1.0) for i, p in enumerate(prices)]

    fixed: dict[str, float] = {}
    assert dollar_weight(fixed, "developer", asks(20.0, 30.0), 5.0, "dollars") == 0.2
    assert dollar_weight(fixed, "developer", asks(2.0, 3.0), 5.0, "dollars") == 0.2
    assert dollar_weight({}, "developer", asks(20.0, 30.0), 5.0, "ratios") == 0.0
    assert dollar_weight({}, "developer", asks(), 5.0, "dollars") == 0.0


def test_an_unknown_way_of_comparing_plans_is_refused() -> None:
    with pytest.raises(ScenarioError) as raised:
        load_scenario("baseline", {"markets.plan_choice_in": "cents"})
    text = str(raised.value)
    assert "markets.plan_choice_in" in text and "dollars" in text and "ratios" in text


@pytest.mark.slow
def test_in_dollars_plan_prices_stay_in_dollars_as_token_costs_fall() -> None:
    """Over 100 quarters token costs fall by orders of magnitude. Compared by ratio, developer
    plans end up at cents a seat; compared in dollars their markup stays in dollars."""

    def late_price(compare: str) -> float:
        r = run("baseline", quarters=100, seed=0, overrides={"markets.plan_choice_in": compare})
        late = r.markets.filter(
            (pl.col("market") == "plans")
            & (pl.col("book") == "developer")
            & (pl.col("quarter") >= 92)
        )
        return late["price_usd"].mean()

    ratios, dollars = late_price("ratios"), late_price("dollars")
    assert ratios < 1.0
    assert dollars > 5.0
