"""Delivery of fills: the fast constructor makes the same frozen Fill, and each firm gets its
fills in trade order, firms that do not read them none."""

from __future__ import annotations

import dataclasses
import math

import pytest

from agents.protocol import Fill, Order
from economy.clearing import Trade, Trades
from economy.delivery import FILL_FIELDS, fills_by_firm, new_fill
from market.catalogue import Market, Side


def test_fill_fields_are_the_ones_the_fast_constructor_sets():
    assert tuple(f.name for f in dataclasses.fields(Fill)) == FILL_FIELDS
    assert new_fill is not Fill  # else the fast path silently fell back


def test_new_fill_is_an_equal_frozen_fill():
    args = (Market.PLANS, "consumer", Side.ASK, 2.5, 20.0, "plan", 1.25, 0.5, "openai")
    fast, slow = new_fill(*args), Fill(*args)
    assert type(fast) is Fill
    assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
    assert [getattr(fast, n) for n in FILL_FIELDS] == list(args)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.qty = 1.0


def test_fills_by_firm_in_trade_order_and_only_to_listeners():
    bid_a = Order(Market.TOKENS, Side.BID, "app", 3.0, 10.0, tag="api", factor=1.0)
    bid_s = Order(Market.TOKENS, Side.BID, "segment", 2.0, 5.0)
    ask = Order(Market.TOKENS, Side.ASK, "lab", 1.0, 20.0, factor=2.0)
    trades = [Trade(bid_a, ask, 4.0, 1.0), Trade(bid_s, ask, 5.0, 1.0), Trade(bid_a, ask, 6.0, 1.0)]
    fills = fills_by_firm(Market.TOKENS, trades, {"app": True, "segment": False, "lab": True})
    assert sorted(fills) == ["app", "lab"]
    assert [f.qty for f in fills["app"]] == [4.0, 6.0]
    assert [f.qty for f in fills["lab"]] == [4.0, 5.0, 6.0]
    assert [f.counterparty for f in fills["lab"]] == ["app", "segment", "app"]
    first = fills["app"][0]
    assert first == Fill(Market.TOKENS, "", Side.BID, 4.0, 1.0, "api", 1.0, 2.0, "lab")


def test_trades_columns_iterate_as_trades_and_sum_exactly():
    bid = Order(Market.CHIPS, Side.BID, "cloud", 3.0, 10.0, tag="capex")
    ask = Order(Market.CHIPS, Side.ASK, "nvidia", 1.0, 20.0)
    listed = [Trade(bid, ask, 0.1, 3.0), Trade(bid, ask, 0.2, 3.0), Trade(bid, ask, 1e16, 1.0)]
    cols = Trades()
    for t in listed[:2]:
        cols.append(*t)
    cols.extend(Trades([bid], [ask], [1e16], [1.0]))
    assert len(cols) == 3 and list(cols) == [tuple(t) for t in listed]
    assert cols.as_list() == listed
    assert cols.volume() == math.fsum([0.1, 0.2, 1e16])
    assert cols.value() == math.fsum([0.1 * 3.0, 0.2 * 3.0, 1e16])
    listens = {"cloud": True, "nvidia": True}
    assert fills_by_firm(Market.CHIPS, cols, listens) == fills_by_firm(
        Market.CHIPS, listed, listens
    )
