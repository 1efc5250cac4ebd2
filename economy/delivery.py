"""Delivery: every trade of a market told, as a :class:`~agents.protocol.Fill`, to the firms on
both sides, each firm once with all its fills in trade order, firms in sorted order of their ids.

A run delivers tens of thousands of fills. A frozen dataclass's ``__init__`` sets each field
through ``object.__setattr__``; :data:`new_fill` sets the same slots directly, which makes the
same (equal, frozen) :class:`Fill` in a quarter of the time. Should ``Fill`` gain a field or a
``__post_init__``, :data:`new_fill` is ``Fill`` itself.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from agents.protocol import Fill
from market.catalogue import Market, Side

if TYPE_CHECKING:
    from agents.protocol import Observation, Order

FILL_FIELDS = (
    "market",
    "book",
    "side",
    "qty",
    "price",
    "tag",
    "factor",
    "counter_factor",
    "counterparty",
)


def _fill_maker() -> Callable[..., Fill]:
    names = tuple(f.name for f in dataclasses.fields(Fill))
    if names != FILL_FIELDS or "__post_init__" in vars(Fill) or "__slots__" not in vars(Fill):
        return Fill
    s0, s1, s2, s3, s4, s5, s6, s7, s8 = (vars(Fill)[n].__set__ for n in names)
    new = object.__new__

    def make(market, book, side, qty, price, tag, factor, counter_factor, counterparty) -> Fill:
        fill = new(Fill)
        s0(fill, market)
        s1(fill, book)
        s2(fill, side)
        s3(fill, qty)
        s4(fill, price)
        s5(fill, tag)
        s6(fill, factor)
        s7(fill, counter_factor)
        s8(fill, counterparty)
        return fill

    return make


#: ``new_fill(market, book, side, qty, price, tag, factor, counter_factor, counterparty)``
new_fill: Callable[..., Fill] = _fill_maker()


def fills_by_firm(
    market: Market,
    trades: Iterable[tuple[Order, Order, float, float]],
    listens: Mapping[str, bool],
) -> dict[str, list[Fill]]:
    """Each firm's fills in ``market``, in trade order; firms that do not ``listen`` get none."""
    fills: dict[str, list[Fill]] = defaultdict(list)
    make = new_fill
    bid_side, ask_side = Side.BID, Side.ASK
    for bid, ask, qty, price in trades:
        if listens[bid.firm]:
            fills[bid.firm].append(
                make(
                    market,
                    bid.book,
                    bid_side,
                    qty,
                    price,
                    bid.tag,
                    bid.factor,
                    ask.factor,
                    ask.firm,
                )
            )
        if listens[ask.firm]:
            fills[ask.firm].append(
                make(
                    market,
                    ask.book,
                    ask_side,
                    qty,
                    price,
                    ask.tag,
                    ask.factor,
                    bid.factor,
                    bid.firm,
                )
            )
    return fills


def deliver_fills(
    market: Market,
    trades: Iterable[tuple[Order, Order, float, float]],
    firms: Mapping[str, Any],
    listens: Mapping[str, bool],
    obs: Observation,
) -> None:
    """Tell every listening firm its fills in ``market``, firms in sorted order of their ids."""
    fills = fills_by_firm(market, trades, listens)
    for firm_id in sorted(fills):
        firms[firm_id].receive(fills[firm_id], obs)
