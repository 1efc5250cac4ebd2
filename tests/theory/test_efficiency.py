"""Allocative efficiency of the auctioneer (:func:`market.auction.clear`).

Textbook: a uniform-price double auction that matches the highest bids with the cheapest asks
attains the maximum gains from trade (the competitive equilibrium is efficient). A posted price
with priority (efficient) rationing attains it too when the posted price is a market-clearing
price; proportional rationing can give units to buyers who value them less, and lose surplus.
The reference optimum is a linear programme over bilateral trades, solved by scipy, which knows
nothing of prices, curves or sorting.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from market.auction import Clearing, clear

PRICES = st.one_of(st.integers(1, 12).map(float), st.floats(0.5, 15.0, allow_nan=False))
QTYS = st.one_of(st.integers(1, 20).map(float), st.floats(0.01, 30.0, allow_nan=False))
SIDE = st.lists(st.tuples(PRICES, QTYS), min_size=1, max_size=10)


def arrays(orders):
    arr = np.asarray(orders, dtype=np.float64)
    return arr[:, 0].copy(), arr[:, 1].copy()


def lp_optimum(bp, bq, ap, aq) -> float:
    """max Σ (bid_i − ask_j)·x_ij  s.t.  Σ_j x_ij ≤ bq_i,  Σ_i x_ij ≤ aq_j,  x ≥ 0."""
    nb, na = bp.size, ap.size
    gain = (bp[:, None] - ap[None, :]).reshape(-1)
    rows = np.zeros((nb + na, nb * na))
    for i in range(nb):
        rows[i, i * na : (i + 1) * na] = 1.0
    for j in range(na):
        rows[nb + j, j::na] = 1.0
    res = linprog(-gain, A_ub=rows, b_ub=np.concatenate([bq, aq]), bounds=(0, None), method="highs")
    assert res.status == 0
    return -res.fun


def realised(res: Clearing, bp, ap) -> float:
    return float(np.sum(res.trade_qty * (bp[res.trade_bid] - ap[res.trade_ask])))


def tol(bp, bq, ap, aq) -> float:
    return 1e-7 * max(1.0, float(bp @ bq + ap @ aq))


@settings(max_examples=150, deadline=None)
@given(SIDE, SIDE, st.floats(0.0, 1.0))
def test_uniform_clearing_attains_the_maximum_gains_from_trade(bids, asks, k):
    bp, bq = arrays(bids)
    ap, aq = arrays(asks)
    res = clear(bp, bq, ap, aq, rule="uniform", k=k)
    assert realised(res, bp, ap) == pytest.approx(
        lp_optimum(bp, bq, ap, aq), abs=tol(bp, bq, ap, aq)
    )


@settings(max_examples=150, deadline=None)
@given(SIDE, SIDE, st.floats(0.0, 1.0))
def test_posted_price_at_the_clearing_price_is_efficient(bids, asks, k):
    """The sellers the uniform auction fills post their quantities at its clearing price, as
    one ask: priority rationing serves the highest bids first and attains the optimum (the
    sellers' true costs count in the surplus)."""
    bp, bq = arrays(bids)
    ap, aq = arrays(asks)
    uniform = clear(bp, bq, ap, aq, rule="uniform", k=k)
    optimum = lp_optimum(bp, bq, ap, aq)
    if uniform.volume <= 0:
        assert optimum == pytest.approx(0.0, abs=tol(bp, bq, ap, aq))
        return
    cost = float(uniform.ask_fill @ ap)  # what the units the auction sold cost to make
    posted = clear(bp, bq, [uniform.price], [uniform.volume], rule="posted")
    assert posted.volume == pytest.approx(uniform.volume, rel=1e-9)
    surplus = float(posted.bid_fill @ bp) - cost
    assert surplus == pytest.approx(optimum, abs=tol(bp, bq, ap, aq))


def test_proportional_rationing_can_lose_surplus():
    """One unit posted at $1; one buyer values a unit at $10, another at $2. Priority serves the
    $10 buyer (gains 9); proportional rationing halves the unit between them (gains 5)."""
    bp, bq = np.array([10.0, 2.0]), np.array([1.0, 1.0])
    ap, aq = np.array([1.0]), np.array([1.0])
    optimum = lp_optimum(bp, bq, ap, aq)
    priority = clear(bp, bq, ap, aq, rule="posted")
    proportional = clear(bp, bq, ap, aq, rule="posted_proportional")
    assert optimum == pytest.approx(9.0)
    assert realised(priority, bp, ap) == pytest.approx(9.0)
    assert realised(proportional, bp, ap) == pytest.approx(5.0)
    np.testing.assert_allclose(proportional.bid_fill, [0.5, 0.5])
