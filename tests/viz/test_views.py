"""What the views show: rows computed from a snapshot, charts that compile, one colour per layer."""

from __future__ import annotations

import itertools
import math

import numpy as np
import polars as pl
import pytest
import vl_convert

from agents.base import PRODUCING_LAYERS, Layer, Market
from market.calendar import Window
from runs.report import layer_margins
from runs.sweep.summary import summarize_run
from viz import charts, inspector, network, views
from viz.live import CUSTOMERS, LiveEconomy
from viz.palette import LAYER_COLOURS, LAYER_LABELS, MARKET_SELLERS, label_scale, layer_colour


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.234e12, "$1.23T"),
        (4.5e9, "$4.5B"),
        (-2.0e6, "−$2M"),
        (25000.0, "$25k"),
        (2.2, "$2.20"),
        (150.0, "$150"),
        (0.0038, "$0.0038"),
        (3.8e-07, "$3.8e-07"),
        (None, "—"),
        (math.nan, "—"),
    ],
)
def test_money_reads_at_a_glance(value, text) -> None:
    assert views.usd(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (2.5e10, "25B"),
        (1500.0, "1.5k"),
        (0.5, "0.5"),
        (0.256, "26%"),
    ],
)
def test_amounts_and_shares(value, text) -> None:
    assert (views.pct(value) if text.endswith("%") else views.amount(value)) == text


def test_periods_on_the_time_axis(snap) -> None:
    assert views.time_of("2025Q1") == 2025.0 and views.time_of("2026Q3") == 2026.5
    first, last = views.time_domain(snap)
    assert first == views.time_of(snap.start) and last - first == snap.horizon / 4


def test_one_colour_per_layer_everywhere() -> None:
    colours = [LAYER_COLOURS[layer] for layer in Layer]
    assert len(set(colours)) == len(colours)
    assert set(LAYER_LABELS) == set(Layer)
    assert set(MARKET_SELLERS) == set(Market)
    scale = label_scale()
    assert scale["range"] == [LAYER_COLOURS[x] for x in PRODUCING_LAYERS]
    assert layer_colour("no such layer") == LAYER_COLOURS[Layer.CUSTOMERS]


def test_margins_are_the_clis(snap) -> None:
    rows = views.margin_rows(snap)
    expected = layer_margins(snap.firms, by="period")
    for row in rows[:20]:
        match = expected.filter(
            (pl.col("layer") == row["layer"]) & (pl.col("period") == row["period"])
        )
        assert match[f"{row['measure']}_margin"][0] == pytest.approx(row["margin"])


def test_the_profit_pool_is_compares_and_adds_up(snap) -> None:
    """One definition of the profit pool: a layer's share of the gross profit of all layers
    together, losses included, exactly as ``margins compare`` (the sweep summary) reports it."""
    rows = views.profit_pool_rows(snap)
    assert rows
    by_period: dict[str, float] = {}
    for row in rows:
        assert row["hi"] >= row["lo"]
        by_period[row["period"]] = by_period.get(row["period"], 0.0) + (
            row["hi"] - row["lo"] if row["lo"] >= 0 else row["lo"] - row["hi"]
        )
    for total in by_period.values():
        assert total == pytest.approx(1.0)  # gains less losses: the whole pool
    last = snap.period
    summary = summarize_run(
        {"firms": snap.firms, "markets": snap.markets, "events": snap.events},
        [Window.parse(last)],
    )
    for row in rows:
        if row["period"] == last:
            share = summary[f"profit_share_{row['layer']}_{last}"]
            assert row["hi"] - row["lo"] == pytest.approx(abs(share))


def test_the_margins_view_adds_up_quarters_rolling_and_years(snap) -> None:
    quarterly = views.layer_periods(snap, "quarter")
    rolling = views.layer_periods(snap, "rolling")
    yearly = views.layer_periods(snap, "year")
    chips = quarterly.filter(pl.col("layer") == "chips").sort("t")
    four = chips.tail(4)
    rolled = rolling.filter((pl.col("layer") == "chips") & (pl.col("t") == four["t"][-1]))
    assert rolled["gross_margin"][0] == pytest.approx(
        four["gross_profit_usd"].sum() / four["revenue_usd"].sum()
    )
    year = layer_margins(snap.firms, by="year").filter(pl.col("layer") == "chips")
    assert sorted(yearly.filter(pl.col("layer") == "chips")["gross_margin"]) == pytest.approx(
        sorted(year["gross_margin"])
    )
    assert {r["measure_label"] for r in views.margin_rows(snap, "year")} == {
        "Gross margin",
        "Operating margin",
    }
    assert {r["run"] for r in views.margin_rows(snap, "rolling", run="previous run")} == {
        "previous run"
    }


def test_markets_draw_one_line_per_book_or_market_total(snap) -> None:
    rows = views.market_rows(snap)
    panels = {r["panel"] for r in rows}
    assert panels <= set(views.MARKETS)
    assert {"compute", "chips", "foundry"} <= panels
    plans = {r["book"] for r in rows if r["panel"] == "plans"}
    segments = {snap.names[f] for f, layer in snap.layers.items() if layer == "customers"}
    assert plans <= segments  # one line per segment, not per seller's sub-book
    assert "merchant" in {r["book"] for r in rows if r["panel"] == "chips"}


def test_the_network_shows_every_firm_by_layer_and_only_their_payments(snap) -> None:
    net = network.network(snap)
    names = {n["name"].removesuffix(" (defaulted)") for n in net.nodes}
    assert "End customers" in names
    assert {snap.names[f] for f in snap.producing()} <= names
    columns = {}
    for node in net.nodes:
        columns.setdefault(node["layer"], set()).add(node["x"])
        assert node["colour"] == layer_colour(node["layer"])
    xs = [min(columns[str(x)]) for x in PRODUCING_LAYERS if str(x) in columns]
    assert xs == sorted(xs) and all(len(v) == 1 for v in columns.values())
    assert net.edges and all(e["width"] > 0 for e in net.edges)
    assert max(e["width"] for e in net.edges) == pytest.approx(13.8)
    paid = snap.flows.filter(
        pl.col("payer").is_in([*snap.producing(), CUSTOMERS])
        & pl.col("payee").is_in(snap.producing())
    )
    assert net.total_usd == pytest.approx(float(paid["amount_usd"].sum()))


def test_the_inspector_shows_curves_point_and_parties(snap) -> None:
    last = snap.quarters - 1
    choices = inspector.book_choices(snap, last)
    assert "foundry" in choices
    # compute hours clear per cloud (differentiated): one sub-book per seller
    key = next(k for k in choices if k.startswith("compute/"))
    assert inspector.pick_book(choices, "compute").startswith("compute/")
    found = inspector.inspect(snap, last, key)
    assert found is not None and found.rule == "posted" and found.volume > 0
    for side, order in (("demand", -1), ("supply", 1)):
        prices = [r["p"] for r in found.curves if r["side"] == side]
        assert prices and np.all(np.diff(prices) * order >= -1e-9)
    orders = snap.books[last].orders.filter(pl.col("market") == "compute")
    assert {p["firm"] for p in found.parties} <= set(orders["firm"])
    assert {p["firm"] for p in found.parties if p["side"] == "ask"} == {key.split("/")[1]}
    assert {p["side"] for p in found.parties} == {"bid", "ask"}
    assert inspector.inspect(snap, last, "no_such_market") is None
    assert inspector.inspect(snap, last + 5, key) is None


@pytest.mark.parametrize(
    ("side", "wanted", "got", "at_price", "outcome"),
    [
        ("bid", 10, 10, 10, "served in full"),
        ("bid", 10, 0, 0, "priced out"),
        ("bid", 10, 6, 6, "served down to the price; lower bids unfilled"),
        ("bid", 10, 3, 6, "rationed: got 50% of what it bid for at the price"),
        ("ask", 10, 10, 10, "sold all it offered"),
        ("ask", 10, 0, 0, "priced above every buyer"),
        ("ask", 10, 2, 8, "sold 25% of what it offered at the price"),
    ],
)
def test_who_was_served(side, wanted, got, at_price, outcome) -> None:
    assert inspector.outcome(side, wanted, got, at_price) == outcome


@pytest.mark.parametrize(
    ("wanted", "picked"),
    [
        ("compute", "compute"),
        ("plans/developer", "plans/developer/cursor"),
        ("plans/developer/cursor/x", "plans/developer/cursor"),
        ("tokens", "compute"),
    ],
)
def test_the_inspector_falls_back_to_the_nearest_book(wanted: str, picked: str) -> None:
    choices = {"compute": "", "plans/developer/cursor": "", "plans/developer/spillover": ""}
    assert inspector.pick_book(choices, wanted) == picked


def test_a_firms_statement(snap) -> None:
    periods, rows = views.statement(snap, "openai")
    assert periods == [snap.period_of(q) for q in range(snap.quarters - 4, snap.quarters)]
    assert [r[0] for r in rows][:4] == [
        "Revenue",
        "Cost of revenue",
        "of which depreciation",
        "Gross profit",
    ]
    lines = {r["line"] for r in views.firm_rows(snap, "openai")}
    assert lines == {label for _, label in views.INCOME_LINES}


def test_the_event_log_reads_newest_first(snap) -> None:
    rows = views.event_rows(snap)
    assert rows and all(r["text"] for r in rows)
    periods = [r["period"] for r in rows]
    assert periods == sorted(periods, reverse=True)


def test_every_chart_compiles_and_renders(stepped: LiveEconomy) -> None:
    snap = stepped.snapshot
    last = snap.quarters - 1
    specs = [
        network.network_spec(snap),
        charts.margins_spec(snap),
        charts.margins_spec(snap, snap, "rolling"),
        charts.margins_spec(snap, None, "year"),
        charts.profit_pool_spec(snap),
        charts.profit_pool_spec(snap, snap),
        charts.markets_spec(snap),
        charts.markets_spec(snap, snap),
        charts.firm_spec(snap, "nvidia"),
        charts.firm_spec(snap, "coreweave", snap),
    ]
    compute = next(k for k in inspector.book_choices(snap, last) if k.startswith("compute/"))
    for key in (compute, "foundry", "chips"):
        specs.append(charts.inspector_spec(inspector.inspect(snap, last, key)))
    for spec in specs:
        assert spec["usermeta"] == {"embedOptions": {"actions": False}}
        assert all(spec["datasets"].values()) or spec is specs[0]
        svg = vl_convert.vegalite_to_svg(spec)
        assert "<svg" in svg and "NaN" not in svg


def test_a_chart_template_is_built_once_and_filled_each_quarter(stepped: LiveEconomy) -> None:
    snap = stepped.snapshot
    first = charts.margins_spec(snap)
    second = charts.margins_spec(snap)
    assert first is not second and first["datasets"] == second["datasets"]
    template = charts.margins_template(tuple(views.time_domain(snap)), False, "quarter")
    assert "datasets" not in template
    assert first["spec"] is template["spec"]


def test_no_payment_runs_through_a_firms_box(snap) -> None:
    """Each payment's line crosses the columns between payer and payee through gaps between the
    boxes, flat over the boxes' width, and the chart has a key for line widths."""
    net = network.network(snap)
    boxes: dict[float, list[tuple[float, float]]] = {}
    for node in net.nodes:
        boxes.setdefault(node["x"], []).append((node["y0"], node["y1"]))
    paths: dict[int, list[dict]] = {}
    for point in net.paths:
        paths.setdefault(point["edge"], []).append(point)
    assert len(paths) == len(net.edges) > 0
    crossings = 0
    for points in paths.values():
        points.sort(key=lambda p: p["order"])
        for a, b in itertools.pairwise(points[1:-1]):
            for x, spans in boxes.items():
                if min(a["x"], b["x"]) < x < max(a["x"], b["x"]):  # a flat run over column x
                    crossings += 1
                    assert a["y"] == b["y"]
                    assert all(not lo - 1 < a["y"] < hi + 1 for lo, hi in spans), (x, a["y"])
    assert crossings > 0  # some payments skip columns (end customers pay the labs)
    widths = [row["width"] for row in net.scale]
    assert len(widths) == 3 and widths == sorted(widths) and widths[-1] <= network.EDGE_MIN + 13
    assert all(row["label"].startswith("$") for row in net.scale)
