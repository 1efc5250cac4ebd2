"""Margins from a run's ``firms`` frame, aggregated the way the CLI, sweeps and the UI report them.

A margin over a group of firm-quarters is ``sum(gross_profit) / sum(revenue)`` (gross) and
``sum(operating_income) / sum(revenue)`` (operating): revenue-weighted, so a layer's margin is the
margin of the layer as one business, and a year's margin is the margin of its four quarters
together. Margins are fractions (0.25 = 25%) and null where the group had no revenue.

    >>> from runs import run
    >>> from runs.report import layer_margins
    >>> layer_margins(run("baseline", quarters=4, seed=1).firms).columns[:3]
    ['layer', 'year', 'quarters']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import polars as pl

from agents.base import PRODUCING_LAYERS

#: the layers whose margins are reported, upstream first
LAYERS: tuple[str, ...] = tuple(str(layer) for layer in PRODUCING_LAYERS)

#: the years the CLI reports when the run covers them (plus the last full year of the run)
DEFAULT_YEARS: tuple[int, ...] = (2025, 2026, 2030)

SUMS = ("revenue_usd", "gross_profit_usd", "operating_income_usd")


def with_year(firms: pl.DataFrame) -> pl.DataFrame:
    """``firms`` with a ``year`` column (Int32) taken from ``period`` (``2025Q3`` → 2025)."""
    if "year" in firms.columns:
        return firms
    return firms.with_columns(pl.col("period").str.slice(0, 4).cast(pl.Int32).alias("year"))


def _margins(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Sum revenue, gross profit and operating income by ``keys`` and add both margins."""
    revenue = pl.col("revenue_usd")
    out = frame.group_by(keys).agg(
        pl.col("period").n_unique().cast(pl.Int32).alias("quarters"),
        *(pl.col(c).sum() for c in SUMS),
    )
    return out.with_columns(
        pl.when(revenue > 0)
        .then(pl.col("gross_profit_usd") / revenue)
        .otherwise(None)
        .alias("gross_margin"),
        pl.when(revenue > 0)
        .then(pl.col("operating_income_usd") / revenue)
        .otherwise(None)
        .alias("operating_margin"),
    )


def _by(firms: pl.DataFrame, by: str | None) -> tuple[pl.DataFrame, list[str]]:
    if by is None:
        return firms, []
    if by == "year":
        return with_year(firms), ["year"]
    if by not in firms.columns:
        raise ValueError(
            f"by={by!r}: not a column of the firms frame; use 'year', 'period', "
            "'quarter' or None (the whole run)"
        )
    return firms, [by]


def layer_margins(
    firms: pl.DataFrame, by: str | None = "year", layers: Sequence[str] = LAYERS
) -> pl.DataFrame:
    """Gross and operating margin of each layer, per ``by`` (``"year"``, ``"period"``,
    ``"quarter"``, or ``None`` for the whole run).

    Returns one row per layer and period with columns ``layer``, the ``by`` column, ``quarters``
    (how many quarters the row covers: fewer than 4 marks a partial year), ``revenue_usd``,
    ``gross_profit_usd``, ``operating_income_usd``, ``gross_margin`` and ``operating_margin``;
    rows in value-chain order (``layers``), then by time.
    """
    frame, keys = _by(firms, by)
    frame = frame.filter(pl.col("layer").is_in(list(layers)))
    rank = {layer: n for n, layer in enumerate(layers)}
    out = _margins(frame, ["layer", *keys])
    order = pl.col("layer").replace_strict(rank, return_dtype=pl.Int32)
    return out.sort([order, *keys]).select("layer", *keys, pl.exclude("layer", *keys))


def profit_pool(margins: pl.DataFrame, by: str) -> pl.DataFrame:
    """The profit pool: ``margins`` (a :func:`layer_margins` result per ``by``) with
    ``profit_share``, each layer's share of the gross profit of all producing layers together in
    its ``by`` period, losses included (a layer that lost money has a negative share); null where
    that total is not positive. The one definition the app, sweeps, ``compare`` and claims use.
    """
    totals: dict[object, float] = {}
    for key, profit in margins.select(by, "gross_profit_usd").iter_rows():
        totals[key] = totals.get(key, 0.0) + profit
    shares = [
        profit / totals[key] if totals[key] > 0 else None
        for key, profit in margins.select(by, "gross_profit_usd").iter_rows()
    ]
    return margins.with_columns(pl.Series("profit_share", shares, dtype=pl.Float64))


def leading_firms(firms: pl.DataFrame, n: int = 8) -> list[str]:
    """The ``n`` firms (ids) with the most revenue over the whole frame, largest first."""
    totals = (
        firms.group_by("firm")
        .agg(pl.col("revenue_usd").sum())
        .sort(["revenue_usd", "firm"], descending=[True, False])
    )
    return totals.head(n)["firm"].to_list()


def firm_margins(
    firms: pl.DataFrame, by: str | None = "year", select: Iterable[str] | None = None
) -> pl.DataFrame:
    """Gross and operating margin of each firm, per ``by`` (as :func:`layer_margins`).

    ``select``: the firm ids to keep, in the order of the result (default: all firms, ordered by
    total revenue, largest first). Columns ``firm``, ``name``, ``layer``, the ``by`` column, then
    as :func:`layer_margins`.
    """
    order = list(select) if select is not None else leading_firms(firms, n=firms.height)
    frame, keys = _by(firms.filter(pl.col("firm").is_in(order)), by)
    rank = {firm: n for n, firm in enumerate(order)}
    out = _margins(frame, ["firm", "name", "layer", *keys])
    ordered = pl.col("firm").replace_strict(rank, return_dtype=pl.Int32)
    front = ["firm", "name", "layer", *keys]
    return out.sort([ordered, *keys]).select(*front, pl.exclude(*front))


def full_years(firms: pl.DataFrame) -> list[int]:
    """The calendar years the frame covers with all four quarters, in order."""
    periods = with_year(firms.select("period").unique())
    counts = periods.group_by("year").len()
    return sorted(counts.filter(pl.col("len") == 4)["year"].to_list())


def report_years(firms: pl.DataFrame, wanted: Iterable[int] = DEFAULT_YEARS) -> list[int]:
    """The years to show: those of ``wanted`` the run covers fully, and its last full year.

    A run shorter than a calendar year has no full year: its last (partial) year is returned.
    """
    full = full_years(firms)
    if not full:
        years = with_year(firms.select("period").unique())["year"]
        return [int(years.max())] if len(years) else []
    return sorted({*(y for y in wanted if y in full), full[-1]})


def wide(margins: pl.DataFrame, key: str, years: Sequence[int]) -> pl.DataFrame:
    """One row per ``key`` (``layer`` or ``firm``) of a :func:`layer_margins` /
    :func:`firm_margins` result by year, with columns ``gross_<year>`` and ``operating_<year>``
    for each of ``years`` (null where that year has no revenue or is not in the run)."""
    keep = [
        c for c in ("firm", "name", "layer") if c in margins.columns and (c == key or key == "firm")
    ]
    rows = margins.select(keep).unique(maintain_order=True)
    for year in years:
        one = margins.filter(pl.col("year") == year).select(
            key,
            pl.col("gross_margin").alias(f"gross_{year}"),
            pl.col("operating_margin").alias(f"operating_{year}"),
        )
        rows = rows.join(one, on=key, how="left", maintain_order="left")
    return rows
