"""What each view shows, as rows: pure functions of a :class:`~viz.live.Snapshot`.

No economics here. Margins come from :mod:`runs.report` (the CLI's own aggregation), prices and
volumes from the recorded markets, payments from the ledger, curves and fills from the
auctioneer's results. Charts (:mod:`viz.charts`) and tables (:mod:`viz.components`) draw these.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from agents.base import PRODUCING_LAYERS, Layer, Market
from market.catalogue import MARKET_LABELS
from runs.report import LAYERS, layer_margins, profit_pool
from viz.live import Snapshot
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
    "tokens": "M quality-adj. tokens",
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
    if v < 0.01:  # a fraction of a cent: its first figures, never "$0.00"
        return f"{sign}${v:.2g}"
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


def per_quarter(snap: Snapshot, key: tuple, build: Callable[[int], list[dict]]) -> list[dict]:
    """The rows of a view whose rows of a quarter depend on that quarter's records only, in
    quarter order: each quarter's built once a run and kept in the run's memo.

    ``build(since)`` gives the rows (each with its ``period``) of the quarters from ``since`` on,
    quarter by quarter, from the snapshot's frames; it is called for the quarters not yet kept
    only. The result is what ``build(0)`` gives.
    """
    kept: tuple[list[dict], ...] = snap.memo.get(key, ())
    if len(kept) < snap.quarters:
        parts: dict[str, list[dict]] = {
            snap.period_of(q): [] for q in range(len(kept), snap.quarters)
        }
        for row in build(len(kept)):
            parts[row["period"]].append(row)
        kept = (*kept, *parts.values())
        if len(kept) > len(snap.memo.get(key, ())):
            snap.memo[key] = kept
    return [row for part in kept[: snap.quarters] for row in part]


def _memo(snap: Snapshot, key: tuple, make: Callable[[], object]):
    """``make()`` once per snapshot (a run's snapshots differ in their number of quarters)."""
    key = (*key, snap.quarters)
    if key not in snap.memo:
        snap.memo[key] = make()
    return snap.memo[key]


def _since(frame: pl.DataFrame, since: int) -> pl.DataFrame:
    return frame.filter(pl.col("quarter") >= since) if since else frame


# ---------------------------------------------------------------------------------------------
# headline
@dataclass(frozen=True, slots=True)
class Headline:
    period: str
    revenue: float
    operating_margin: float | None
    compute_price: float | None
    token_price: float | None
    model: str = ""
    model_price: float | None = None


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
    model = reference_model(snap)
    return Headline(
        snap.period,
        revenue,
        income / revenue if revenue > 0 else None,
        prices.get("compute"),
        prices.get("tokens"),
        model,
        model_prices(snap, model).get(last),
    )


# ---------------------------------------------------------------------------------------------
# margins and the profit pool
#: how the margins view adds up quarters: each quarter, the four quarters to each, each year
MARGIN_MODES: dict[str, str] = {
    "quarter": "quarterly",
    "rolling": "four-quarter rolling",
    "year": "yearly",
}
_SUMS = ("revenue_usd", "gross_profit_usd", "operating_income_usd")


def _labelled(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col("layer")
        .replace_strict({str(x): layer_label(x) for x in PRODUCING_LAYERS}, default=pl.col("layer"))
        .alias("label")
    )


def layer_quarters(snap: Snapshot, since: int = 0) -> pl.DataFrame:
    """Each layer's revenue, profits and margins per quarter (the CLI's aggregation), of the
    quarters from ``since`` on (worked out once a snapshot: margins and the pool share it)."""

    def make() -> pl.DataFrame:
        return _labelled(_with_time(layer_margins(_since(snap.firms, since), by="period")))

    return _memo(snap, ("layer_quarters", since), make)


def layer_periods(snap: Snapshot, mode: str = "quarter") -> pl.DataFrame:
    """Each layer's margins per quarter (``quarter``), over the four quarters to each quarter
    (``rolling``; fewer in the first three) or per calendar year (``year``, drawn mid-year; the
    current year so far): the profit of its firms together over their revenue."""
    if mode == "quarter":
        return layer_quarters(snap)
    if mode == "year":
        frame = layer_margins(snap.firms, by="year").with_columns(
            (pl.col("year").cast(pl.Float64) + 0.5).alias("t"),
            pl.col("year").cast(pl.String).alias("period"),
        )
        return _labelled(frame)
    if mode != "rolling":
        raise ValueError(f"mode={mode!r}: one of " + ", ".join(MARGIN_MODES))
    frame = layer_quarters(snap).sort("layer", "t")
    rolled = frame.with_columns(
        pl.col(c).rolling_sum(window_size=4, min_samples=1).over("layer") for c in _SUMS
    )
    revenue = pl.col("revenue_usd")
    return rolled.with_columns(
        pl.when(revenue > 0).then(pl.col("gross_profit_usd") / revenue).alias("gross_margin"),
        pl.when(revenue > 0)
        .then(pl.col("operating_income_usd") / revenue)
        .alias("operating_margin"),
    )


def margin_rows(snap: Snapshot, mode: str = "quarter", run: str = "this run") -> list[dict]:
    """Long rows: layer, label, t, period, measure, margin (and the run they belong to)."""
    if snap.firms.is_empty():
        return []
    if mode != "quarter":
        return _margin_rows(layer_periods(snap, mode), run)
    rows = per_quarter(
        snap, ("margins", run), lambda since: _margin_rows(layer_quarters(snap, since), run)
    )
    # layer_margins' order: by layer in value-chain order, then by time (the sort is stable)
    return sorted(rows, key=lambda r: _LAYER_RANK[r["layer"]])


_LAYER_RANK = {layer: n for n, layer in enumerate(LAYERS)}


def _margin_rows(frame: pl.DataFrame, run: str) -> list[dict]:
    rows = []
    for r in frame.iter_rows(named=True):
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
                        "measure_label": f"{measure.capitalize()} margin",
                        "margin": margin,
                        "margin_text": pct(margin),
                        "run": run,
                    }
                )
    return rows


def profit_pool_rows(snap: Snapshot, run: str = "this run") -> list[dict]:
    """Each layer's share of the industry's gross profit per quarter, stacked.

    The profit pool as ``compare`` and sweeps define it (:func:`runs.report.profit_pool`): a
    layer's gross profit over that of all producing layers together, losses included. Shares of
    the layers that made a profit stack up from zero (to 100% or more, when another lost
    money); a loss is drawn below zero. Quarters whose total is not positive are left out.
    """
    if snap.firms.is_empty():
        return []
    return per_quarter(
        snap,
        ("pool", run),
        lambda since: _pool_rows(profit_pool(layer_quarters(snap, since), "period"), run),
    )


def _pool_rows(pool: pl.DataFrame, run: str) -> list[dict]:
    """The stacked rows of a :func:`runs.report.profit_pool` frame (with ``t`` and ``label``)."""
    order = {str(x): n for n, x in enumerate(PRODUCING_LAYERS)}
    quarters: dict[float, list[tuple]] = {}
    columns = ("t", "period", "layer", "label", "gross_profit_usd", "profit_share")
    for r in pool.select(columns).iter_rows():
        quarters.setdefault(r[0], []).append(r)
    rows = []
    for t in sorted(quarters):
        part = sorted(quarters[t], key=lambda r: order.get(r[2], 99))
        up = down = 0.0
        for _, period, layer, label, profit, share in part:
            if share is None:
                continue
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
                    "run": run,
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


def reference_model(snap: Snapshot) -> str:
    """The model token prices are quoted in: the one that has served the most tokens so far."""
    if snap.models.is_empty():
        return ""
    return _memo(snap, ("reference_model",), lambda: _most_used(snap.models))


def _most_used(models: pl.DataFrame) -> str:
    used = (
        models.group_by("model")
        .agg(pl.col("tokens_m").sum())
        .sort(["tokens_m", "model"], descending=[True, False])
    )
    return str(used["model"][0])


def model_prices(snap: Snapshot, model: str) -> dict[int, float]:
    """Quarter → USD per M tokens of ``model`` at the token market's price."""
    return _memo(snap, ("model_prices", model), lambda: _model_prices(snap, model))


def _model_prices(snap: Snapshot, model: str) -> dict[int, float]:
    rows = snap.models.filter(pl.col("model") == model).select("quarter", "price_usd_per_mtok")
    return {q: p for q, p in rows.iter_rows() if p is not None and math.isfinite(p)}


def named_token_price(snap: Snapshot, quarter: int, book: str, price: float | None) -> str:
    """``(= $2.26 per M tokens of OpenAI frontier) ``: a token book's quality-adjusted
    ``price`` in ``quarter`` per M tokens of its seller's model (of the most-used model for a
    book of several sellers): the price times the model's quality-adjusted tokens per token."""
    owner = book.split("/")[0]
    rows = snap.models.filter(pl.col("quarter") == quarter)
    mine = rows.filter(pl.col("owner") == owner)
    if mine.is_empty():
        mine = rows.filter(pl.col("model") == reference_model(snap))
    if mine.is_empty() or price is None:
        return ""
    model, value = mine.select("model", "token_value").row(0)
    return f"(= {usd(price * value, cents=True)} per M tokens of {model}) "


def token_price_text(per_model: float | None, model: str, adjusted: float | None) -> str:
    """``$2.26 per M tokens of OpenAI frontier ($0.50 per M quality-adjusted)``."""
    if per_model is None:
        return f"{usd(adjusted, cents=True)} per M quality-adjusted tokens"
    return (
        f"{usd(per_model, cents=True)} per M tokens of {model} "
        f"({usd(adjusted, cents=True)} per M quality-adjusted)"
    )


def market_rows(snap: Snapshot, run: str = "this run") -> list[dict]:
    """Rows per market book and quarter: panel, book label, time, price and volume.

    Token prices are quoted per M tokens of the most-used model (the reader's "price per
    million tokens" of a named model), with the quality-adjusted price in the text beside it.
    """
    if snap.markets.is_empty():
        return []
    model = reference_model(snap)
    # a quarter's token rows are quoted in the model most used so far: rebuilt when it changes
    return per_quarter(
        snap, ("markets", run, model), lambda since: _market_rows(snap, since, model, run)
    )


def _market_rows(snap: Snapshot, since: int, model: str, run: str) -> list[dict]:
    frame = _with_time(_drawn_rows(_since(snap.markets, since)))
    segments = {f: n for n, f in enumerate(snap.names)}
    per_model = model_prices(snap, model)
    rows = []
    for r in frame.iter_rows(named=True):
        panel = "chips" if r["market"] == "custom" else r["market"]
        if panel not in MARKETS:
            continue
        price = r["price_usd"]
        price = price if price is not None and math.isfinite(price) else None
        rank = 0 if r["market"] != "custom" else 1
        book = book_label(snap, r["market"], r["book"])
        text = usd(price, cents=True)
        if panel == "tokens":
            quoted = per_model.get(r["quarter"])
            text = token_price_text(quoted, model, price)
            book, price = (model, quoted) if quoted is not None else (book, price)
        rows.append(
            {
                "panel": panel,
                "book": book,
                "rank": rank * 1000 + segments.get(r["book"].split("/")[0], 0),
                "t": r["t"],
                "period": r["period"],
                "price": price,
                "volume": r["volume"],
                "price_text": text,
                "volume_text": f"{amount(r['volume'])} {r['unit']}",
                "run": run,
            }
        )
    return rows


def market_colour(market: str) -> str:
    return layer_colour(MARKET_SELLERS[Market(market)])


# ---------------------------------------------------------------------------------------------
# a firm's income statement
def firm_choices(snap: Snapshot) -> dict[str, str]:
    """Producing firms, value-chain order: id → "Name (layer)"."""
    return {f: f"{snap.names[f]} ({layer_label(snap.layers[f]).lower()})" for f in snap.producing()}


def firm_rows(snap: Snapshot, firm: str, run: str = "this run") -> list[dict]:
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
                    "run": run,
                }
            )
    return rows


STATEMENT: tuple[tuple[str, str], ...] = (
    ("revenue_usd", "Revenue"),
    ("cost_of_revenue_usd", "Cost of revenue"),
    ("depreciation_usd", "of which depreciation"),
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
