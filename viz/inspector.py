"""The quarter inspector: one book's supply and demand curves, its price and who was served."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from agents.base import Layer, Market
from market.catalogue import MARKET_LABELS, UNIT
from viz.live import Snapshot
from viz.palette import layer_colour
from viz.views import PRICE_UNITS, amount, book_label, pct, usd


@dataclass(frozen=True, slots=True)
class Inspection:
    """One book in one quarter: its curves, clearing point and who was served."""

    market: str
    book: str
    period: str
    rule: str
    price: float | None
    volume: float
    curves: list[dict]
    parties: list[dict]
    log_price: bool
    x_max: float
    price_unit: str
    unit: str


def book_choices(snap: Snapshot, quarter: int) -> dict[str, str]:
    """The books cleared in ``quarter``: key (``market`` or ``market/book``) → label."""
    if not 0 <= quarter < len(snap.books):
        return {}
    out = {}
    for market, book in snap.books[quarter].clearings:
        key = f"{market}/{book}" if book else market
        label = MARKET_LABELS.get(market, market)
        out[key] = (
            f"{label}: {book_label(snap, market, book)}"
            if book
            else ("Chips (merchant)" if market == "chips" else label)
        )
    order = {
        m: n for n, m in enumerate(("foundry", "chips", "custom", "compute", "tokens", "plans"))
    }
    return dict(sorted(out.items(), key=lambda kv: (order.get(kv[0].split("/")[0], 9), kv[0])))


def pick_book(choices: dict[str, str], wanted: str) -> str:
    """``wanted`` if it cleared; else its first sub-book, or the book it is part of; else the
    first book."""
    if wanted in choices:
        return wanted
    below = next((k for k in choices if k.startswith(wanted + "/")), None)
    if below:
        return below
    parts = wanted.split("/")
    while len(parts) > 1:
        parts.pop()
        if "/".join(parts) in choices:
            return "/".join(parts)
    return next(iter(choices), "")


def _steps(price: np.ndarray, quantity: np.ndarray, side: str) -> list[dict]:
    """A step curve as a polyline: flat at each price level up to its cumulative quantity."""
    rows, q_prev, order = [], 0.0, 0
    for p, q in zip(price.tolist(), quantity.tolist(), strict=True):
        p_text, q_text = usd(p, cents=True), amount(q)
        rows.append(
            {"side": side, "q": q_prev, "p": p, "order": order, "p_text": p_text, "q_text": q_text}
        )
        rows.append(
            {"side": side, "q": q, "p": p, "order": order + 1, "p_text": p_text, "q_text": q_text}
        )
        q_prev, order = q, order + 2
    return rows


def outcome(side: str, wanted: float, got: float, at_price: float) -> str:
    tol = 1e-6 * max(wanted, 1e-12)
    if got >= wanted - tol:
        return "served in full" if side == "bid" else "sold all it offered"
    if got <= tol and at_price <= tol:
        return "priced out" if side == "bid" else "priced above every buyer"
    if got >= at_price - tol:
        return (
            "served down to the price; lower bids unfilled"
            if side == "bid"
            else "sold all it offered at the price; dearer asks unsold"
        )
    share = got / at_price if at_price > 0 else 0.0
    return (
        f"rationed: got {pct(share)} of what it bid for at the price"
        if side == "bid"
        else f"sold {pct(share)} of what it offered at the price"
    )


def inspect(snap: Snapshot, quarter: int, key: str) -> Inspection | None:
    """The supply and demand of one book (``market`` or ``market/book``) in one quarter."""
    if not 0 <= quarter < len(snap.books):
        return None
    market, _, book = key.partition("/")
    books = snap.books[quarter]
    res = books.clearings.get((market, book))
    if res is None:
        return None
    orders = books.orders.filter((pl.col("market") == market) & (pl.col("book") == book))
    price = None if math.isnan(res.price) else float(res.price)
    curves = _steps(res.demand.price, res.demand.quantity, "demand") + _steps(
        res.supply.price, res.supply.quantity, "supply"
    )
    bids = orders.filter(pl.col("side") == "bid")
    asks = orders.filter(pl.col("side") == "ask")
    if res.rule == "uniform" or price is None:
        bid_line = ask_line = price if price is not None else math.inf
    else:  # posted: a bid could buy from the cheapest ask; an ask could sell to the dearest bid
        bid_line = float(asks["price"].min()) if asks.height else math.inf
        ask_line = float(bids["price"].max()) if bids.height else -math.inf
    parties = []
    for side, frame, line in (("bid", bids, bid_line), ("ask", asks, ask_line)):
        in_money = (pl.col("price") >= line) if side == "bid" else (pl.col("price") <= line)
        grouped = frame.group_by("firm", maintain_order=True).agg(
            pl.len().alias("orders"),
            pl.col("price").min().alias("lo"),
            pl.col("price").max().alias("hi"),
            pl.col("qty").sum().alias("wanted"),
            pl.col("fill").sum().alias("got"),
            pl.col("qty").filter(in_money).sum().alias("at_price"),
        )
        for firm, n, lo, hi, wanted, got, at_price in grouped.sort(
            "hi" if side == "bid" else "lo", descending=side == "bid"
        ).iter_rows():
            layer = snap.layers.get(firm, str(Layer.CUSTOMERS))
            parties.append(
                {
                    "side": side,
                    "firm": firm,
                    "name": snap.names.get(firm, firm),
                    "colour": layer_colour(layer),
                    "orders": n,
                    "price": usd(lo, cents=True)
                    if math.isclose(lo, hi)
                    else f"{usd(lo, cents=True)}–{usd(hi, cents=True)}",
                    "wanted": amount(wanted),
                    "got": amount(got),
                    "outcome": outcome(side, wanted, got, at_price),
                }
            )
    positive = [r["p"] for r in curves if r["p"] > 0]
    log_price = bool(positive) and max(positive) / min(positive) > 50
    if log_price:
        curves = [r for r in curves if r["p"] > 0]
    demand_total = float(res.demand.quantity[-1]) if res.demand.quantity.size else 0.0
    supply_total = float(res.supply.quantity[-1]) if res.supply.quantity.size else 0.0
    reach = max(res.volume, min(demand_total, supply_total))
    x_max = 1.6 * reach if reach > 0 else max(demand_total, supply_total, 1.0)
    return Inspection(
        market,
        book,
        snap.period_of(quarter),
        res.rule,
        price,
        res.volume,
        curves,
        parties,
        log_price,
        x_max,
        PRICE_UNITS.get(market, "USD"),
        UNIT.get(Market(market), ""),
    )
