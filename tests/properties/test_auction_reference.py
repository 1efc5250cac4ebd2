"""The auctioneer's posted rules against a plain per-bid loop, bit for bit.

:func:`market.auction.clear` serves each ask to the eligible bids with array operations; the
reference below is the loop it replaced: asks from the cheapest, groups of bids highest first,
one bid at a time. Every fill, every trade (bid, ask, quantity, price, in matching order), the
price and the volume must be the same floats, not just close: runs are compared frame by frame.
Books mix a coarse price grid (ties, bids equal to asks) with free prices, and asks small enough
to ration a group.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.auction import clear, clear_shared_bids

SETTINGS = settings(max_examples=300, deadline=None)

PRICES = st.one_of(
    st.integers(1, 8).map(float),
    st.floats(0.5, 10.0, allow_nan=False, allow_infinity=False),
)
QTYS = st.one_of(
    st.just(0.0),
    st.integers(1, 9).map(float),
    st.floats(1e-3, 1e3, allow_nan=False, allow_infinity=False),
)


def _side(max_size: int) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    def unzip(orders: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
        arr = np.asarray(orders, dtype=np.float64).reshape(-1, 2)
        return arr[:, 0].copy(), arr[:, 1].copy()

    return st.lists(st.tuples(PRICES, QTYS), max_size=max_size).map(unzip)


def reference_posted(bp, bq, ap, aq, priority: bool):
    """The per-bid loop: fills, trades (bid, ask, qty, price) and the average price."""
    bid_order = np.lexsort((np.arange(bp.size), -bp))
    ask_order = np.lexsort((np.arange(ap.size), ap))
    bid_fill, ask_fill, remaining = np.zeros_like(bq), np.zeros_like(aq), bq.copy()
    trades: list[tuple[int, int, float, float]] = []
    for j in ask_order:
        if aq[j] <= 0:
            continue
        eligible = bid_order[(bp[bid_order] >= ap[j]) & (remaining[bid_order] > 0)]
        if priority and eligible.size:
            breaks = np.flatnonzero(bp[eligible][1:] != bp[eligible][:-1]) + 1
            groups = np.split(eligible, breaks)
        else:
            groups = [eligible]
        left = float(aq[j])
        for group in groups:
            if left <= 0:
                break
            wanted = math.fsum(remaining[group].tolist())
            if wanted <= 0:
                continue
            share = min(1.0, left / wanted)
            for i in group:
                q = remaining[i] * share
                if q <= 0:
                    continue
                remaining[i] -= q
                bid_fill[i] += q
                ask_fill[j] += q
                left -= q
                trades.append((int(i), int(j), float(q), float(ap[j])))
    volume = math.fsum(t[2] for t in trades)
    price = math.fsum(t[2] * t[3] for t in trades) / volume if volume > 0 else math.nan
    return bid_fill, ask_fill, trades, price, volume


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@SETTINGS
@given(bids=_side(40), asks=_side(6), priority=st.booleans())
def test_posted_rules_match_the_per_bid_loop_exactly(bids, asks, priority):
    (bp, bq), (ap, aq) = bids, asks
    res = clear(bp, bq, ap, aq, rule="posted" if priority else "posted_proportional")
    bid_fill, ask_fill, trades, price, volume = reference_posted(bp, bq, ap, aq, priority)
    assert res.bid_fill.tolist() == bid_fill.tolist()
    assert res.ask_fill.tolist() == ask_fill.tolist()
    got = list(
        zip(
            res.trade_bid.tolist(),
            res.trade_ask.tolist(),
            res.trade_qty.tolist(),
            res.trade_price.tolist(),
            strict=True,
        )
    )
    assert got == trades
    assert _same(res.price, price)
    assert res.volume == volume


@SETTINGS
@given(
    bp=st.lists(st.integers(1, 4).map(float), min_size=1, max_size=30),
    scale=st.floats(1e-3, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_rationed_tied_group_matches_the_per_bid_loop_exactly(bp, scale, seed):
    """Few price levels, many bids a level, one ask short of the demand: the ask runs out
    inside a group of equal bids, which shares it pro rata."""
    rng = np.random.default_rng(seed)
    bp = np.asarray(bp)
    bq = rng.uniform(0.1, 10.0, bp.size)
    ap, aq = np.array([1.0]), np.array([scale * float(bq.sum())])
    res = clear(bp, bq, ap, aq, rule="posted")
    bid_fill, ask_fill, trades, price, volume = reference_posted(bp, bq, ap, aq, True)
    assert res.bid_fill.tolist() == bid_fill.tolist()
    assert res.ask_fill.tolist() == ask_fill.tolist()
    assert res.trade_qty.tolist() == [t[2] for t in trades]
    assert res.trade_bid.tolist() == [t[0] for t in trades]
    assert _same(res.price, price) and res.volume == volume


def _same_clearing(a, b) -> bool:
    arrays = ("bid_fill", "ask_fill", "trade_bid", "trade_ask", "trade_qty", "trade_price")
    return (
        _same(a.price, b.price)
        and a.volume == b.volume
        and a.rule == b.rule
        and all(getattr(a, n).tolist() == getattr(b, n).tolist() for n in arrays)
        and all(getattr(a, n).dtype == getattr(b, n).dtype for n in arrays)
        and a.demand.price.tolist() == b.demand.price.tolist()
        and a.demand.quantity.tolist() == b.demand.quantity.tolist()
        and a.supply.price.tolist() == b.supply.price.tolist()
        and a.supply.quantity.tolist() == b.supply.quantity.tolist()
    )


@SETTINGS
@given(
    bp=st.lists(PRICES, max_size=40),
    books=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
    rule=st.sampled_from(["posted", "posted_proportional", "uniform"]),
)
def test_books_sharing_their_bids_clear_as_each_would_alone(bp, books, seed, rule):
    """:func:`clear_shared_bids` gives, book by book, the same floats as :func:`clear`: rows
    with zero bids, asks of nothing, asks priced above every bid and asks short of demand."""
    rng = np.random.default_rng(seed)
    bp = np.asarray(bp, dtype=np.float64)
    rows = rng.uniform(0.0, 5.0, (books, bp.size)) * (rng.random((books, bp.size)) > 0.2)
    ap = rng.choice([0.5, 2.0, 4.0, 7.5, 11.0], books)
    aq = rng.choice([0.0, 0.3, 3.0, 30.0, 1e9], books) * rng.uniform(0.5, 1.5, books)
    got = clear_shared_bids(bp, rows, ap, aq, rule=rule, k=0.25)
    assert len(got) == books
    for i in range(books):
        alone = clear(bp, rows[i], ap[i : i + 1], aq[i : i + 1], rule, k=0.25)
        assert _same_clearing(got[i], alone)


def test_shared_bids_need_one_row_of_quantities_per_book():
    with pytest.raises(ValueError, match="shape"):
        clear_shared_bids([1.0, 2.0], [[1.0, 1.0]], [1.0, 1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="non-negative"):
        clear_shared_bids([1.0, 2.0], [[1.0, -1.0]], [1.0], [1.0])
