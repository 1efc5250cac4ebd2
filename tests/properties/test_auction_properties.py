"""Hypothesis properties of the pure call auction in :mod:`market.auction`.

Books are random: up to 40 orders a side, prices drawn partly from a small grid so that equal
prices (ties, bids equal to asks) are common, quantities partly zero. The references below
(efficient volume, maximal surplus) are computed independently of the auctioneer's own code.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.auction import Clearing, clear

SETTINGS = settings(max_examples=200, deadline=None)
MAX_ORDERS = 40

PRICES = st.one_of(
    st.integers(1, 20).map(float),  # a coarse grid: duplicate prices and bid == ask are common
    st.floats(0.5, 25.0, allow_nan=False, allow_infinity=False),
)
QTYS = st.one_of(
    st.just(0.0),
    st.integers(1, 50).map(float),
    st.floats(0.01, 100.0, allow_nan=False, allow_infinity=False),
)
KS = st.floats(0.0, 1.0, allow_nan=False)


def _side(prices: st.SearchStrategy[float]) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    def unzip(orders: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
        arr = np.asarray(orders, dtype=np.float64).reshape(-1, 2)
        return arr[:, 0].copy(), arr[:, 1].copy()

    return st.lists(st.tuples(prices, QTYS), max_size=MAX_ORDERS).map(unzip)


BOOK_SIDE = _side(PRICES)


def _tol(*arrays: np.ndarray) -> float:
    """An absolute tolerance scaled to the quantities in play."""
    total = sum(float(np.sum(a)) for a in arrays)
    return 1e-9 * max(1.0, total)


def _ptol(price: float) -> float:
    return 1e-9 * max(1.0, abs(price))


# --- independent references ----------------------------------------------------------------------


def efficient_volume(bp, bq, ap, aq) -> float:
    """max over candidate prices p of min(D(p), S(p)), by brute force over every order's price."""
    best = 0.0
    for p in np.concatenate([bp, ap]):
        demand = float(bq[bp >= p].sum())
        supply = float(aq[ap <= p].sum())
        best = max(best, min(demand, supply))
    return best


def max_surplus(bp, bq, ap, aq) -> float:
    """Integral over quantity of (inverse demand - inverse supply)^+, on merged step breakpoints."""
    if bp.size == 0 or ap.size == 0:
        return 0.0
    b_order = np.argsort(-bp, kind="stable")
    a_order = np.argsort(ap, kind="stable")
    b_price, b_cum = bp[b_order], np.cumsum(bq[b_order])
    a_price, a_cum = ap[a_order], np.cumsum(aq[a_order])
    top = min(b_cum[-1], a_cum[-1])
    cuts = np.unique(np.concatenate([[0.0], b_cum, a_cum]))
    cuts = cuts[cuts <= top]
    if cuts.size == 0 or cuts[-1] < top:
        cuts = np.append(cuts, top)
    total = 0.0
    for lo, hi in itertools.pairwise(cuts):
        if hi <= lo:
            continue
        mid = 0.5 * (lo + hi)
        # the order serving the unit at `mid`: first one whose cumulative quantity passes it
        wtp = b_price[np.searchsorted(b_cum, mid, side="right")]
        cost = a_price[np.searchsorted(a_cum, mid, side="right")]
        total += max(0.0, wtp - cost) * (hi - lo)
    return total


def realised_surplus(res: Clearing, bp, ap) -> float:
    return float(np.sum(res.trade_qty * (bp[res.trade_bid] - ap[res.trade_ask])))


# --- shared checks -------------------------------------------------------------------------------


def check_conservation(res: Clearing, bp, bq, ap, aq) -> None:
    tol = _tol(bq, aq)
    assert res.bid_fill.shape == bq.shape and res.ask_fill.shape == aq.shape
    assert res.trade_bid.shape == res.trade_ask.shape == res.trade_qty.shape
    assert res.trade_price.shape == res.trade_qty.shape
    assert res.volume == pytest.approx(res.bid_fill.sum(), abs=tol)
    assert res.volume == pytest.approx(res.ask_fill.sum(), abs=tol)
    assert res.volume == pytest.approx(res.trade_qty.sum(), abs=tol)
    # every fill is the sum of that order's trades
    np.testing.assert_allclose(
        np.bincount(res.trade_bid, weights=res.trade_qty, minlength=bq.size), res.bid_fill, atol=tol
    )
    np.testing.assert_allclose(
        np.bincount(res.trade_ask, weights=res.trade_qty, minlength=aq.size), res.ask_fill, atol=tol
    )
    # within bounds
    assert np.all(res.trade_qty > 0)
    assert np.all(res.bid_fill >= 0) and np.all(res.ask_fill >= 0)
    assert np.all(res.bid_fill <= bq * (1 + 1e-9) + 1e-12)
    assert np.all(res.ask_fill <= aq * (1 + 1e-9) + 1e-12)
    # nobody buys above its bid or sells below its ask
    assert np.all(bp[res.trade_bid] >= ap[res.trade_ask])
    assert res.volume <= min(bq.sum(), aq.sum()) + tol
    assert np.isnan(res.price) == (res.trade_qty.size == 0)


def check_curves(res: Clearing, bp, bq, ap, aq) -> None:
    for curve, prices, qtys, sign in ((res.demand, bp, bq, -1), (res.supply, ap, aq, 1)):
        assert curve.price.shape == curve.quantity.shape
        assert np.all(sign * np.diff(curve.price) > 0)  # one step per distinct price
        assert np.all(np.diff(curve.quantity) >= 0)
        np.testing.assert_array_equal(np.sort(curve.price), np.unique(prices))
        if qtys.size:
            assert curve.quantity[-1] == pytest.approx(qtys.sum(), rel=1e-12, abs=1e-12)


def assert_same(a: Clearing, b: Clearing) -> None:
    for name in ("bid_fill", "ask_fill", "trade_bid", "trade_ask", "trade_qty", "trade_price"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    for name in ("price", "quantity"):
        np.testing.assert_array_equal(getattr(a.demand, name), getattr(b.demand, name))
        np.testing.assert_array_equal(getattr(a.supply, name), getattr(b.supply, name))
    np.testing.assert_array_equal(a.price, b.price)  # treats nan == nan
    assert a.volume == b.volume


# --- uniform -------------------------------------------------------------------------------------


@SETTINGS
@given(bids=BOOK_SIDE, asks=BOOK_SIDE, k=KS)
def test_uniform_conserves_and_respects_limits(bids, asks, k) -> None:
    (bp, bq), (ap, aq) = bids, asks
    res = clear(bp, bq, ap, aq, rule="uniform", k=k)
    check_conservation(res, bp, bq, ap, aq)
    check_curves(res, bp, bq, ap, aq)
    assert res.rule == "uniform"


@SETTINGS
@given(bids=BOOK_SIDE, asks=BOOK_SIDE, k=KS)
def test_uniform_price_separates_filled_from_left_out(bids, asks, k) -> None:
    (bp, bq), (ap, aq) = bids, asks
    res = clear(bp, bq, ap, aq, rule="uniform", k=k)
    live_b, live_a = bq > 0, aq > 0
    if res.volume == 0:
        assert np.isnan(res.price)
        # nothing traded: the book does not cross
        if live_b.any() and live_a.any():
            assert bp[live_b].max() < ap[live_a].min()
        return
    p, ptol, qtol = res.price, _ptol(res.price), _tol(bq, aq)
    np.testing.assert_array_equal(res.trade_price, np.full(res.trade_qty.size, p))
    filled_b, filled_a = res.bid_fill > 0, res.ask_fill > 0
    wanting_b = live_b & (res.bid_fill < bq - qtol)
    unsold_a = live_a & (res.ask_fill < aq - qtol)
    assert np.all(bp[filled_b] >= p - ptol)  # no bid priced below p is filled
    assert np.all(ap[filled_a] <= p + ptol)  # no ask priced above p is filled
    assert np.all(bp[wanting_b] <= p + ptol)  # every bid left wanting is priced at most p
    assert np.all(ap[unsold_a] >= p - ptol)  # every ask left unsold is priced at least p
    # so at p buyers want and sellers offer at least what traded
    assert res.demand_at_price >= res.volume - qtol
    assert res.supply_at_price >= res.volume - qtol


@SETTINGS
@given(bids=BOOK_SIDE, asks=BOOK_SIDE, k=KS)
def test_uniform_is_efficient(bids, asks, k) -> None:
    (bp, bq), (ap, aq) = bids, asks
    res = clear(bp, bq, ap, aq, rule="uniform", k=k)
    qtol = _tol(bq, aq)
    assert res.volume == pytest.approx(efficient_volume(bp, bq, ap, aq), abs=qtol)
    surplus_tol = 1e-9 * max(1.0, float(bq @ bp + aq @ ap))
    assert realised_surplus(res, bp, ap) == pytest.approx(
        max_surplus(bp, bq, ap, aq), abs=surplus_tol
    )


@SETTINGS
@given(bids=BOOK_SIDE, asks=BOOK_SIDE)
def test_uniform_fills_do_not_depend_on_k_and_price_rises_with_k(bids, asks) -> None:
    (bp, bq), (ap, aq) = bids, asks
    results = [clear(bp, bq, ap, aq, k=k) for k in (0.0, 0.3, 0.5, 1.0)]
    for other in results[1:]:
        np.testing.assert_array_equal(other.bid_fill, results[0].bid_fill)
        np.testing.assert_array_equal(other.ask_fill, results[0].ask_fill)
    prices = np.array([r.price for r in results])
    if not np.isnan(prices[0]):
        assert np.all(np.diff(prices) >= -_ptol(prices[-1]))


DISTINCT = st.lists(PRICES, max_size=MAX_ORDERS, unique=True)


@st.composite
def distinct_price_book_and_permutations(draw):
    bp = np.asarray(draw(DISTINCT), dtype=np.float64)
    ap = np.asarray(draw(DISTINCT), dtype=np.float64)
    bq = np.asarray(draw(st.lists(QTYS, min_size=bp.size, max_size=bp.size)), dtype=np.float64)
    aq = np.asarray(draw(st.lists(QTYS, min_size=ap.size, max_size=ap.size)), dtype=np.float64)
    b_perm = np.asarray(draw(st.permutations(range(bp.size))), dtype=np.int64)
    a_perm = np.asarray(draw(st.permutations(range(ap.size))), dtype=np.int64)
    return bp, bq, ap, aq, b_perm, a_perm


@SETTINGS
@given(book=distinct_price_book_and_permutations(), k=KS)
def test_uniform_invariant_to_order_of_orders_with_distinct_prices(book, k) -> None:
    bp, bq, ap, aq, b_perm, a_perm = book
    res = clear(bp, bq, ap, aq, k=k)
    perm = clear(bp[b_perm], bq[b_perm], ap[a_perm], aq[a_perm], k=k)
    np.testing.assert_array_equal(perm.price, res.price)
    assert perm.volume == res.volume
    np.testing.assert_array_equal(perm.bid_fill, res.bid_fill[b_perm])
    np.testing.assert_array_equal(perm.ask_fill, res.ask_fill[a_perm])


# --- both rules ----------------------------------------------------------------------------------


@SETTINGS
@given(bids=BOOK_SIDE, asks=BOOK_SIDE, k=KS, rule=st.sampled_from(["uniform", "posted"]))
def test_clear_is_deterministic_and_pure(bids, asks, k, rule) -> None:
    (bp, bq), (ap, aq) = bids, asks
    inputs = [a.copy() for a in (bp, bq, ap, aq)]
    first = clear(bp, bq, ap, aq, rule=rule, k=k)
    second = clear(bp, bq, ap, aq, rule=rule, k=k)
    assert_same(first, second)
    for a, b in zip((bp, bq, ap, aq), inputs, strict=True):
        np.testing.assert_array_equal(a, b)


# --- posted --------------------------------------------------------------------------------------


@SETTINGS
@given(bids=BOOK_SIDE, asks=BOOK_SIDE)
def test_posted_conserves_and_trades_at_list_prices(bids, asks) -> None:
    (bp, bq), (ap, aq) = bids, asks
    res = clear(bp, bq, ap, aq, rule="posted")
    assert res.rule == "posted"
    check_conservation(res, bp, bq, ap, aq)
    check_curves(res, bp, bq, ap, aq)
    # each trade at its ask's own price, and only with bids priced at or above it
    np.testing.assert_array_equal(res.trade_price, ap[res.trade_ask])
    assert np.all(bp[res.trade_bid] >= res.trade_price)
    if res.volume > 0:
        vwap = float(np.dot(res.trade_qty, res.trade_price) / res.trade_qty.sum())
        assert res.price == pytest.approx(vwap, rel=1e-12)
        assert res.trade_price.min() - _ptol(res.price) <= res.price
        assert res.price <= res.trade_price.max() + _ptol(res.price)
    else:
        assert np.isnan(res.price)


@SETTINGS
@given(bids=BOOK_SIDE, asks=BOOK_SIDE)
def test_posted_leaves_no_feasible_trade_undone(bids, asks) -> None:
    """An ask with stock left means every bid priced at or above it got all it wanted."""
    (bp, bq), (ap, aq) = bids, asks
    res = clear(bp, bq, ap, aq, rule="posted")
    qtol = _tol(bq, aq)
    wanting = res.bid_fill < bq - qtol
    for j in np.flatnonzero(res.ask_fill < aq - qtol):
        assert not np.any(wanting & (bp >= ap[j]))
