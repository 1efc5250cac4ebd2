"""Residual-demand signals of a homogeneous book (economy/clearing.py)."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from agents.protocol import Order, Side
from economy.clearing import (
    DemandCurve,
    homogeneous_signals,
    logit_share,
    logit_weights,
    sellout_price,
)
from market.auction import clear
from market.catalogue import Market


def bid(price: float, qty: float) -> Order:
    return Order(Market.COMPUTE, Side.BID, "buyers", price, qty)


def ask(firm: str, price: float, qty: float) -> Order:
    return Order(Market.COMPUTE, Side.ASK, firm, price, qty)


BIDS = [bid(10.0, 30.0), bid(8.0, 30.0), bid(6.0, 40.0), bid(4.0, 50.0)]  # 30, 60, 100, 150


def test_a_lone_seller_sells_out_at_the_highest_bid_that_takes_its_supply() -> None:
    curve = DemandCurve(BIDS)
    assert sellout_price(curve, [ask("a", 1.0, 60.0)], 0) == 8.0
    assert sellout_price(curve, [ask("a", 1.0, 61.0)], 0) == 6.0
    assert sellout_price(curve, [ask("a", 1.0, 150.0)], 0) == 4.0
    assert sellout_price(curve, [ask("a", 1.0, 151.0)], 0) == 0.0  # never binds


def test_rivals_asking_no_more_serve_first() -> None:
    """A rival offering 40 at 5 serves first at every bid price of 5 or more: the seller's
    residual is 60 − 40 at 8, 100 − 40 at 6, and all 150 at 4, where it undercuts the rival."""
    curve = DemandCurve(BIDS)
    assert sellout_price(curve, [ask("a", 7.0, 60.0), ask("b", 5.0, 40.0)], 0) == 6.0
    assert sellout_price(curve, [ask("a", 7.0, 61.0), ask("b", 5.0, 40.0)], 0) == 4.0
    assert sellout_price(curve, [ask("a", 7.0, 151.0), ask("b", 5.0, 40.0)], 0) == 0.0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0.5, 20.0), st.floats(0.1, 50.0)), min_size=1, max_size=12),
    st.floats(0.1, 200.0),
)
def test_at_its_sellout_price_a_lone_seller_trades_all_it_offers(bids, offered) -> None:
    """The sellout price is read off the bids as the book trades them: asking it, a lone seller
    sells everything; asking a little more (up to the next bid) would not."""
    orders = [bid(p, q) for p, q in bids]
    price = sellout_price(DemandCurve(orders), [ask("a", 1.0, offered)], 0)
    total = math.fsum(q for _, q in bids)
    if price == 0.0:
        assert total < offered * (1 - 1e-9)
        return
    result = clear([p for p, _ in bids], [q for _, q in bids], [price], [offered], rule="posted")
    assert result.volume >= offered * (1 - 1e-6)
    above = math.fsum(q for p, q in bids if p > price)
    assert above < offered * (1 - 1e-9)


def test_signals_carry_the_sellout_price() -> None:
    asks = [ask("a", 7.0, 60.0), ask("b", 5.0, 40.0)]
    signals = dict(homogeneous_signals(Market.COMPUTE, "", BIDS, asks, [30.0, 40.0]))
    assert signals["a"].sellout == 6.0
    assert signals["b"].sellout == 6.0  # above 7 the rival serves 60 first


PRICE_OR_NOTHING = st.one_of(st.just(0.0), st.sampled_from([1.0, 2.0]), st.floats(0.01, 50.0))


@settings(max_examples=200, deadline=None)
@given(
    sellers=st.lists(st.tuples(st.floats(0.1, 3.0), PRICE_OR_NOTHING), min_size=1, max_size=6),
    probes=st.lists(PRICE_OR_NOTHING, min_size=1, max_size=12),
    elasticity=st.floats(0.5, 40.0),
    data=st.data(),
)
def test_logit_share_is_the_share_of_the_logit_weights_exactly(sellers, probes, elasticity, data):
    """The share a seller's residual demand reads, rivals' weights kept between probes, is
    ``w[j] / fsum(w)`` of the weights computed afresh at every probe, float for float."""
    appeal = [a for a, _ in sellers]
    prices = [p for _, p in sellers]
    j = data.draw(st.integers(0, len(sellers) - 1))
    share = logit_share(appeal, prices, j, elasticity)
    for p in probes:
        trial = list(prices)
        trial[j] = p
        weights = logit_weights(appeal, trial, elasticity)
        total = math.fsum(weights)
        assert share(p) == (weights[j] / total if total > 0 else 0.0)
