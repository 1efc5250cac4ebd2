"""What each view shows, as rows: pure functions of a :class:`~viz.live.Snapshot`.

No economics here. Margins come from :mod:`runs.report` (the CLI's own aggregation), prices and
volumes from the recorded markets, payments from the ledger, curves and fills from the
auctioneer's results. Charts (:mod:`viz.charts`) and tables (:mod:`viz.components`) draw these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import networkx as nx
import numpy as np
import polars as pl

from agents.base import PRODUCING_LAYERS, Layer, Market
from market.catalogue import MARKET_LABELS
from runs.report import layer_margins
from viz.live import CUSTOMERS, Snapshot
from viz.palette import MARKET_SELLERS, layer_colour, layer_label

#: the markets the views show, upstream first; custom books are drawn with the chips
MARKETS: tuple[str, ...] = ("foundry", "chips", "compute", "tokens", "plans")
#: what one unit of each market's price buys
PRICE_UNITS: dict[str, str] = {
    "foundry": "USD per H100e slot",
    "chips": "USD per effective H100e",
    "custom": "USD per custom H100e",
    "compute": "USD per quality-adjusted H100e-hour",
    "tokens": "USD per M quality-adjusted tokens",
    "plans": "USD per effective seat-quarter",
}
#: short axis titles (the caption and tooltips give the full units)
PRICE_AXIS: dict[str, str] = {
    "foundry": "USD / slot",
    "chips": "USD / H100e",
    "compute": "USD / H100e-hour",
    "tokens": "USD / M tokens",
    "plans": "USD / seat-quarter",
}
VOLUME_AXIS: dict[str, str] = {
    "foundry": "H100e slots",
    "chips": "H100e",
    "compute": "H100e-hours",
    "tokens": "M tokens",
    "plans": "seat-quarters",
}
INCOME_LINES: tuple[tuple[str, str], ...] = (
    ("revenue_usd", "Revenue"),
    ("cost_of_revenue_usd", "Cost of revenue"),
    ("gross_profit_usd", "Gross profit"),
    ("opex_usd", "Operating expenses"),
    ("operating_income_usd", "Operating income"),
)


# ---------------------------------------------------------------------------------------------
# formatting
def usd(value: float | None, cents: bool = False) -> str:
    """Money in words a reader takes in at a glance: $1.23B, $45.6M, $2.20."""
    if value is None or not math.isfinite(value):
        return "—"
    if value == 0:
        return "$0"
    sign = "−" if value < 0 else ""
    v = abs(value)
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if v >= size:
            return f"{sign}${v / size:.3g}{suffix}"
    return f"{sign}${v:.2f}" if cents or v < 100 else f"{sign}${v:.0f}"


def amount(value: float | None) -> str:
    """A quantity with a thousands suffix: 1.2k, 3.4M, 5.6B, 7.8T."""
    if value is None or not math.isfinite(value):
        return "—"
    sign = "−" if value < 0 else ""
    v = abs(value)
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if v >= size:
            return f"{sign}{v / size:.3g}{suffix}"
    return f"{sign}{v:.3g}"


def pct(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{100 * value:.0f}%".replace("-", "−")


# ---------------------------------------------------------------------------------------------
# time
def time_of(period: str) -> float:
    """A period as a year with fractions (2025Q3 → 2025.5), for time axes."""
    return int(period[:4]) + (int(period[-1]) - 1) / 4


def time_domain(snap: Snapshot) -> list[float]:
    """The time axis covers the whole scenario, so lines grow to the right as it runs."""
    first = time_of(snap.start)
    return [first, first + max(snap.horizon, 1) / 4]


def _with_time(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        (
            pl.col("period").str.slice(0, 4).cast(pl.Float64)
            + (pl.col("period").str.slice(5, 1).cast(pl.Float64) - 1) / 4
        ).alias("t")
    )


# ---------------------------------------------------------------------------------------------
# headline
@dataclass(frozen=True, slots=True)
class Headline:
    period: str
    revenue: float
    operating_margin: float | None
    compute_price: float | None
    token_price: float | None


def headline(snap: Snapshot) -> Headline:
    """The last quarter in four numbers: industry revenue and margin, compute and token prices."""
    if snap.quarters == 0:
        return Headline("—", math.nan, None, None, None)
    last = snap.quarters - 1
    firms = snap.firms.filter(pl.col("quarter") == last)
    revenue = float(firms["revenue_usd"].sum())
    income = float(firms["operating_income_usd"].sum())
    prices = dict(
        snap.markets.filter((pl.col("quarter") == last) & (pl.col("book") == ""))
        .select("market", "price_usd")
        .iter_rows()
    )
    return Headline(
        snap.period,
        revenue,
        income / revenue if revenue > 0 else None,
        prices.get("compute"),
        prices.get("tokens"),
    )


# ---------------------------------------------------------------------------------------------
# margins and the profit pool
def layer_quarters(snap: Snapshot) -> pl.DataFrame:
    """Each layer's revenue, profits and margins per quarter (the CLI's aggregation)."""
    frame = layer_margins(snap.firms, by="period")
    return _with_time(frame).with_columns(
        pl.col("layer")
        .replace_strict({str(x): layer_label(x) for x in PRODUCING_LAYERS}, default=pl.col("layer"))
        .alias("label")
    )


def margin_rows(snap: Snapshot) -> list[dict]:
    """Long rows: layer, label, t, period, measure (gross | operating), margin."""
    if snap.firms.is_empty():
        return []
    rows = []
    for r in layer_quarters(snap).iter_rows(named=True):
        for measure in ("gross", "operating"):
            margin = r[f"{measure}_margin"]
            if margin is not None and math.isfinite(margin):
                rows.append(
                    {
                        "layer": r["layer"],
                        "label": r["label"],
                        "t": r["t"],
                        "period": r["period"],
                        "measure": measure,
                        "margin": margin,
                        "margin_text": pct(margin),
                    }
                )
    return rows


def profit_pool_rows(snap: Snapshot, measure: str = "operating") -> list[dict]:
    """Each layer's share of the profit earned in each quarter, stacked.

    The pool is the sum of the profits of the layers that made one, so those shares add up to
    100%; a layer that lost money is drawn below zero as a share of the same pool.
    """
    if snap.firms.is_empty():
        return []
    column = "operating_income_usd" if measure == "operating" else "gross_profit_usd"
    order = {str(x): n for n, x in enumerate(PRODUCING_LAYERS)}
    quarters: dict[float, list[tuple]] = {}
    for r in layer_quarters(snap).select("t", "period", "layer", "label", column).iter_rows():
        quarters.setdefault(r[0], []).append(r)
    rows = []
    for t in sorted(quarters):
        part = sorted(quarters[t], key=lambda r: order.get(r[2], 99))
        pool = sum(r[4] for r in part if r[4] > 0)
        if pool <= 0:
            continue
        up = down = 0.0
        for _, period, layer, label, profit in part:
            share = profit / pool
            if share >= 0:
                lo, hi, up = up, up + share, up + share
            else:
                lo, hi, down = down + share, down, down + share
            rows.append(
                {
                    "layer": layer,
                    "label": label,
                    "t": t,
                    "t2": t + 0.25,
                    "period": period,
                    "lo": lo,
                    "hi": hi,
                    "share": pct(share),
                    "profit": usd(profit),
                }
            )
    return rows


# ---------------------------------------------------------------------------------------------
# markets
def _part_name(snap: Snapshot, part: str) -> str:
    return "spillover" if part == "spillover" else snap.names.get(part, part)


def book_label(snap: Snapshot, market: str, book: str) -> str:
    """A book in words: ``merchant``, ``custom: tpu``, ``Developers``, ``Developers: Cursor``."""
    if market == "custom":
        return f"custom: {book}"
    if market == "chips" and not book:
        return "merchant"
    if not book:
        return MARKET_LABELS.get(market, market)
    return ": ".join(_part_name(snap, part) for part in book.split("/"))


def _drawn_rows(markets: pl.DataFrame) -> pl.DataFrame:
    """One line per book, except where a market records a ``total`` row over its sub-books
    (sellers' own books and a spillover): then only the totals."""
    totals = markets.filter(pl.col("rule") == "total")
    if totals.is_empty():
        return markets
    rest = markets.join(
        totals.select("quarter", "market").unique(), on=["quarter", "market"], how="anti"
    )
    return pl.concat([rest, totals]).sort("quarter", maintain_order=True)


def market_rows(snap: Snapshot) -> list[dict]:
    """Rows per market book and quarter: panel, book label, time, price and volume."""
    if snap.markets.is_empty():
        return []
    frame = _with_time(_drawn_rows(snap.markets))
    segments = {f: n for n, f in enumerate(snap.names)}
    rows = []
    for r in frame.iter_rows(named=True):
        panel = "chips" if r["market"] == "custom" else r["market"]
        if panel not in MARKETS:
            continue
        price = r["price_usd"]
        rank = 0 if r["market"] != "custom" else 1
        rows.append(
            {
                "panel": panel,
                "book": book_label(snap, r["market"], r["book"]),
                "rank": rank * 1000 + segments.get(r["book"].split("/")[0], 0),
                "t": r["t"],
                "period": r["period"],
                "price": price if price is not None and math.isfinite(price) else None,
                "volume": r["volume"],
                "price_text": usd(price, cents=True),
                "volume_text": f"{amount(r['volume'])} {r['unit']}",
            }
        )
    return rows


def market_colour(market: str) -> str:
    return layer_colour(MARKET_SELLERS[Market(market)])


# ---------------------------------------------------------------------------------------------
# the value-chain network
NETWORK_WIDTH = 980
NETWORK_HEIGHT = 350
_TOP, _BOTTOM, _SIDE = 62, 18, 70


@dataclass(frozen=True, slots=True)
class Network:
    nodes: list[dict]
    edges: list[dict]
    headers: list[dict]
    total_usd: float


def network_nodes(snap: Snapshot) -> list[tuple[str, str]]:
    """(node id, layer) of every node: the producing firms, then the end customers."""
    return [(f, snap.layers[f]) for f in snap.producing()] + [(CUSTOMERS, str(Layer.CUSTOMERS))]


@cache
def _positions(nodes: tuple[tuple[str, str], ...]) -> dict[str, tuple[float, float]]:
    """Pixel positions: one column per layer in value-chain order (networkx's layered layout)."""
    layers = [str(x) for x in PRODUCING_LAYERS] + [str(Layer.CUSTOMERS)]
    subsets = {n: [f for f, layer in nodes if layer == name] for n, name in enumerate(layers)}
    subsets = {k: v for k, v in subsets.items() if v}
    graph = nx.Graph()
    graph.add_nodes_from(f for f, _ in nodes)
    pos = nx.multipartite_layout(graph, subset_key=subsets, align="vertical")
    xs = np.array([p[0] for p in pos.values()])
    x_lo, x_hi = float(xs.min()), float(xs.max())
    tallest = max(len(v) for v in subsets.values())
    row = (NETWORK_HEIGHT - _TOP - _BOTTOM) / max(tallest - 1, 1)
    out = {}
    for members in subsets.values():
        for n, firm in enumerate(members):
            x = _SIDE + (pos[firm][0] - x_lo) / max(x_hi - x_lo, 1e-9) * (NETWORK_WIDTH - 2 * _SIDE)
            y = _TOP + (NETWORK_HEIGHT - _TOP - _BOTTOM) / 2 + (n - (len(members) - 1) / 2) * row
            out[firm] = (round(float(x), 1), round(float(y), 1))
    return out


def network(snap: Snapshot) -> Network:
    """Nodes by layer and the money that flowed between them in the last quarter run."""
    nodes = network_nodes(snap)
    pos = _positions(tuple(nodes))
    last = snap.firms.filter(pl.col("quarter") == snap.quarters - 1)
    revenue = dict(last.select("firm", "revenue_usd").iter_rows())
    flows = snap.flows.filter(
        pl.col("payer").is_in(list(pos))
        & pl.col("payee").is_in(list(pos))
        & (pl.col("payer") != pl.col("payee"))
    )
    pairs = flows.group_by("payer", "payee", maintain_order=True).agg(
        pl.col("amount_usd").sum(), pl.col("kind").unique(maintain_order=True)
    )
    top = float(pairs["amount_usd"].max() or 0.0) if pairs.height else 0.0
    edges = []
    for payer, payee, value, kinds in pairs.sort("amount_usd").iter_rows():
        (x1, y1), (x2, y2) = pos[payer], pos[payee]
        width = 0.8 + 13.0 * math.sqrt(value / top) if top > 0 else 1.0
        angle = math.degrees(math.atan2(y2 - y1, x2 - x1))
        edges.append(
            {
                "x": x1,
                "y": y1,
                "x2": x2,
                "y2": y2,
                "mx": x1 + 0.55 * (x2 - x1),
                "my": y1 + 0.55 * (y2 - y1),
                "angle": round(angle, 1),
                "width": round(width, 2),
                "arrow": round(24 + 3 * width**2, 1),
                "colour": layer_colour(snap.layers.get(payee, Layer.CUSTOMERS)),
                "text": f"{_node_name(snap, payer)} → {_node_name(snap, payee)}: {usd(value)} "
                f"({', '.join(k.replace('_', ' ') for k in kinds)})",
            }
        )
    node_rows = []
    for firm, layer in nodes:
        gone = firm in snap.defaulted
        x, y = pos[firm]
        rev = revenue.get(firm)
        node_rows.append(
            {
                "x": x,
                "y": y,
                "name": _node_name(snap, firm) + (" (defaulted)" if gone else ""),
                "layer": layer,
                "colour": layer_colour(layer),
                "opacity": 0.35 if gone else 1.0,
                "size": 90.0
                + (
                    260.0 * math.sqrt(rev / max(revenue.values()))
                    if rev and max(revenue.values()) > 0
                    else 0.0
                ),
                "text": f"{_node_name(snap, firm)} ({layer_label(layer)})"
                + (f": revenue {usd(rev)} this quarter" if rev is not None else "")
                + (" — defaulted" if gone else ""),
            }
        )
    headers = []
    for layer in dict.fromkeys(layer for _, layer in nodes):
        xs = [pos[f][0] for f, lay in nodes if lay == layer]
        headers.append(
            {"x": xs[0], "y": 14.0, "label": layer_label(layer), "colour": layer_colour(layer)}
        )
    return Network(node_rows, edges, headers, float(pairs["amount_usd"].sum() or 0.0))


def _node_name(snap: Snapshot, node: str) -> str:
    return "End customers" if node == CUSTOMERS else snap.names.get(node, node)


# ---------------------------------------------------------------------------------------------
# a firm's income statement
def firm_choices(snap: Snapshot) -> dict[str, str]:
    """Producing firms, value-chain order: id → "Name (layer)"."""
    return {f: f"{snap.names[f]} ({layer_label(snap.layers[f]).lower()})" for f in snap.producing()}


def firm_rows(snap: Snapshot, firm: str) -> list[dict]:
    """Long rows of one firm's income-statement lines per quarter (USD per quarter)."""
    frame = snap.firms.filter(pl.col("firm") == firm)
    if frame.is_empty():
        return []
    frame = _with_time(frame).with_columns(
        (pl.col("rnd_usd") + pl.col("sga_usd") + pl.col("other_opex_usd")).alias("opex_usd")
    )
    rows = []
    for r in frame.iter_rows(named=True):
        for column, label in INCOME_LINES:
            rows.append(
                {
                    "t": r["t"],
                    "period": r["period"],
                    "line": label,
                    "value": r[column],
                    "text": usd(r[column]),
                }
            )
    return rows


STATEMENT: tuple[tuple[str, str], ...] = (
    ("revenue_usd", "Revenue"),
    ("cost_of_revenue_usd", "Cost of revenue"),
    ("gross_profit_usd", "Gross profit"),
    ("gross_margin", "Gross margin"),
    ("rnd_usd", "R&D (incl. training)"),
    ("sga_usd", "SG&A"),
    ("other_opex_usd", "Other opex"),
    ("operating_income_usd", "Operating income"),
    ("operating_margin", "Operating margin"),
    ("interest_usd", "Interest"),
    ("capex_usd", "Capex"),
    ("funding_usd", "Funding received"),
    ("cash_cents", "Cash at quarter end"),
)


def statement(snap: Snapshot, firm: str, quarters: int = 4) -> tuple[list[str], list[list[str]]]:
    """The last ``quarters`` income statements of a firm: (periods, rows of label + values)."""
    frame = snap.firms.filter(pl.col("firm") == firm).sort("quarter").tail(quarters)
    periods = frame["period"].to_list()
    rows = []
    for column, label in STATEMENT:
        values = frame[column].to_list()
        if column.endswith("margin"):
            cells = [pct(v) for v in values]
        elif column == "cash_cents":
            cells = [usd(v / 100.0) for v in values]
        else:
            cells = [usd(v) for v in values]
        rows.append([label, *cells])
    return periods, rows


# ---------------------------------------------------------------------------------------------
# the event log
def event_rows(snap: Snapshot, limit: int = 300) -> list[dict]:
    """Newest first: period, kind, firm's layer colour and the text in plain words."""
    frame = snap.events.tail(limit).reverse()
    return [
        {
            "period": period,
            "kind": kind,
            "text": text,
            "colour": layer_colour(snap.layers.get(firm, str(Layer.CUSTOMERS)))
            if firm
            else layer_colour(Layer.CUSTOMERS),
        }
        for _, period, firm, kind, text in frame.iter_rows()
    ]
