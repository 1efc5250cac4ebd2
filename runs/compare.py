"""Scenarios against the baseline: who captures the money, and whether each claim holds.

:func:`compare` runs the baseline and every scenario on the same seeds through the sweep machinery
(so it uses the local pool or Dask, and resumes), then judges the runs pairwise, seed by seed:

* per layer and window, the change in gross margin, operating margin and share of the
  industry's gross profit (the profit pool), with 95% intervals over seeds;
* market structure: the Herfindahl–Hirschman index of sellers' revenue in each market, and the
  Lerner index of each market's leading seller, measured by its gross margin
  ((P − MC)/P with cost of revenue standing in for marginal cost);
* every claim in the scenarios' ``[[claims]]``, with a verdict by the rule in
  :mod:`runs.claims`.

It writes ``report.md`` and PNG charts into the output directory.

    >>> from runs.compare import compare
    >>> result = compare(["funding-dries-up"], seeds=4, out="out/compare")   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from market.calendar import Window, period_of
from market.catalogue import LAYER_COLOURS, LAYER_LABELS, Layer
from runs.claims import claim_value, reading, scenario_verdict, verdict
from runs.scenario import CLAIM_LAYERS, Scenario, ScenarioError, library_names, load_scenario
from runs.stats import mean_interval

#: seeds per scenario when none are given (the default comparison and docs/findings.md)
DEFAULT_SEEDS = 8
#: the stated windows: the calibrated years, and the medium term
WINDOWS = ("2025Q1-2026Q4", "2027Q1-2030Q4")
#: markets whose concentration and leading seller are reported, by the flow that pays sellers
MARKET_FLOWS = {
    "foundry": "foundry_slots",
    "chips": "chip_sale",
    "compute": "compute_rental",
    "tokens": "token_sale",
    "plans": "subscription",
}
LAYER_NAMES = {
    "foundry": "Foundry",
    "chips": "Chip designers",
    "cloud": "Clouds",
    "neocloud": "Neoclouds",
    "lab": "Model labs",
    "host": "Inference hosts",
    "app": "Apps",
}
FIGURE_NAMES = {
    "gross_margin": "gross margin",
    "operating_margin": "operating margin",
    "profit_share": "profit-pool share",
}


@dataclass
class Comparison:
    """What :func:`compare` computed (also written to ``report.md``)."""

    scenarios: list[str]
    seeds: int
    quarters: int
    out: Path
    summary: pl.DataFrame
    layers: pl.DataFrame  # scenario, window, layer, figure, base, mean, low, high
    structure: pl.DataFrame  # scenario, window, market, measure, base, mean, low, high
    claims: pl.DataFrame  # scenario, claim, metric, window, base … high, verdict
    verdicts: dict[str, str] = field(default_factory=dict)
    failed: int = 0
    windows: list[str] = field(default_factory=list)


def default_out(names: list[str], seeds: int, everything: bool = False) -> Path:
    """``out/compare/<what>-<N>seeds``: one directory per comparison, so that running another
    comparison does not collide with a finished one."""
    what = "all" if everything else "+".join(n for n in names if n != "baseline")[:80]
    safe = "".join(c if c.isalnum() or c in "+-_" else "_" for c in what) or "baseline"
    return Path("out") / "compare" / f"{safe}-{seeds}seeds"


def scenario_list(names: list[str], everything: bool = False) -> list[str]:
    """The baseline first, then the scenarios asked for (all of the library with ``everything``)."""
    chosen = library_names(folders=False) if everything else list(names)
    return ["baseline"] + [n for n in dict.fromkeys(chosen) if n != "baseline"]


def compare(
    scenarios: list[str],
    seeds: int = DEFAULT_SEEDS,
    out: str | Path = "out/compare",
    *,
    workers: int | None = None,
    executor: Any = "local",
    quarters: int | None = None,
    root_seed: int = 0,
    progress: str | bool = "auto",
) -> Comparison:
    """Run the baseline and ``scenarios`` on ``seeds`` common seeds and judge them pairwise."""
    from runs.sweep import SweepReport, sweep

    names = scenario_list(scenarios)
    if len(names) < 2:
        raise ScenarioError(
            "compare",
            "scenarios",
            "name at least one scenario besides the "
            "baseline; library: " + ", ".join(library_names()),
        )
    loaded = {name: load_scenario(name) for name in names}  # bad names fail before any run
    quarters = quarters or max(s.quarters for s in loaded.values())
    windows = [w for w in WINDOWS if _fits(w, loaded["baseline"], quarters)]
    if not windows:  # a short comparison: the whole run is the window
        start = loaded["baseline"].start
        windows = [f"{start}-{period_of(start, quarters - 1)}"]
    spec = {
        "sweep": {
            "name": "compare",
            "quarters": quarters,
            "replications": seeds,
            "seed": root_seed,
            "seeds": "common",
            "panels": True,
            "windows": windows,
        },
        "vary": {"scenario": names},
    }
    out = Path(out)
    report = SweepReport(out, 0, 0)
    summary = sweep(spec, out, workers=workers, executor=executor, progress=progress, report=report)
    runs = _read_runs(out, summary)
    result = Comparison(
        names,
        seeds,
        quarters,
        out,
        summary,
        _layer_changes(summary, names, spec["sweep"]["windows"]),
        _structure(runs, names, loaded, spec["sweep"]["windows"]),
        _claims(runs, names, loaded, quarters),
        failed=int((summary["status"] != "ok").sum()) + len(report.lost),
        windows=windows,
    )
    result.verdicts = {
        name: scenario_verdict(
            result.claims.filter((pl.col("scenario") == name) & ~pl.col("lever"))[
                "verdict"
            ].to_list()
        )
        for name in names[1:]
    }
    write_report(result, loaded)
    return result


def _fits(window: str, scenario: Scenario, quarters: int) -> bool:
    return Window.parse(window).bounds(scenario.start, quarters)[1] < quarters


def _starts(window: str, scenario: Scenario, quarters: int) -> bool:
    """Whether a run of ``quarters`` reaches the window at all (a claim is judged on the part
    of its window the runs cover)."""
    return Window.parse(window).bounds(scenario.start, quarters)[0] < quarters


# -- reading runs -------------------------------------------------------------------------------
@dataclass
class _Run:
    scenario: str
    replication: int
    firms: pl.DataFrame
    markets: pl.DataFrame
    flows: pl.DataFrame


def _read_runs(out: Path, summary: pl.DataFrame) -> dict[tuple[str, int], _Run]:
    runs = {}
    for run_id, scenario, rep, status in summary.select(
        "run_id", "scenario", "replication", "status"
    ).iter_rows():
        if status != "ok":
            continue
        path = out / "runs" / run_id
        runs[(scenario, rep)] = _Run(
            scenario,
            rep,
            pl.read_parquet(path / "firms.parquet"),
            pl.read_parquet(path / "markets.parquet"),
            pl.read_parquet(path / "flows.parquet"),
        )
    return runs


def _paired(values: dict[tuple[str, int], float], name: str) -> tuple[float, list[float]]:
    """Baseline mean and the paired differences (scenario − baseline) over replications."""
    reps = sorted(r for (s, r) in values if s == name and ("baseline", r) in values)
    base = [values[("baseline", r)] for r in reps]
    diffs = [values[(name, r)] - values[("baseline", r)] for r in reps]
    finite = [b for b in base if np.isfinite(b)]
    return (float(np.mean(finite)) if finite else float("nan")), diffs


def _row(scenario: str, base: float, diffs: list[float], **keys: Any) -> dict[str, Any]:
    mean, low, high = mean_interval(diffs)
    return {"scenario": scenario, **keys, "base": base, "mean": mean, "low": low, "high": high}


# -- layer margins and the profit pool (from the sweep's summary) -------------------------------
def _layer_changes(summary: pl.DataFrame, names: list[str], windows: list[str]) -> pl.DataFrame:
    ok = summary.filter(pl.col("status") == "ok")
    rows = []
    for window in windows:
        for layer in CLAIM_LAYERS:
            for figure in FIGURE_NAMES:
                column = f"{figure}_{layer}_{window}"
                if column not in ok.columns:
                    continue
                values = {
                    (s, r): (float(v) if v is not None else float("nan"))
                    for s, r, v in ok.select("scenario", "replication", column).iter_rows()
                }
                for name in names[1:]:
                    base, diffs = _paired(values, name)
                    rows.append(_row(name, base, diffs, window=window, layer=layer, figure=figure))
    return pl.DataFrame(
        rows,
        schema={
            "scenario": pl.String,
            "window": pl.String,
            "layer": pl.String,
            "figure": pl.String,
            "base": pl.Float64,
            "mean": pl.Float64,
            "low": pl.Float64,
            "high": pl.Float64,
        },
    )


# -- market structure ---------------------------------------------------------------------------
def market_structure(run: _Run, window: str, start: str) -> dict[tuple[str, str], float]:
    """HHI of sellers' revenue and the leading seller's Lerner index, per market, in one run."""
    first, last = Window.parse(window).bounds(start)
    flows = run.flows.filter(pl.col("quarter").is_between(first, last))
    firms = run.firms.filter(pl.col("quarter").is_between(first, last))
    out: dict[tuple[str, str], float] = {}
    for market, kind in MARKET_FLOWS.items():
        sales = (
            flows.filter(pl.col("kind") == kind)
            .group_by("payee")
            .agg(pl.col("amount_cents").sum().cast(pl.Float64))
            .sort("payee")
        )
        total = float(sales["amount_cents"].sum()) if sales.height else 0.0
        if total <= 0:
            out[(market, "hhi")] = float("nan")
            out[(market, "lerner")] = float("nan")
            continue
        shares = sales["amount_cents"] / total
        out[(market, "hhi")] = float((shares * 100.0).pow(2).sum())
        leader = sales.sort(["amount_cents", "payee"], descending=[True, False])["payee"][0]
        own = firms.filter(pl.col("firm") == leader)
        revenue = float(own["revenue_usd"].sum())
        out[(market, "lerner")] = (
            float(own["gross_profit_usd"].sum()) / revenue if revenue > 0 else float("nan")
        )
    return out


def _structure(
    runs: dict[tuple[str, int], _Run],
    names: list[str],
    loaded: dict[str, Scenario],
    windows: list[str],
) -> pl.DataFrame:
    rows = []
    start = loaded["baseline"].start
    for window in windows:
        measured = {key: market_structure(run, window, start) for key, run in runs.items()}
        for market in MARKET_FLOWS:
            for measure in ("hhi", "lerner"):
                values = {key: m[(market, measure)] for key, m in measured.items()}
                for name in names[1:]:
                    base, diffs = _paired(values, name)
                    rows.append(
                        _row(name, base, diffs, window=window, market=market, measure=measure)
                    )
    return pl.DataFrame(
        rows,
        schema={
            "scenario": pl.String,
            "window": pl.String,
            "market": pl.String,
            "measure": pl.String,
            "base": pl.Float64,
            "mean": pl.Float64,
            "low": pl.Float64,
            "high": pl.Float64,
        },
    )


# -- claims -------------------------------------------------------------------------------------
def _claims(
    runs: dict[tuple[str, int], _Run],
    names: list[str],
    loaded: dict[str, Scenario],
    quarters: int,
) -> pl.DataFrame:
    rows = []
    for name in names[1:]:
        scenario = loaded[name]
        for claim in scenario.claims:
            values = {}
            for (s, r), run in runs.items():
                if s in ("baseline", name):
                    values[(s, r)] = claim_value(claim, run.firms, run.markets, scenario.start)
            base, diffs = _paired(values, name)
            if claim.direction == "largest":  # a level in the scenario's own runs
                diffs = [v for (s, _), v in sorted(values.items()) if s == name]
            row = _row(
                name,
                base,
                diffs,
                claim=claim.text,
                metric=claim.metric,
                direction=claim.direction,
                window=claim.window,
                lever=claim.lever,
            )
            row["verdict"] = (
                verdict(claim.direction, row["low"], row["high"])
                if np.isfinite(row["mean"]) and _starts(claim.window, scenario, quarters)
                else "untestable"
            )
            rows.append(row)
        levers = [r["verdict"] for r in rows if r["scenario"] == name and r["lever"]]
        for row in rows:
            if row["scenario"] == name:
                row["reading"] = "" if row["lever"] else reading(row["verdict"], levers)
    return pl.DataFrame(
        rows,
        schema={
            "scenario": pl.String,
            "claim": pl.String,
            "metric": pl.String,
            "direction": pl.String,
            "window": pl.String,
            "lever": pl.Boolean,
            "base": pl.Float64,
            "mean": pl.Float64,
            "low": pl.Float64,
            "high": pl.Float64,
            "verdict": pl.String,
            "reading": pl.String,
        },
    )


# -- the report ---------------------------------------------------------------------------------
PERCENT_METRICS = {"gross_margin", "operating_margin", "profit_share", "revenue_share"}


def _fmt(value: float, metric: str, signed: bool = False) -> str:
    if value is None or not np.isfinite(value):
        return "—"
    if metric in PERCENT_METRICS or metric in FIGURE_NAMES or metric == "lerner":
        text = f"{100 * value:+.1f} pp" if signed else f"{100 * value:.1f}%"
    elif metric == "hhi":
        text = f"{value:+,.0f}" if signed else f"{value:,.0f}"
    elif metric in ("revenue", "funding", "rnd"):
        text = f"{value / 1e9:+,.1f} B$" if signed else f"{value / 1e9:,.1f} B$"
    elif metric == "capacity":
        text = f"{value / 1e6:+,.2f} M H100e" if signed else f"{value / 1e6:,.2f} M H100e"
    elif metric == "price":
        text = f"{value:+.3f} $" if signed else f"{value:.3f} $"
    else:
        text = f"{value:+.2f}" if signed else f"{value:.2f}"
    return text


def _change(row: dict[str, Any], metric: str) -> str:
    mean = _fmt(row["mean"], metric, signed=True)
    if not (np.isfinite(row["low"]) and np.isfinite(row["high"])):
        return mean
    return f"{mean} [{_fmt(row['low'], metric, True)}, {_fmt(row['high'], metric, True)}]"


def write_report(result: Comparison, loaded: dict[str, Scenario]) -> Path:
    """Write ``report.md`` and the charts into the comparison's directory."""
    charts = write_charts(result)
    lines = [
        "# Who captures the money: scenarios against the baseline",
        "",
        f"Each scenario and the baseline ran {result.quarters} quarters from "
        f"{loaded['baseline'].start} on the same {result.seeds} seeds (replication *r* of every "
        "scenario uses the same seed, from root seed 0 by `SeedSequence.spawn`). Every figure "
        "is the change against the baseline on the same seed, averaged over seeds, with its "
        "95% t-interval in brackets.",
        "",
        "**Verdict rule.** A claim is *supported* when the 95% interval of its mean change lies "
        "wholly on the claimed side of zero, *contradicted* when it lies wholly on the other "
        "side, and *not supported* when it contains zero; *untestable* when the runs do not "
        "cover the claim's window. Over its testable claims, a scenario is *supported* when all "
        "are, *not supported* when none is, and *mixed* otherwise. A *lever* (in italics) is "
        "no claim but a check that the scenario's move took hold, judged by the same rule and "
        "not counted: a *not supported* claim reads as a *small effect* when every lever of its "
        "scenario moved, and as *mechanism did not respond* when one did not.",
        "",
    ]
    if result.failed:
        lines += [f"**{result.failed} runs failed**; they are left out (see runs.parquet).", ""]
    lines += [
        "## Verdicts",
        "",
        "| scenario | claim | window | baseline | change [95% CI] | verdict | reading |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in result.scenarios[1:]:
        for row in result.claims.filter(pl.col("scenario") == name).iter_rows(named=True):
            claim = f"*lever: {row['claim']}*" if row["lever"] else row["claim"]
            if row["direction"] == "largest":
                claim += " (a level: its lead over the next layer, in the scenario's runs)"
            lines.append(
                f"| {name} | {claim} | {row['window']} | "
                f"{_fmt(row['base'], row['metric'])} | {_change(row, row['metric'])} | "
                f"{row['verdict']} | {row['reading']} |"
            )
        lines.append(f"| **{name}** | **overall** | | | | **{result.verdicts[name]}** | |")
    lines += [""]
    for name in result.scenarios[1:]:
        scenario = loaded[name]
        lines += [
            f"## {name}",
            "",
            scenario.description,
            "",
            f"*Claim:* {scenario.claim}",
            "",
            f"*Encodes:* {scenario.source}",
            "",
        ]
        carried = [c for c in scenario.claims if c.mechanism]
        if carried:
            lines += ["*Mechanisms:*", ""]
            lines += [f"- {c.text}: {c.mechanism}" for c in carried]
            lines += [""]
        for window in sorted(result.layers["window"].unique()):
            frame = result.layers.filter(
                (pl.col("scenario") == name) & (pl.col("window") == window)
            )
            lines += [
                f"Layers, {window} (baseline level → change):",
                "",
                "| layer | gross margin | operating margin | profit-pool share |",
                "|---|---|---|---|",
            ]
            for layer in CLAIM_LAYERS:
                cells = []
                for figure in FIGURE_NAMES:
                    sel = frame.filter((pl.col("layer") == layer) & (pl.col("figure") == figure))
                    if sel.height == 0:
                        cells.append("—")
                        continue
                    row = sel.row(0, named=True)
                    cells.append(f"{_fmt(row['base'], figure)} → {_change(row, figure)}")
                lines.append(f"| {LAYER_NAMES[layer]} | " + " | ".join(cells) + " |")
            lines.append("")
        window = result.windows[-1]
        frame = result.structure.filter((pl.col("scenario") == name) & (pl.col("window") == window))
        lines += [
            f"Market structure, {window}: HHI of sellers' revenue (0–10,000) and the "
            "leading seller's Lerner index (its gross margin):",
            "",
            "| market | HHI | Lerner of the leader |",
            "|---|---|---|",
        ]
        for market in MARKET_FLOWS:
            cells = []
            for measure in ("hhi", "lerner"):
                sel = frame.filter((pl.col("market") == market) & (pl.col("measure") == measure))
                row = sel.row(0, named=True)
                cells.append(f"{_fmt(row['base'], measure)} → {_change(row, measure)}")
            lines.append(f"| {market} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["## Charts", ""]
    for title, path in charts:
        lines += [f"![{title}]({path.name})", ""]
    report = result.out / "report.md"
    report.write_text("\n".join(lines).rstrip() + "\n")
    return report


def write_charts(result: Comparison) -> list[tuple[str, Path]]:
    """PNG charts: operating-margin change by layer, and the profit pool, per scenario."""
    import altair as alt
    import vl_convert as vlc

    window = result.windows[-1]
    domain = [LAYER_LABELS[Layer(layer)] for layer in CLAIM_LAYERS]
    colours = [LAYER_COLOURS[Layer(layer)] for layer in CLAIM_LAYERS]
    scale = alt.Scale(domain=domain, range=colours)
    frame = result.layers.filter(
        (pl.col("window") == window) & (pl.col("figure") == "operating_margin")
    ).with_columns(
        pl.col("layer")
        .replace({k: LAYER_LABELS[Layer(k)] for k in CLAIM_LAYERS})
        .alias("layer_name"),
        *[(pl.col(c) * 100).alias(c) for c in ("mean", "low", "high")],
    )
    base = alt.Chart()
    bars = base.mark_bar().encode(
        x=alt.X("layer_name:N", sort=domain, title=None, axis=alt.Axis(labels=False, ticks=False)),
        y=alt.Y("mean:Q", title="change in operating margin, pp"),
        color=alt.Color("layer_name:N", scale=scale, title="layer"),
    )
    rules = base.mark_rule(color="#333").encode(
        x=alt.X("layer_name:N", sort=domain), y="low:Q", y2="high:Q"
    )
    margins = (
        alt.layer(bars, rules, data=alt.Data(values=frame.to_dicts()))
        .properties(width=150, height=160)
        .facet(facet=alt.Facet("scenario:N", title=None), columns=3)
        .properties(
            title=f"Operating margin by layer, change against the baseline, "
            f"{window} (mean and 95% interval over seeds)"
        )
    )
    pool = (
        result.summary.filter(pl.col("status") == "ok")
        .group_by("scenario")
        .agg([pl.col(f"profit_share_{layer}_{window}").mean() for layer in CLAIM_LAYERS])
        .unpivot(index="scenario", variable_name="column", value_name="share")
        .with_columns(
            pl.col("column")
            .str.extract(r"profit_share_([a-z]+)_", 1)
            .replace({k: LAYER_LABELS[Layer(k)] for k in CLAIM_LAYERS})
            .alias("layer_name"),
            (pl.col("share") * 100).alias("share"),
            pl.col("column")
            .str.extract(r"profit_share_([a-z]+)_", 1)
            .replace({k: str(i) for i, k in enumerate(CLAIM_LAYERS)})
            .cast(pl.Int32)
            .alias("rank"),
        )
    )
    order = result.scenarios
    shares = (
        alt.Chart(alt.Data(values=pool.to_dicts()))
        .mark_bar()
        .encode(
            y=alt.Y("scenario:N", sort=order, title=None),
            x=alt.X("share:Q", title="share of the industry's gross profit, %"),
            color=alt.Color("layer_name:N", scale=scale, title="layer"),
            order=alt.Order("rank:Q"),
        )
        .properties(
            width=520,
            height=22 * len(order),
            title=f"The profit pool by scenario, {window} (mean over seeds)",
        )
    )
    out = []
    for name, chart, title in (
        ("margins.png", margins, "Operating margin by layer"),
        ("profit_pool.png", shares, "The profit pool"),
    ):
        path = result.out / name
        path.write_bytes(vlc.vegalite_to_png(chart.to_json(), scale=2))
        out.append((title, path))
    return out


def findings_text(report: Path) -> str:
    """``report.md`` as docs/findings.md: a header saying how to regenerate it, charts in
    ``findings/``."""
    text = Path(report).read_text()
    for png in ("margins.png", "profit_pool.png"):
        text = text.replace(f"]({png})", f"](findings/{png})")
    header = (
        "<!-- Generated by `./dev python scripts/regenerate_findings.py` "
        "(margins compare --all on the default seeds); do not edit by hand. -->\n\n"
    )
    return header + text
