"""Table tests for the pure call auction in :mod:`market.auction`.

Each case is data: the two books, the rule (and ``k``), and the expected price, volume and fills.
Expected trades are checked too where a case lists them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from market.auction import RULES, Clearing, clear

NAN = float("nan")


def case(
    case_id: str,
    bids: list[tuple[float, float]],
    asks: list[tuple[float, float]],
    price: float,
    volume: float,
    bid_fill: list[float],
    ask_fill: list[float],
    rule: str = "uniform",
    k: float = 0.5,
    trades: list[tuple[int, int, float, float]] | None = None,
):
    """One row of the table.

    ``bids``/``asks`` are (price, qty) pairs; ``trades``, if given, (bid, ask, qty, price) rows.
    """
    return pytest.param(
        dict(
            bids=bids,
            asks=asks,
            rule=rule,
            k=k,
            price=price,
            volume=volume,
            bid_fill=bid_fill,
            ask_fill=ask_fill,
            trades=trades,
        ),
        id=case_id,
    )


UNIFORM_CASES = [
    case(
        "simple-cross",
        bids=[(10, 5)],
        asks=[(6, 5)],
        price=8,
        volume=5,
        bid_fill=[5],
        ask_fill=[5],
        trades=[(0, 0, 5, 8)],
    ),
    case(
        "simple-cross-several-orders",
        bids=[(10, 2), (8, 3), (6, 4)],
        asks=[(5, 3), (7, 2), (9, 5)],
        # 10x5 for 2, 8x5 for 1, 8x7 for 2; then 6 < 9 stops. interval [max(7, 6), min(8, 9)]
        price=7.5,
        volume=5,
        bid_fill=[2, 3, 0],
        ask_fill=[3, 2, 0],
        trades=[(0, 0, 2, 7.5), (1, 0, 1, 7.5), (1, 1, 2, 7.5)],
    ),
    case(
        "orders-given-unsorted",
        bids=[(6, 4), (10, 2), (8, 3)],
        asks=[(9, 5), (7, 2), (5, 3)],
        price=7.5,
        volume=5,
        bid_fill=[0, 2, 3],
        ask_fill=[0, 2, 3],
        trades=[(1, 2, 2, 7.5), (2, 2, 1, 7.5), (2, 1, 2, 7.5)],
    ),
    case(
        "no-cross",
        bids=[(5, 3)],
        asks=[(6, 3)],
        price=NAN,
        volume=0,
        bid_fill=[0],
        ask_fill=[0],
        trades=[],
    ),
    case(
        "no-cross-many",
        bids=[(5, 3), (4, 1), (1, 9)],
        asks=[(5.5, 3), (8, 2)],
        price=NAN,
        volume=0,
        bid_fill=[0, 0, 0],
        ask_fill=[0, 0],
    ),
    case(
        "equal-prices-trade",
        bids=[(7, 2)],
        asks=[(7, 3)],
        price=7,
        volume=2,
        bid_fill=[2],
        ask_fill=[2],
    ),
    case(
        "partial-marginal-bid-asks-run-out",
        bids=[(10, 3), (8, 4)],
        asks=[(5, 5)],
        price=8,
        volume=5,
        bid_fill=[3, 2],
        ask_fill=[5],
    ),
    case(
        "partial-marginal-bid-next-ask-too-dear",
        bids=[(10, 3), (8, 4)],
        asks=[(5, 5), (9, 10)],
        price=8,
        volume=5,
        bid_fill=[3, 2],
        ask_fill=[5, 0],
        trades=[(0, 0, 3, 8), (1, 0, 2, 8)],
    ),
    case(
        "partial-marginal-bid-ignores-k-0",
        bids=[(10, 3), (8, 4)],
        asks=[(5, 5), (9, 10)],
        k=0.0,
        price=8,
        volume=5,
        bid_fill=[3, 2],
        ask_fill=[5, 0],
    ),
    case(
        "partial-marginal-bid-ignores-k-1",
        bids=[(10, 3), (8, 4)],
        asks=[(5, 5), (9, 10)],
        k=1.0,
        price=8,
        volume=5,
        bid_fill=[3, 2],
        ask_fill=[5, 0],
    ),
    case(
        "partial-marginal-ask-bids-run-out",
        bids=[(10, 5)],
        asks=[(4, 2), (7, 6)],
        price=7,
        volume=5,
        bid_fill=[5],
        ask_fill=[2, 3],
        trades=[(0, 0, 2, 7), (0, 1, 3, 7)],
    ),
    case(
        "partial-marginal-ask-next-bid-too-low",
        bids=[(10, 5), (6, 4)],
        asks=[(4, 2), (7, 6)],
        price=7,
        volume=5,
        bid_fill=[5, 0],
        ask_fill=[2, 3],
    ),
    case(
        "partial-marginal-ask-ignores-k-1",
        bids=[(10, 5), (6, 4)],
        asks=[(4, 2), (7, 6)],
        k=1.0,
        price=7,
        volume=5,
        bid_fill=[5, 0],
        ask_fill=[2, 3],
    ),
    # wide interval [4, 10]: nothing left on either side inside it
    case(
        "k=0-sellers-end",
        bids=[(10, 5), (3, 5)],
        asks=[(4, 5), (12, 5)],
        k=0.0,
        price=4,
        volume=5,
        bid_fill=[5, 0],
        ask_fill=[5, 0],
    ),
    case(
        "k=1-buyers-end",
        bids=[(10, 5), (3, 5)],
        asks=[(4, 5), (12, 5)],
        k=1.0,
        price=10,
        volume=5,
        bid_fill=[5, 0],
        ask_fill=[5, 0],
    ),
    case(
        "k=0.25",
        bids=[(10, 5), (3, 5)],
        asks=[(4, 5), (12, 5)],
        k=0.25,
        price=5.5,
        volume=5,
        bid_fill=[5, 0],
        ask_fill=[5, 0],
    ),
    # interval narrowed by the orders left out: [max(4, 6), min(10, 8)] = [6, 8]
    case(
        "k=0-narrowed-by-wanting-bid",
        bids=[(10, 5), (6, 5)],
        asks=[(4, 5), (8, 5)],
        k=0.0,
        price=6,
        volume=5,
        bid_fill=[5, 0],
        ask_fill=[5, 0],
    ),
    case(
        "k=1-narrowed-by-unsold-ask",
        bids=[(10, 5), (6, 5)],
        asks=[(4, 5), (8, 5)],
        k=1.0,
        price=8,
        volume=5,
        bid_fill=[5, 0],
        ask_fill=[5, 0],
    ),
    case(
        "tie-bids-earlier-first",
        bids=[(9, 2), (9, 2), (9, 2)],
        asks=[(5, 3)],
        price=9,
        volume=3,
        bid_fill=[2, 1, 0],
        ask_fill=[3],
        trades=[(0, 0, 2, 9), (1, 0, 1, 9)],
    ),
    case(
        "tie-bids-interleaved",
        bids=[(7, 2), (9, 2), (7, 2)],
        asks=[(5, 3)],
        price=7,
        volume=3,
        bid_fill=[1, 2, 0],
        ask_fill=[3],
        trades=[(1, 0, 2, 7), (0, 0, 1, 7)],
    ),
    case(
        "tie-asks-earlier-first",
        bids=[(9, 3)],
        asks=[(5, 2), (5, 2), (5, 2)],
        price=5,
        volume=3,
        bid_fill=[3],
        ask_fill=[2, 1, 0],
        trades=[(0, 0, 2, 5), (0, 1, 1, 5)],
    ),
    case(
        "tie-asks-interleaved",
        bids=[(9, 3)],
        asks=[(6, 2), (4, 2), (6, 2)],
        price=6,
        volume=3,
        bid_fill=[3],
        ask_fill=[1, 2, 0],
    ),
    # counted, the zero orders would make the interval [max(6, 9), min(10, 7)]: they are ignored
    case(
        "zero-qty-ignored",
        bids=[(10, 5), (9, 0)],
        asks=[(6, 5), (7, 0)],
        price=8,
        volume=5,
        bid_fill=[5, 0],
        ask_fill=[5, 0],
        trades=[(0, 0, 5, 8)],
    ),
    case(
        "zero-qty-best-prices-ignored",
        bids=[(20, 0), (10, 5)],
        asks=[(1, 0), (6, 5)],
        price=8,
        volume=5,
        bid_fill=[0, 5],
        ask_fill=[0, 5],
    ),
    case(
        "all-zero-qty",
        bids=[(10, 0)],
        asks=[(1, 0)],
        price=NAN,
        volume=0,
        bid_fill=[0],
        ask_fill=[0],
        trades=[],
    ),
    case("empty-books", bids=[], asks=[], price=NAN, volume=0, bid_fill=[], ask_fill=[], trades=[]),
    case("no-asks", bids=[(10, 5)], asks=[], price=NAN, volume=0, bid_fill=[0], ask_fill=[]),
    case("no-bids", bids=[], asks=[(1, 5)], price=NAN, volume=0, bid_fill=[], ask_fill=[0]),
    case(
        "fractional-quantities",
        bids=[(3.0, 0.25), (2.0, 0.5)],
        asks=[(1.0, 0.5)],
        price=2.0,
        volume=0.5,
        bid_fill=[0.25, 0.25],
        ask_fill=[0.5],
    ),
]

POSTED_CASES = [
    case(
        "posted-each-ask-own-price",
        rule="posted",
        bids=[(10, 5)],
        asks=[(4, 2), (6, 2), (12, 5)],
        price=5,
        volume=4,
        bid_fill=[4],
        ask_fill=[2, 2, 0],
        trades=[(0, 0, 2, 4), (0, 1, 2, 6)],
    ),
    case(
        "posted-single-trade",
        rule="posted",
        bids=[(10, 5)],
        asks=[(6, 5)],
        price=6,
        volume=5,
        bid_fill=[5],
        ask_fill=[5],
        trades=[(0, 0, 5, 6)],
    ),
    case(
        "posted-pro-rata",
        rule="posted",
        bids=[(10, 6), (10, 2)],
        asks=[(5, 4)],
        price=5,
        volume=4,
        bid_fill=[3, 1],
        ask_fill=[4],
        trades=[(0, 0, 3, 5), (1, 0, 1, 5)],
    ),
    # priority: the 12-bid is served first and takes the whole ask
    case(
        "posted-highest-bid-first",
        rule="posted",
        bids=[(7, 1), (12, 3)],
        asks=[(5, 2)],
        price=5,
        volume=2,
        bid_fill=[0, 2],
        ask_fill=[2],
    ),
    case(
        "posted-proportional-different-bid-prices",
        rule="posted_proportional",
        bids=[(7, 1), (12, 3)],
        asks=[(5, 2)],
        price=5,
        volume=2,
        bid_fill=[0.5, 1.5],
        ask_fill=[2],
    ),
    # a higher group is served in full before a tie group below shares what is left
    case(
        "posted-priority-then-ties-pro-rata",
        rule="posted",
        bids=[(6, 2), (9, 1), (6, 6)],
        asks=[(5, 5)],
        price=5,
        volume=5,
        bid_fill=[1, 1, 3],
        ask_fill=[5],
        trades=[(1, 0, 1, 5), (0, 0, 1, 5), (2, 0, 3, 5)],
    ),
    case(
        "posted-undersubscribed-all-served",
        rule="posted",
        bids=[(10, 1), (8, 2)],
        asks=[(5, 10)],
        price=5,
        volume=3,
        bid_fill=[1, 2],
        ask_fill=[3],
    ),
    # priority: the 4-ask goes to the 10-bid, which the 8-ask then tops up; the 5-bid gets none
    case(
        "posted-low-bid-not-served-by-dear-ask",
        rule="posted",
        bids=[(10, 3), (5, 3)],
        asks=[(4, 2), (8, 10)],
        price=16 / 3,
        volume=3,
        bid_fill=[3, 0],
        ask_fill=[2, 1],
        trades=[(0, 0, 2, 4), (0, 1, 1, 8)],
    ),
    # proportional: the 4-ask is rationed over both bids (1 each); the 8-ask serves the 10-bid
    case(
        "posted-proportional-low-bid-not-served-by-dear-ask",
        rule="posted_proportional",
        bids=[(10, 3), (5, 3)],
        asks=[(4, 2), (8, 10)],
        price=6,
        volume=4,
        bid_fill=[3, 1],
        ask_fill=[2, 2],
        trades=[(0, 0, 1, 4), (1, 0, 1, 4), (0, 1, 2, 8)],
    ),
    case(
        "posted-no-cross",
        rule="posted",
        bids=[(3, 1)],
        asks=[(4, 1)],
        price=NAN,
        volume=0,
        bid_fill=[0],
        ask_fill=[0],
        trades=[],
    ),
    case(
        "posted-ignores-k",
        rule="posted",
        k=1.0,
        bids=[(10, 5)],
        asks=[(6, 5)],
        price=6,
        volume=5,
        bid_fill=[5],
        ask_fill=[5],
    ),
    case(
        "posted-tie-asks-earlier-first",
        rule="posted",
        bids=[(9, 3)],
        asks=[(5, 2), (5, 2)],
        price=5,
        volume=3,
        bid_fill=[3],
        ask_fill=[2, 1],
        trades=[(0, 0, 2, 5), (0, 1, 1, 5)],
    ),
    case(
        "posted-zero-qty-ignored",
        rule="posted",
        bids=[(10, 0), (8, 4)],
        asks=[(2, 0), (5, 2)],
        price=5,
        volume=2,
        bid_fill=[0, 2],
        ask_fill=[0, 2],
        trades=[(1, 1, 2, 5)],
    ),
    case(
        "posted-empty-books",
        rule="posted",
        bids=[],
        asks=[],
        price=NAN,
        volume=0,
        bid_fill=[],
        ask_fill=[],
        trades=[],
    ),
    case(
        "posted-no-asks",
        rule="posted",
        bids=[(10, 5)],
        asks=[],
        price=NAN,
        volume=0,
        bid_fill=[0],
        ask_fill=[],
    ),
]


def _run(c: dict) -> Clearing:
    bids = np.asarray(c["bids"], dtype=float).reshape(-1, 2)
    asks = np.asarray(c["asks"], dtype=float).reshape(-1, 2)
    return clear(bids[:, 0], bids[:, 1], asks[:, 0], asks[:, 1], rule=c["rule"], k=c["k"])


def _check(res: Clearing, c: dict) -> None:
    assert res.rule == c["rule"]
    if math.isnan(c["price"]):
        assert math.isnan(res.price)
    else:
        assert res.price == pytest.approx(c["price"], rel=1e-12, abs=1e-12)
    assert res.volume == pytest.approx(c["volume"], rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(res.bid_fill, np.asarray(c["bid_fill"], dtype=float), atol=1e-12)
    np.testing.assert_allclose(res.ask_fill, np.asarray(c["ask_fill"], dtype=float), atol=1e-12)
    assert res.bid_fill.shape == (len(c["bids"]),)
    assert res.ask_fill.shape == (len(c["asks"]),)
    if c["trades"] is not None:
        exp = np.asarray(c["trades"], dtype=float).reshape(-1, 4)
        np.testing.assert_array_equal(res.trade_bid, exp[:, 0].astype(np.int64))
        np.testing.assert_array_equal(res.trade_ask, exp[:, 1].astype(np.int64))
        np.testing.assert_allclose(res.trade_qty, exp[:, 2], atol=1e-12)
        np.testing.assert_allclose(res.trade_price, exp[:, 3], atol=1e-12)


@pytest.mark.parametrize("c", UNIFORM_CASES + POSTED_CASES)
def test_clear_table(c: dict) -> None:
    _check(_run(c), c)


@pytest.mark.parametrize("c", UNIFORM_CASES + POSTED_CASES)
def test_clear_table_is_deterministic(c: dict) -> None:
    a, b = _run(c), _run(c)
    for name in ("bid_fill", "ask_fill", "trade_bid", "trade_ask", "trade_qty", "trade_price"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    np.testing.assert_array_equal(a.price, b.price)  # nan == nan here
    assert a.volume == b.volume


def test_trade_arrays_have_right_dtypes_when_empty() -> None:
    res = clear([], [], [], [])
    assert res.trade_bid.dtype == np.int64 and res.trade_bid.size == 0
    assert res.trade_ask.dtype == np.int64 and res.trade_ask.size == 0
    assert res.trade_qty.dtype == np.float64 and res.trade_qty.size == 0
    assert res.trade_price.dtype == np.float64 and res.trade_price.size == 0
    assert res.demand.price.size == res.demand.quantity.size == 0
    assert res.supply.price.size == res.supply.quantity.size == 0
    assert res.demand_at_price == 0.0 and res.supply_at_price == 0.0


# --- curves --------------------------------------------------------------------------------------

CURVE_BIDS = [(10, 2), (8, 3), (6, 4), (8, 1)]
CURVE_ASKS = [(9, 5), (5, 3), (7, 2), (7, 1)]


@pytest.mark.parametrize(
    ("rule", "k", "price"),
    [("uniform", 0.0, 7.0), ("uniform", 0.5, 7.5), ("uniform", 1.0, 8.0)],
    ids=["k=0", "k=0.5", "k=1"],
)
def test_curves_and_quantities_at_price(rule: str, k: float, price: float) -> None:
    bp, bq = np.array(CURVE_BIDS, dtype=float).T
    ap, aq = np.array(CURVE_ASKS, dtype=float).T
    res = clear(bp, bq, ap, aq, rule=rule, k=k)

    # one step per distinct price; cumulative quantity at that price or better
    np.testing.assert_array_equal(res.demand.price, [10, 8, 6])
    np.testing.assert_array_equal(res.demand.quantity, [2, 6, 10])
    np.testing.assert_array_equal(res.supply.price, [5, 7, 9])
    np.testing.assert_array_equal(res.supply.quantity, [3, 6, 11])
    assert np.all(np.diff(res.demand.price) < 0) and np.all(np.diff(res.demand.quantity) >= 0)
    assert np.all(np.diff(res.supply.price) > 0) and np.all(np.diff(res.supply.quantity) >= 0)

    # 10, 8, 8 buy 6 from 5, 7, 7; the 6-bid and 9-ask are left out: interval [7, 8]
    assert res.volume == pytest.approx(6.0)
    assert res.price == pytest.approx(price)
    np.testing.assert_allclose(res.bid_fill, [2, 3, 0, 1])
    np.testing.assert_allclose(res.ask_fill, [0, 3, 2, 1])
    assert res.demand_at_price == pytest.approx(6.0)
    assert res.supply_at_price == pytest.approx(6.0)


def test_quantities_at_price_between_and_off_steps() -> None:
    # interval [4, 10] with k=0.5 -> p = 7, strictly between the steps on both sides
    res = clear([10, 3], [5, 5], [4, 12], [5, 5])
    assert res.price == pytest.approx(7.0)
    assert res.demand_at_price == pytest.approx(5.0)
    assert res.supply_at_price == pytest.approx(5.0)
    np.testing.assert_array_equal(res.demand.price, [10, 3])
    np.testing.assert_array_equal(res.demand.quantity, [5, 10])
    np.testing.assert_array_equal(res.supply.price, [4, 12])
    np.testing.assert_array_equal(res.supply.quantity, [5, 10])


def test_quantities_at_price_zero_when_nothing_trades() -> None:
    res = clear([5], [3], [6], [3])
    assert math.isnan(res.price)
    assert res.demand_at_price == 0.0
    assert res.supply_at_price == 0.0
    np.testing.assert_array_equal(res.demand.quantity, [3])
    np.testing.assert_array_equal(res.supply.quantity, [3])


def test_posted_curves_are_built_too() -> None:
    bp, bq = np.array(CURVE_BIDS, dtype=float).T
    ap, aq = np.array(CURVE_ASKS, dtype=float).T
    res = clear(bp, bq, ap, aq, rule="posted")
    np.testing.assert_array_equal(res.demand.price, [10, 8, 6])
    np.testing.assert_array_equal(res.demand.quantity, [2, 6, 10])
    np.testing.assert_array_equal(res.supply.price, [5, 7, 9])
    np.testing.assert_array_equal(res.supply.quantity, [3, 6, 11])


def test_inputs_are_not_mutated() -> None:
    bp, bq = np.array([10.0, 8.0]), np.array([3.0, 4.0])
    ap, aq = np.array([5.0, 9.0]), np.array([5.0, 10.0])
    copies = [a.copy() for a in (bp, bq, ap, aq)]
    for rule in RULES:
        clear(bp, bq, ap, aq, rule=rule)
    for a, b in zip((bp, bq, ap, aq), copies, strict=True):
        np.testing.assert_array_equal(a, b)


# --- errors --------------------------------------------------------------------------------------

ERROR_CASES = [
    pytest.param(dict(bid_price=[1, 2], bid_qty=[1]), "differ in length", id="bid-lengths"),
    pytest.param(dict(ask_price=[1], ask_qty=[1, 2]), "differ in length", id="ask-lengths"),
    pytest.param(dict(bid_qty=[-1.0]), "non-negative", id="negative-bid-qty"),
    pytest.param(dict(ask_qty=[-0.5]), "non-negative", id="negative-ask-qty"),
    pytest.param(dict(bid_price=[NAN]), "finite", id="nan-bid-price"),
    pytest.param(dict(ask_qty=[NAN]), "finite", id="nan-ask-qty"),
    pytest.param(dict(ask_price=[math.inf]), "finite", id="inf-ask-price"),
    pytest.param(dict(bid_qty=[math.inf]), "finite", id="inf-bid-qty"),
    pytest.param(dict(bid_price=[-math.inf]), "finite", id="minus-inf-bid-price"),
    pytest.param(dict(k=-0.1), r"k must lie in \[0, 1\]", id="k-below-0"),
    pytest.param(dict(k=1.1), r"k must lie in \[0, 1\]", id="k-above-1"),
    pytest.param(dict(k=NAN), r"k must lie in \[0, 1\]", id="k-nan"),
    pytest.param(dict(k=2.0, rule="posted"), r"k must lie in \[0, 1\]", id="k-checked-for-posted"),
    pytest.param(
        dict(rule="vickrey"),
        "unknown rule 'vickrey'; allowed: uniform, posted, posted_proportional",
        id="unknown-rule",
    ),
]


@pytest.mark.parametrize(("override", "match"), ERROR_CASES)
def test_clear_rejects_bad_input(override: dict, match: str) -> None:
    kwargs = dict(bid_price=[10.0], bid_qty=[1.0], ask_price=[5.0], ask_qty=[1.0])
    kwargs.update(override)
    with pytest.raises(ValueError, match=match):
        clear(**kwargs)


def test_unknown_rule_message_names_every_allowed_rule() -> None:
    with pytest.raises(ValueError) as err:
        clear([10.0], [1.0], [5.0], [1.0], rule="dutch")  # type: ignore[arg-type]
    for rule in RULES:
        assert rule in str(err.value)
    assert set(RULES) == {"uniform", "posted", "posted_proportional"}
