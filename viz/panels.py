"""The views of the app, one Solara component each, reading one :class:`~viz.live.Snapshot`.

Every view redraws only when its snapshot changes (a quarter run, a Reset), when its own choice
changes (the margins' measure, the firm, the market, the quarter inspected) or when the run kept
to compare with changes. The time-series views draw that previous run under the current one.
"""

from __future__ import annotations

import html

import solara

from viz import charts, inspector, network, views
from viz.chart import VegaChart
from viz.components import ViewCard, _dot, _table, spec_of
from viz.live import Snapshot


def _serial(before: Snapshot | None) -> int:
    return before.serial if before is not None else 0


@solara.component
def Headline(snap: Snapshot):
    line = solara.use_memo(lambda: views.headline(snap), [snap.serial])
    tokens = (
        f"{views.usd(line.model_price, cents=True)}"
        if line.model_price is not None
        else views.usd(line.token_price, cents=True)
    )
    stats = [
        ("Quarter", line.period if snap.quarters else "not started", ""),
        ("Industry revenue", views.usd(line.revenue), ""),
        ("Industry operating margin", views.pct(line.operating_margin), ""),
        ("Compute, per H100e-hour", views.usd(line.compute_price, cents=True), ""),
        (
            f"API tokens, per M tokens of {line.model}" if line.model else "API tokens",
            tokens,
            f"{views.usd(line.token_price, cents=True)} per M quality-adjusted tokens"
            if line.token_price is not None
            else "",
        ),
    ]
    cells = "".join(
        f"<div class='margins-stat'><div class='margins-stat-label'>{html.escape(label)}</div>"
        f"<div class='margins-stat-value'>{html.escape(value)}</div>"
        + (f"<div class='margins-stat-sub'>{html.escape(sub)}</div>" if sub else "")
        + "</div>"
        for label, value, sub in stats
    )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=cells
        + (
            "<div class='margins-stat-note'>The quarter just run. Compute per quality-adjusted "
            "H100e-hour, as the market clears it; tokens per M tokens of the most-used model "
            "at the market's price, and per M quality-adjusted tokens.</div>"
        ),
        classes=["margins-headline"],
    )


@solara.component
def NetworkView(snap: Snapshot):
    spec = solara.use_memo(lambda: spec_of(lambda: network.network_spec(snap)), [snap.serial])
    title = "The value chain: who paid whom" + (f" in {snap.period}" if snap.quarters else "")
    with (
        ViewCard(
            "network",
            title,
            "Money paid between firms in the quarter just run (USD), the chain left to right: "
            "each line runs from the payer to the firm paid (arrow and colour), its width by "
            "the amount (key below); hover a line or a firm for the figures.",
        ),
        solara.Div(classes=["margins-scroll"]),
    ):
        VegaChart(spec, f"network-{snap.period}")


@solara.component
def MarginsView(snap: Snapshot, before: Snapshot | None = None):
    mode, set_mode = solara.use_state("quarter")
    spec = solara.use_memo(
        lambda: spec_of(lambda: charts.margins_spec(snap, before, mode)),
        [snap.serial, mode, _serial(before)],
    )
    by_label = {label: key for key, label in views.MARGIN_MODES.items()}
    with ViewCard(
        "margins",
        "Margins by layer",
        "Gross and operating margin of each layer: the profit of its firms together over their "
        "revenue, % (beyond ±100% drawn at the edge), per quarter, over the four quarters to "
        "each, or per year. Click a layer in the legend to hide it; the previous run, if kept, "
        "is drawn thinner.",
    ):
        solara.ToggleButtonsSingle(
            value=views.MARGIN_MODES[mode],
            values=list(views.MARGIN_MODES.values()),
            on_value=lambda label: set_mode(by_label.get(label, "quarter")),
            dense=True,
            classes=["margins-mode"],
        )
        with solara.Div(classes=["margins-scroll"]):
            VegaChart(spec, f"margins-{mode}-{snap.period}")


@solara.component
def ProfitPoolView(snap: Snapshot, before: Snapshot | None = None):
    spec = solara.use_memo(
        lambda: spec_of(lambda: charts.profit_pool_spec(snap, before)),
        [snap.serial, _serial(before)],
    )
    with (
        ViewCard(
            "profit-pool",
            "The profit pool",
            "Each layer's share of the industry's gross profit per quarter, % (as margins "
            "compare reports it): a layer that lost money is drawn below zero, and the others' "
            "shares then add up to more than 100%. The previous run, if kept, is the row below.",
        ),
        solara.Div(classes=["margins-scroll"]),
    ):
        VegaChart(spec, f"profit-pool-{snap.period}")


@solara.component
def MarketsView(snap: Snapshot, before: Snapshot | None = None):
    spec = solara.use_memo(
        lambda: spec_of(lambda: charts.markets_spec(snap, before)),
        [snap.serial, _serial(before)],
    )
    with (
        ViewCard(
            "markets",
            "Markets",
            "Clearing price (top, USD per unit) and volume traded (bottom) per quarter; compute "
            "per quality-adjusted H100e-hour, tokens per M tokens of the most-used model (the "
            "tooltip adds the quality-adjusted price), plans one line per segment. The previous "
            "run, if kept, is drawn thinner.",
        ),
        solara.Div(classes=["margins-scroll"]),
    ):
        VegaChart(spec, f"markets-{snap.period}")


@solara.component
def InspectorView(snap: Snapshot, book: solara.Reactive[str]):
    follow, set_follow = solara.use_state(True)
    chosen, set_chosen = solara.use_state(0)
    last = snap.quarters - 1
    quarter = last if follow or chosen > last else chosen
    choices = solara.use_memo(lambda: inspector.book_choices(snap, quarter), [snap.serial, quarter])
    key = inspector.pick_book(choices, book.value)
    found = solara.use_memo(
        lambda: inspector.inspect(snap, quarter, key), [snap.serial, quarter, key]
    )
    spec = solara.use_memo(
        lambda: spec_of(lambda: charts.inspector_spec(found) if found else None), [found]
    )
    labels = list(choices.values())
    by_label = {label: k for k, label in choices.items()}
    with ViewCard(
        "inspector",
        "Quarter inspector",
        "One market in one quarter: the supply and demand curves of every ask and bid, "
        "the clearing point, and who was served or rationed.",
    ):
        if last < 0:
            solara.Text("Run a quarter to inspect its markets.")
            return
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap", "gap": "12px"}):
            solara.Select(
                "Market",
                values=labels,
                value=choices.get(key, None),
                on_value=lambda label: book.set(by_label.get(label, key)),
                style={"min-width": "260px", "max-width": "320px"},
            )
            solara.Checkbox(
                label="Follow the latest quarter",
                value=follow,
                on_value=lambda v: (set_follow(v), set_chosen(last)),
            )
            if not follow and last > 0:
                with solara.Div(classes=["margins-quarter-picker"], style={"min-width": "240px"}):
                    solara.SliderInt(
                        f"Quarter: {snap.period_of(quarter)}",
                        value=quarter,
                        min=0,
                        max=last,
                        on_value=set_chosen,
                    )
        if found is None:
            solara.Text(f"{key or 'This market'} did not clear in {snap.period_of(quarter)}.")
            return
        rule = (
            "one uniform price for every trade"
            if found.rule == "uniform"
            else "each seller's posted price; buyers rationed when oversubscribed"
        )
        named = (
            views.named_token_price(snap, quarter, found.book, found.price)
            if found.market == "tokens"
            else ""
        )
        summary = (
            f"{found.period}: {views.amount(found.volume)} {found.unit} traded at "
            f"{views.usd(found.price, cents=True)} per {found.price_unit.removeprefix('USD per ')} "
            f"{'(average) ' if found.rule == 'posted' else ''}{named}— {rule}."
        )
        solara.HTML(tag="p", unsafe_innerHTML=html.escape(summary), classes=["margins-caption"])
        with solara.Div(classes=["margins-scroll"]):
            VegaChart(spec, f"inspector-{key.replace('/', '-')}-{snap.period_of(quarter)}")
        rows = [
            [
                _dot(p["colour"]) + html.escape(p["name"]),
                "buys" if p["side"] == "bid" else "sells",
                html.escape(p["price"]),
                html.escape(p["wanted"]),
                html.escape(p["got"]),
                html.escape(p["outcome"]),
            ]
            for p in found.parties
        ]
        table = _table(
            ["who", "side", "price (USD per unit)", "wanted", "got", "outcome"], rows, wrap=5
        )
        solara.HTML(
            tag="div", classes=["margins-scroll", "margins-parties"], unsafe_innerHTML=table
        )


@solara.component
def FirmView(snap: Snapshot, firm: solara.Reactive[str], before: Snapshot | None = None):
    choices = solara.use_memo(lambda: views.firm_choices(snap), [snap.serial])
    key = firm.value if firm.value in choices else next(iter(choices), "")
    spec = solara.use_memo(
        lambda: spec_of(lambda: charts.firm_spec(snap, key, before)),
        [snap.serial, key, before.serial if before else 0],
    )
    periods, rows = solara.use_memo(lambda: views.statement(snap, key), [snap.serial, key])
    by_label = {label: k for k, label in choices.items()}
    with ViewCard(
        "firm",
        "A firm's income statement",
        "One firm's revenue, costs and operating income per quarter (USD per "
        "quarter; the previous run, if kept, thinner); the table shows its last four quarters, "
        "depreciation and interest among them.",
    ):
        solara.Select(
            "Firm",
            values=list(choices.values()),
            value=choices.get(key),
            on_value=lambda label: firm.set(by_label.get(label, key)),
            style={"max-width": "320px"},
        )
        if key in snap.defaulted or key in snap.closed:
            why = "has closed" if key in snap.closed else "has defaulted"
            solara.Warning(
                f"{snap.names.get(key, key)} {why}: no rows after its last quarter.",
                dense=True,
            )
        with solara.Columns([1, 1], gutters_dense=True):
            with solara.Div(classes=["margins-scroll"]):
                VegaChart(spec, f"firm-{key}-{snap.period}")
            if periods:
                solara.HTML(
                    tag="div",
                    classes=["margins-scroll"],
                    unsafe_innerHTML=_table(
                        ["USD per quarter", *periods],
                        [[html.escape(c) for c in r] for r in rows],
                        strong={0, 3, 8},
                    ),
                )
            else:
                solara.Text("No income statement yet: run a quarter.")


@solara.component
def EventLog(snap: Snapshot):
    rows = solara.use_memo(lambda: views.event_rows(snap), [snap.serial])
    items = (
        "".join(
            f"<div>{_dot(r['colour'])}"
            f"<span class='margins-period'>{html.escape(r['period'])}</span>"
            f": {html.escape(r['text'])} <span class='margins-kind'>({html.escape(r['kind'])})"
            "</span></div>"
            for r in rows
        )
        or "<div>Nothing has happened yet.</div>"
    )
    with ViewCard(
        "events",
        "Event log",
        "What happened, newest first, in plain words: scripted events, firms' "
        "decisions, funding rounds and defaults.",
    ):
        solara.HTML(tag="div", unsafe_innerHTML=items, classes=["margins-events"])
