"""The charts, written with Altair: one template per view, data filled in each quarter.

Building an Altair chart validates its inline data row by row, which costs ~30 ms a chart; the
live app redraws every view every quarter. So each view's chart is built (and validated) once
per shape — its time axis, its market, its layer — with its data left as named datasets, and
each quarter :func:`with_data` only puts the new rows in. The result is the same Vega-Lite spec
``chart.to_dict()`` gives, for ``solara``'s chart widget.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import altair as alt

from agents.base import Layer
from viz import inspector, views
from viz.live import Snapshot
from viz.palette import GRID, INK, MUTED, label_scale, layer_colour
from viz.views import (
    MARKET_LABELS,
    MARKETS,
    PRICE_AXIS,
    VOLUME_AXIS,
    market_colour,
)

FONT = "Roboto, Helvetica, Arial, sans-serif"
#: money on an axis: $1.2B, $350M, $2.5, $0.83
MONEY_LABEL = (
    "abs(datum.value) >= 1000 ? replace(format(datum.value, '$.3~s'), 'G', 'B') "
    ": format(datum.value, '$.3~r')"
)
#: money on a log axis: powers of ten only
LOG_MONEY_LABEL = (
    "abs(log(datum.value) / LN10 - round(log(datum.value) / LN10)) < 1e-6 ? ("
    + MONEY_LABEL
    + ") : ''"
)
#: a quantity on an axis: 1.2B, 350M, 2.5k, 0.83
AMOUNT_LABEL = (
    "abs(datum.value) >= 1000 ? replace(format(datum.value, '.3~s'), 'G', 'B') "
    ": format(datum.value, '.3~r')"
)
#: margins and shares are drawn within ±100%; beyond is drawn at the edge
CLAMP = [-1.0, 1.0]


def with_data(
    template: dict[str, Any], params: dict[str, Any] | None = None, **datasets: list[dict]
) -> dict[str, Any]:
    """A copy of ``template`` with its named datasets (and parameter values) filled in."""
    spec = dict(template)
    spec["datasets"] = {name: list(rows) for name, rows in datasets.items()}
    if params:
        spec["params"] = [
            {**p, "value": params[p["name"]]} if p["name"] in params else p
            for p in template.get("params", [])
        ]
    return spec


def _finish(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """House style, no action menu, and the spec as a dict (validated once, here)."""
    styled = (
        chart.configure(font=FONT, padding={"left": 4, "right": 12, "top": 6, "bottom": 4})
        .configure_axis(
            labelFontSize=11,
            titleFontSize=11,
            titleFontWeight="normal",
            titleColor=MUTED,
            labelColor=INK,
            gridColor=GRID,
            domainColor="#9e9e9e",
            tickColor="#9e9e9e",
        )
        .configure_legend(
            labelFontSize=11, labelColor=INK, titleFontSize=11, symbolSize=90, symbolStrokeWidth=2.5
        )
        .configure_view(stroke=None)
        .configure_title(fontSize=12, fontWeight="bold", anchor="start", color=INK, offset=6)
    )
    spec = styled.to_dict()
    spec["usermeta"] = {"embedOptions": {"actions": False}}
    return spec


def _time(domain: tuple[float, float], width: int) -> alt.X:
    """Years on the x axis, whole years only, about one label per 70 pixels."""
    return alt.X(
        "t:Q",
        scale=alt.Scale(domain=list(domain), nice=False, zero=False),
        axis=alt.Axis(
            format="d",
            tickMinStep=1,
            tickCount=max(2, width // 70),
            title=None,
            labelFlush=True,
            grid=False,
        ),
    )


def _zero(name: str) -> alt.Chart:
    return (
        alt.Chart(alt.NamedData(name))
        .mark_rule(color="#9e9e9e", strokeWidth=1)
        .encode(y=alt.datum(0))
    )


# ---------------------------------------------------------------------------------------------
#: the run drawn and the run kept to compare with, as a reader tells them apart
RUNS = ["this run", "previous run"]
_FAINT = alt.Scale(domain=RUNS, range=[1.0, 0.45])


def _run_encodings(compare: bool) -> dict[str, Any]:
    """The previous run drawn thinner and fainter in the same colours (the caption and the run
    controls say which run is which; ``compare`` keeps one template per case)."""
    del compare
    return {
        "opacity": alt.Opacity("run:N", scale=_FAINT, sort=RUNS, legend=None),
        "strokeWidth": alt.StrokeWidth(
            "run:N", scale=alt.Scale(domain=RUNS, range=[2.2, 1.3]), sort=RUNS, legend=None
        ),
    }


@cache
def margins_template(
    domain: tuple[float, float],
    compare: bool = False,
    mode: str = "quarter",
    width: int = 360,
    height: int = 190,
) -> dict[str, Any]:
    """Gross and operating margin of each layer, side by side; a click on a layer in the legend
    hides it (shift-click for more, again to show it)."""
    hidden = alt.selection_point(
        name="hidden", fields=["label"], bind="legend", toggle="true", empty=False
    )
    line = (
        alt.Chart()
        .mark_line(point=alt.OverlayMarkDef(size=16, filled=True), clip=True)
        .encode(
            x=_time(domain, width),
            y=alt.Y(
                "margin:Q",
                scale=alt.Scale(domain=CLAMP, clamp=True),
                axis=alt.Axis(format="%", title=None, values=[-1, -0.5, 0, 0.5, 1]),
            ),
            color=alt.Color(
                "label:N",
                scale=alt.Scale(**label_scale()),
                legend=alt.Legend(
                    title="Click to hide a layer",
                    symbolOpacity=1,
                    titleFontWeight="normal",
                    titleColor=MUTED,
                    orient="bottom",
                    direction="horizontal",
                    columns=7,
                    symbolType="stroke",
                ),
            ),
            detail="run:N",
            strokeWidth=_run_encodings(compare)["strokeWidth"],
            opacity=alt.condition(
                hidden,
                alt.value(0.0),
                alt.Opacity("run:N", scale=_FAINT, sort=RUNS, legend=None),
            ),
            tooltip=[
                alt.Tooltip("label:N", title="layer"),
                alt.Tooltip("run:N", title="run"),
                alt.Tooltip("period:N", title="quarter" if mode != "year" else "year"),
                alt.Tooltip("margin_text:N", title="margin"),
            ],
        )
        .add_params(hidden)
    )
    zero = alt.Chart().mark_rule(color="#9e9e9e", strokeWidth=1).encode(y=alt.datum(0))
    chart = (
        alt.layer(zero, line, data=alt.NamedData("margins"))
        .properties(width=width, height=height)
        .facet(
            column=alt.Column(
                "measure_label:N",
                title=None,
                sort=["Gross margin", "Operating margin"],
                header=alt.Header(labelFontSize=12, labelFontWeight="bold", labelAnchor="start"),
            ),
            spacing=28,
        )
    )
    return _finish(chart)


@cache
def profit_pool_template(
    domain: tuple[float, float], compare: bool = False, width: int = 360, height: int = 190
) -> dict[str, Any]:
    """Each layer's share of the industry's gross profit per quarter, stacked; losses below zero.
    The previous run, when kept, is a second row below."""
    bars = (
        alt.Chart()
        .mark_rect(stroke="white", strokeWidth=0.3, clip=True)
        .encode(
            x=_time(domain, width),
            x2="t2:Q",
            y=alt.Y(
                "lo:Q",
                scale=alt.Scale(domain=[-0.5, 1.5], clamp=True),
                axis=alt.Axis(format="%", title=None, values=[-0.5, 0, 0.5, 1, 1.5]),
            ),
            y2="hi:Q",
            color=alt.Color(
                "label:N",
                scale=alt.Scale(**label_scale()),
                legend=alt.Legend(title=None, orient="bottom", columns=4),
            ),
            tooltip=[
                alt.Tooltip("label:N", title="layer"),
                alt.Tooltip("run:N", title="run"),
                alt.Tooltip("period:N", title="quarter"),
                alt.Tooltip("share:N", title="share of the industry's gross profit"),
                alt.Tooltip("profit:N", title="gross profit"),
            ],
        )
    )
    zero = alt.Chart().mark_rule(color="#9e9e9e", strokeWidth=1).encode(y=alt.datum(0))
    layered = alt.layer(bars, zero, data=alt.NamedData("pool")).properties(
        width=width, height=height if not compare else height * 2 // 3
    )
    return _finish(
        layered.facet(
            row=alt.Row(
                "run:N",
                sort=RUNS,
                title=None,
                header=alt.Header(labelFontSize=11, labelColor=MUTED)
                if compare
                else alt.Header(labels=False),
            ),
            spacing=10,
        )
    )


@cache
def markets_template(
    domain: tuple[float, float],
    multi: tuple[str, ...] = (),
    compare: bool = False,
    width: int = 122,
    height: int = 96,
) -> dict[str, Any]:
    """Price (top) and volume (bottom) per market over time; ``multi``: panels with books."""
    columns = []
    for panel in MARKETS:
        colour = market_colour(panel)
        order = alt.EncodingSortField(field="rank", op="min")
        dash = (
            alt.StrokeDash(
                "book:N",
                sort=order,
                legend=alt.Legend(
                    title=None,
                    orient="bottom",
                    direction="vertical",
                    symbolStrokeColor=colour,
                    labelLimit=110,
                ),
            )
            if panel in multi
            else alt.StrokeDash("book:N", sort=order, legend=None)
        )
        base = (
            alt.Chart(alt.NamedData("markets"))
            .transform_filter(f"datum.panel === '{panel}'")
            .mark_line(color=colour, clip=True)
            .encode(
                x=_time(domain, width),
                strokeDash=dash,
                detail="book:N",
                **_run_encodings(compare and panel == MARKETS[-1]),
            )
        )
        price = base.encode(
            y=alt.Y(
                "price:Q",
                scale=alt.Scale(zero=False),
                axis=alt.Axis(title=PRICE_AXIS[panel], labelExpr=MONEY_LABEL, tickCount=4),
            ),
            tooltip=[
                alt.Tooltip("book:N", title="book"),
                alt.Tooltip("run:N", title="run"),
                alt.Tooltip("period:N", title="quarter"),
                alt.Tooltip("price_text:N", title="price"),
            ],
        ).properties(title=MARKET_LABELS[panel], width=width, height=height)
        volume = base.encode(
            y=alt.Y(
                "volume:Q",
                axis=alt.Axis(title=VOLUME_AXIS[panel], labelExpr=AMOUNT_LABEL, tickCount=4),
            ),
            tooltip=[
                alt.Tooltip("book:N", title="book"),
                alt.Tooltip("run:N", title="run"),
                alt.Tooltip("period:N", title="quarter"),
                alt.Tooltip("volume_text:N", title="volume"),
            ],
        ).properties(width=width, height=height)
        columns.append(alt.vconcat(price, volume, spacing=8))
    chart = alt.hconcat(*columns, spacing=14).resolve_scale(
        y="independent", strokeDash="independent"
    )
    return _finish(chart.resolve_legend(strokeDash="independent", strokeWidth="shared"))


@cache
def inspector_template(
    market: str,
    log_price: bool,
    price_title: str,
    volume_title: str,
    width: int = 600,
    height: int = 260,
) -> dict[str, Any]:
    """A book's demand and supply step curves, and the clearing point."""
    colour = market_colour(market)
    xscale = alt.Scale(domainMin=0, domainMax=alt.ExprRef("xmax"), nice=False)
    yscale = alt.Scale(type="log") if log_price else alt.Scale(zero=True)
    x = alt.X(
        "q:Q", scale=xscale, axis=alt.Axis(title=volume_title, labelExpr=AMOUNT_LABEL, tickCount=5)
    )
    y = alt.Y(
        "p:Q",
        scale=yscale,
        axis=alt.Axis(
            title=price_title,
            labelExpr=LOG_MONEY_LABEL if log_price else MONEY_LABEL,
            gridOpacity=0.5 if log_price else 1.0,
        ),
    )
    curves = (
        alt.Chart(alt.NamedData("curves"))
        .mark_line(strokeWidth=2.2, clip=True)
        .encode(
            x=x,
            y=y,
            order="order:Q",
            color=alt.Color(
                "side:N",
                scale=alt.Scale(domain=["demand", "supply"], range=[INK, colour]),
                legend=alt.Legend(
                    title=None,
                    orient="top-right",
                    labelExpr="datum.label === 'demand' ? 'demand (bids)' : 'supply (asks)'",
                ),
            ),
            tooltip=[
                alt.Tooltip("side:N"),
                alt.Tooltip("p_text:N", title="price"),
                alt.Tooltip("q_text:N", title="cumulative quantity"),
            ],
        )
    )
    across = (
        alt.Chart(alt.NamedData("point"))
        .mark_rule(strokeDash=[4, 3], color=MUTED, clip=True)
        .encode(x="q:Q", x2=alt.datum(0), y="p:Q")
    )
    down = (
        alt.Chart(alt.NamedData("point"))
        .mark_rule(strokeDash=[4, 3], color=MUTED, clip=True)
        .encode(x="q:Q", y="p:Q", y2=alt.value(height))
    )
    point = (
        alt.Chart(alt.NamedData("point"))
        .mark_point(size=130, filled=True, fill="white", stroke=INK, strokeWidth=2.5)
        .encode(x="q:Q", y="p:Q", tooltip=[alt.Tooltip("text:N", title="clearing")])
    )
    label = (
        alt.Chart(alt.NamedData("point"))
        .mark_text(align="left", dx=9, dy=-11, fontSize=12, fontWeight="bold", color=INK)
        .encode(x="q:Q", y="p:Q", text="label:N")
    )
    chart = (
        alt.layer(curves, across, down, point, label)
        .properties(width=width, height=height)
        .add_params(alt.param(name="xmax", value=1.0))
    )
    return _finish(chart)


@cache
def firm_template(
    domain: tuple[float, float],
    layer: str,
    compare: bool = False,
    width: int = 370,
    height: int = 250,
) -> dict[str, Any]:
    """One firm's income-statement lines per quarter."""
    own = layer_colour(layer if layer else Layer.CUSTOMERS)
    lines = ["Revenue", "Cost of revenue", "Gross profit", "Operating expenses", "Operating income"]
    chart = (
        alt.Chart(alt.NamedData("statement"))
        .mark_line(point=alt.OverlayMarkDef(size=14, filled=True), clip=True)
        .encode(
            x=_time(domain, width),
            y=alt.Y("value:Q", axis=alt.Axis(title="USD per quarter", labelExpr=MONEY_LABEL)),
            detail="run:N",
            **_run_encodings(compare),
            color=alt.Color(
                "line:N",
                scale=alt.Scale(domain=lines, range=[own, "#8a8a8a", own, "#b5b5b5", INK]),
                legend=alt.Legend(title=None, orient="bottom", columns=3, symbolType="stroke"),
            ),
            strokeDash=alt.StrokeDash(
                "line:N",
                scale=alt.Scale(domain=lines, range=[[1, 0], [1, 0], [6, 3], [6, 3], [1, 0]]),
                legend=None,
            ),
            tooltip=[
                alt.Tooltip("line:N", title="line"),
                alt.Tooltip("run:N", title="run"),
                alt.Tooltip("period:N", title="quarter"),
                alt.Tooltip("text:N", title="USD"),
            ],
        )
    )
    return _finish(alt.layer(_zero("statement"), chart).properties(width=width, height=height))


# ---------------------------------------------------------------------------------------------
# the specs of a snapshot
#: rows of a kept run, by (view, snapshot serial, arguments): they do not change as this run goes
_KEPT: dict[tuple, list[dict]] = {}


def _both(rows, snap: Snapshot, before: Snapshot | None, *args) -> list[dict]:
    """Rows of this run, then of the run kept (marked ``run``, computed once)."""
    out = rows(snap, *args)
    if before is not None and before.quarters:
        key = (rows.__name__, before.serial, args)
        if key not in _KEPT:
            if len(_KEPT) > 64:
                _KEPT.clear()
            _KEPT[key] = rows(before, *args, run="previous run")
        out = out + _KEPT[key]
    return out


def margins_spec(snap: Snapshot, before: Snapshot | None = None, mode: str = "quarter") -> dict:
    compare = before is not None
    return with_data(
        margins_template(tuple(views.time_domain(snap)), compare, mode),
        margins=_both(views.margin_rows, snap, before, mode),
    )


def profit_pool_spec(snap: Snapshot, before: Snapshot | None = None) -> dict[str, Any]:
    compare = before is not None
    return with_data(
        profit_pool_template(tuple(views.time_domain(snap)), compare),
        pool=_both(views.profit_pool_rows, snap, before),
    )


def markets_spec(snap: Snapshot, before: Snapshot | None = None) -> dict[str, Any]:
    rows = _both(views.market_rows, snap, before)
    books: dict[str, set[str]] = {}
    for row in rows:
        books.setdefault(row["panel"], set()).add(row["book"])
    multi = tuple(p for p in views.MARKETS if len(books.get(p, ())) > 1)
    template = markets_template(tuple(views.time_domain(snap)), multi, before is not None)
    return with_data(template, markets=rows)


def inspector_spec(found: inspector.Inspection) -> dict[str, Any]:
    price_title = f"Price ({found.price_unit}{', log scale' if found.log_price else ''})"
    template = inspector_template(
        found.market, found.log_price, price_title, f"Quantity ({found.unit})"
    )
    point = []
    if found.price is not None and found.volume > 0:
        text = (
            f"{views.amount(found.volume)} {found.unit} at "
            f"{views.usd(found.price, cents=True)}"
            + (" (average of the posted prices)" if found.rule == "posted" else "")
        )
        point = [
            {
                "q": found.volume,
                "p": found.price,
                "text": text,
                "label": views.usd(found.price, cents=True),
            }
        ]
    return with_data(template, params={"xmax": found.x_max}, curves=found.curves, point=point)


def firm_spec(snap: Snapshot, firm: str, before: Snapshot | None = None) -> dict[str, Any]:
    template = firm_template(
        tuple(views.time_domain(snap)), snap.layers.get(firm, ""), before is not None
    )
    return with_data(template, statement=_both(views.firm_rows, snap, before, firm))
