"""The rules of labs' training on expected returns, funding in proportion to sentiment, and seat
conversion by price and quality (docs/model.md §4.4, §4.6, §4.7)."""

from __future__ import annotations

import math

import pytest

from agents.demand import conversion_rate, normal_cdf, wtp_grid
from agents.training import LN2, LN10, life_annuity, quality_value, training_hours
from economy.model import Economy
from market.catalogue import Market, Side
from runs.scenario import load_raw, validate


def economy(name: str = "baseline", seed: int = 0) -> Economy:
    raw, source = load_raw(name)
    return Economy(validate(raw, source), seed=seed)


# -- training --------------------------------------------------------------------------------------
V, A, QPD, BASE, TF = 4e8, 3.7, 10.0, 5e9, 1.5


def net_value(hours: float, price: float) -> float:
    """What ``hours`` of training earn over the model's life less what they cost."""
    return V * A * QPD / LN10 * math.log(BASE + TF * hours) - price * hours


def test_training_hours_equate_an_hours_value_with_its_price() -> None:
    price = 0.5
    h = training_hours(V, A, QPD, price, BASE, TF)
    assert h > 0
    marginal = V * A * QPD / LN10 * TF / (BASE + TF * h)
    assert marginal == pytest.approx(price, rel=1e-12)
    for other in (0.9 * h, 1.1 * h, 0.0):
        assert net_value(h, price) > net_value(other, price)


def test_training_demand_falls_with_its_price_and_rises_with_the_value_of_quality() -> None:
    hours = [training_hours(V, A, QPD, p, BASE, TF) for p in (0.25, 0.5, 1.0)]
    assert hours[0] > hours[1] > hours[2]
    assert training_hours(2 * V, A, QPD, 0.5, BASE, TF) > hours[1]


def test_no_training_while_the_stock_is_above_what_quality_is_worth() -> None:
    # K/p = V·A·QPD/(ln10·p) ≈ 2.6e10 hours at p = 0.25; a stock far above that needs none
    assert training_hours(V, A, QPD, 0.25, 1e12, TF) == 0.0


def test_the_value_of_a_quality_point_is_the_logit_share_response_times_gross_profit() -> None:
    markets = [(1e9, 3.0, 1.0), (5e8, 4.0, 0.5), (-2e8, 5.0, 1.0)]  # a loss-making market adds 0
    expected = (1e9 * 3.0 + 5e8 * 4.0 * 0.5) * LN2 / 5.0
    assert quality_value(markets, 5.0) == pytest.approx(expected, rel=1e-12)


def test_life_annuity_counts_the_model_life_faded_and_discounted() -> None:
    assert life_annuity(0, 0.15, 0.85) == 0.0
    assert life_annuity(6, 0.0, 1.0) == pytest.approx(6.0)
    assert life_annuity(6, 0.15, 0.85) < life_annuity(6, 0.0, 0.85) < life_annuity(6, 0.0, 1.0)


def test_a_labs_training_bid_is_set_by_what_quality_earns_not_by_its_cash() -> None:
    """Old rule: training was a share of cash or of revenue. Now twice the cash buys no more
    training while cash covers it, and a lab with little cash trains only what it covers."""
    bids = {}
    for cash in (6e10, 1.2e11, 3e9):
        eco = economy()
        obs = eco.publish()
        lab = eco.firms["openai"]
        lab.cash = cash
        lab.value_of_quality = 8e8
        orders = lab.decide(obs).orders
        bids[cash] = math.fsum(
            o.qty * o.price
            for o in orders
            if o.market is Market.COMPUTE and o.tag == "training" and o.side is Side.BID
        )
    assert bids[6e10] > 0
    assert bids[1.2e11] == bids[6e10]
    assert bids[3e9] < bids[6e10]


def test_a_round_tops_cash_up_to_its_runway_of_planned_burn() -> None:
    eco = economy()
    obs = eco.publish()
    lab = eco.firms["anthropic"]
    lab.cash, lab.training_wanted_usd, lab.fixed_burn = 1e10, 3e9, 1e9
    (request,) = lab.funding_requests(obs)
    assert request.kind == "equity"
    assert request.amount_usd == pytest.approx(6.0 * (3e9 + 1e9) - 1e10)
    lab.cash = 3e10  # covers six quarters of planned burn: no round
    assert lab.funding_requests(obs) == []


def test_rounds_are_granted_in_proportion_to_sentiment() -> None:
    investors = economy().investors
    for mood in (0.5, 1.0, 1.5):
        investors.sentiment = mood
        assert investors.grant(1e9, 1e11) == pytest.approx(mood * 1e9)
    investors.sentiment = 1.5  # the stake in what the firm is worth still caps it
    assert investors.grant(1e12, 1e9) == pytest.approx(0.2 * 25.0 * 1.5 * 4.0 * 1e9)


# -- advertising -----------------------------------------------------------------------------------
def test_advertising_is_paid_per_free_user_served() -> None:
    eco = economy("monetization")
    obs = eco.publish()
    lab = eco.firms["openai"]
    lab.decide(obs)
    wanted = lab.free_tier_m / lab.tokens_per_hour(obs.quarter)
    share = lab.params.free_users_share
    full = share * obs.segments["consumer"].free_users()
    lab.hours["free_tier"] = 0.5 * wanted
    assert lab.close(obs).ad_users["consumer"] == pytest.approx(0.5 * full)
    lab.decide(obs)
    lab.hours["free_tier"] = wanted
    assert lab.close(obs).ad_users["consumer"] == pytest.approx(full)


# -- conversion ------------------------------------------------------------------------------------
def test_the_seat_bids_trace_the_log_normal_survival_function() -> None:
    assert math.fsum(m for _, m in wtp_grid()) == pytest.approx(1.0, abs=1e-12)
    for price in (2.0, 6.0, 20.0, 60.0):
        exact = 1.0 - normal_cdf(math.log(price / 6.0) / 1.4)
        assert conversion_rate(price, 6.0, 1.4) == pytest.approx(exact, abs=0.021)


def test_conversion_falls_with_price_and_rises_with_quality_in_the_segments_bids() -> None:
    """The old twelve quantile bids left the share of consumers who pay unchanged between $40
    and $45 a quarter (no bid between them); now a price rise there loses paying users."""
    eco = economy()
    obs = eco.publish()
    bids = [o for o in eco.firms["consumer"].decide(obs).orders if o.market is Market.PLANS]

    def seats_at(price: float) -> float:
        return math.fsum(o.qty for o in bids if o.price >= price)

    assert seats_at(40.0) > seats_at(45.0) > 0
    # a better model is cheaper per effective seat at the same plan price: more users convert
    plan_price, worse, better = 60.0, 1.0, 1.2
    assert seats_at(plan_price / better) > seats_at(plan_price / worse)
