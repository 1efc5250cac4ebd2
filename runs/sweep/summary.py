"""The per-run summary: the figures a sweep compares across runs, from one run's frames."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from market.calendar import ALL, Window

#: the figures :func:`summarize_run` reports per layer and window
LAYER_FIGURES = ("gross_margin", "operating_margin", "profit_share")

#: markets whose average clearing price :func:`summarize_run` reports per window
PRICE_MARKETS = ("foundry", "chips", "custom", "compute", "tokens", "plans")


def summarize_run(
    frames: Mapping[str, pl.DataFrame], windows: Sequence[Window] = (ALL,)
) -> dict[str, Any]:
    """The figures a sweep compares across runs, from one run's frames: a flat dict of scalars.

    Per window and layer (``{figure}_{layer}_{window}``): ``gross_margin`` and
    ``operating_margin`` of the layer as one business (see :mod:`runs.report`), and
    ``profit_share``, its share of the gross profit of all producing layers together (null when
    that total is not positive). Per window and market (``price_{market}_{window}``): the
    volume-weighted average clearing price over all books. Then ``defaults``, the number of firms
    that defaulted, and ``defaulted``, their ids in the order they defaulted.

    To report a new figure, add it here: sweeps pick up every key this returns.
    """
    from runs.report import LAYERS, layer_margins, profit_pool

    firms, markets, events = frames["firms"], frames["markets"], frames["events"]
    pool = profit_pool(layer_margins(_by_window(firms, windows), by="window"), "window")
    margins = {(row["layer"], row["window"]): row for row in pool.iter_rows(named=True)}
    out: dict[str, Any] = {}
    for figure in LAYER_FIGURES:
        for layer in LAYERS:
            for window in windows:
                row = margins.get((layer, window.label))
                out[f"{figure}_{layer}_{window.label}"] = None if row is None else row[figure]
    traded = _by_window(markets, windows).filter(
        pl.col("volume") > 0, pl.col("price_usd").is_not_nan()
    )
    prices = {
        (market, label): price
        for market, label, price in traded.group_by("market", "window")
        .agg((pl.col("price_usd") * pl.col("volume")).sum() / pl.col("volume").sum())
        .iter_rows()
    }
    for market in PRICE_MARKETS:
        for window in windows:
            out[f"price_{market}_{window.label}"] = prices.get((market, window.label))
    defaults = events.filter(pl.col("kind") == "default").sort("quarter", maintain_order=True)
    out["defaults"] = defaults.height
    out["defaulted"] = defaults["firm"].to_list()
    return out


def _by_window(frame: pl.DataFrame, windows: Sequence[Window]) -> pl.DataFrame:
    """``frame``'s rows once per window their ``period`` falls in, with a ``window`` column
    (so that one group-by computes every window)."""
    periods = frame["period"].unique().sort().to_list()
    pairs = [(w.label, p) for w in windows for p in periods if w.contains(p)]
    membership = pl.DataFrame(
        pairs, schema={"window": pl.String, "period": pl.String}, orient="row"
    )
    return frame.join(membership, on="period", how="inner", maintain_order="left_right")
