"""PNG charts of one run (``margins run --chart``) and the robust axis every PNG chart uses.

A run's charts are the layers' gross and operating margins per quarter and the profit pool (see
:func:`runs.report.profit_pool`), written beside the run's frames as ``margins.png`` and
``profit_pool.png``. A margin of a layer with almost no revenue can be −11,500,000%: drawn to
scale, it flattens every other line into the zero line. So value axes span the bulk of the
values up to ±100% (:func:`robust_domain`) and draw those beyond at the edge, saying so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from market.catalogue import LAYER_COLOURS, LAYER_LABELS, PRODUCING_LAYERS
from runs.report import layer_margins, profit_pool

#: margins and shares beyond ±this are drawn at the axis' edge
MARGIN_LIMIT = 1.0

LABELS = {str(layer): LAYER_LABELS[layer] for layer in PRODUCING_LAYERS}
COLOURS = [LAYER_COLOURS[layer] for layer in PRODUCING_LAYERS]


def robust_domain(
    values: Iterable[float | None], limit: float = MARGIN_LIMIT
) -> tuple[list[float], bool]:
    """An axis for margins or shares: ([low, high], whether some values lie beyond it).

    The values' range with zero on it, cut to ±``limit`` (±100% by default): a margin of
    −11,500,000% on almost no revenue is drawn at the edge instead of flattening every other
    line into the zero line.
    """
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return [0.0, 1.0], False
    lo, hi = min(0.0, *finite), max(0.0, *finite)
    domain = [max(lo, -limit), min(hi, limit)]
    if domain[1] <= domain[0]:
        domain = [domain[0] - 1.0, domain[0] + 1.0]
    return domain, lo < -limit or hi > limit


def _time(period: str) -> float:
    return int(period[:4]) + (int(period[5]) - 1) / 4


def _layers(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col("layer").replace_strict(LABELS, default=pl.col("layer")).alias("label"),
        pl.col("period").map_elements(_time, return_dtype=pl.Float64).alias("t"),
    )


def margins_chart(firms: pl.DataFrame, title: str):
    """Each layer's gross and operating margin per quarter, side by side (an Altair chart)."""
    import altair as alt

    margins = _layers(layer_margins(firms, by="period"))
    long = margins.unpivot(
        index=["label", "layer", "period", "t"],
        on=["gross_margin", "operating_margin"],
        variable_name="measure",
        value_name="margin",
    ).with_columns(
        pl.col("measure").replace_strict(
            {"gross_margin": "Gross margin", "operating_margin": "Operating margin"}
        )
    )
    domain, clipped = robust_domain(long["margin"].to_list())
    order = list(LABELS.values())
    note = " (beyond ±100% drawn at the edge)" if clipped else ""
    return (
        alt.Chart(alt.Data(values=long.drop_nulls("margin").to_dicts()))
        .mark_line(point=alt.OverlayMarkDef(size=14, filled=True), clip=True)
        .encode(
            x=alt.X(
                "t:Q",
                title=None,
                scale=alt.Scale(zero=False, nice=False),
                axis=alt.Axis(format="d", tickMinStep=1),
            ),
            y=alt.Y(
                "margin:Q",
                title=f"margin{note}",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=domain, clamp=True),
            ),
            color=alt.Color("label:N", scale=alt.Scale(domain=order, range=COLOURS), title="layer"),
        )
        .properties(width=320, height=220)
        .facet(column=alt.Column("measure:N", title=None))
        .properties(title=title)
    )


def profit_pool_chart(firms: pl.DataFrame, title: str):
    """Each layer's share of the industry's gross profit per quarter, stacked (an Altair chart)."""
    import altair as alt

    pool = _layers(profit_pool(layer_margins(firms, by="period"), "period"))
    rank = {label: n for n, label in enumerate(LABELS.values())}
    rows = pool.drop_nulls("profit_share").with_columns(
        pl.col("label").replace_strict(rank, default=99).alias("rank")
    )
    stacks = rows.group_by("period").agg(
        pl.col("profit_share").clip(lower_bound=0).sum().alias("up"),
        pl.col("profit_share").clip(upper_bound=0).sum().alias("down"),
    )
    domain, clipped = robust_domain([*stacks["up"], *stacks["down"]], limit=2.0)
    order = list(LABELS.values())
    note = " (cut at the edge)" if clipped else ""
    return (
        alt.Chart(alt.Data(values=rows.to_dicts()))
        .mark_bar(clip=True)
        .encode(
            x=alt.X(
                "t:Q",
                title=None,
                scale=alt.Scale(zero=False, nice=False),
                axis=alt.Axis(format="d", tickMinStep=1),
            ),
            y=alt.Y(
                "profit_share:Q",
                title=f"share of the industry's gross profit{note}",
                axis=alt.Axis(format="%"),
                stack="zero",
                scale=alt.Scale(domain=[domain[0], max(domain[1], 1.0)], clamp=True),
            ),
            color=alt.Color("label:N", scale=alt.Scale(domain=order, range=COLOURS), title="layer"),
            order=alt.Order("rank:Q"),
        )
        .properties(width=560, height=240, title=title)
    )


def write_run_charts(firms: pl.DataFrame, out: Path, name: str) -> list[Path]:
    """``margins.png`` and ``profit_pool.png`` of a run's ``firms`` frame, into ``out``."""
    import vl_convert as vlc

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for file, chart in (
        ("margins.png", margins_chart(firms, f"Margins by layer per quarter: {name}")),
        ("profit_pool.png", profit_pool_chart(firms, f"The profit pool per quarter: {name}")),
    ):
        path = out / file
        path.write_bytes(vlc.vegalite_to_png(chart.to_json(), scale=2))
        written.append(path)
    return written
