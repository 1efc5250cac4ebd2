"""``margins sweep`` and ``margins summarize``: registered on the main app by :func:`register`.

    margins sweep smoke --out out/smoke --workers 2
    margins sweep my-sweep.toml --out out/big --executor dask://10.0.0.5:8786
    margins summarize out/smoke

A bad spec, output directory or executor is one ``error:`` line on stderr and exit status 2,
before any run starts. Otherwise the exit status is 0 when every run is done, 1 when some runs
failed (the count is printed) or files could not be written, 130 when interrupted.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:  # imported where used: ``margins --help`` does not load polars
    import polars as pl

#: how many failed runs ``margins sweep`` lists by name
SHOWN_FAILURES = 5
#: a parameter with at most this many distinct values is charted as a line through its values
DISCRETE_VALUES = 12


def register(app: typer.Typer) -> None:
    """Add the batch commands ``sweep`` and ``summarize`` to ``app``."""
    app.command(name="sweep")(sweep_command)
    app.command(name="summarize")(summarize_command)


# ---------------------------------------------------------------------------------------------
def sweep_command(
    spec: Annotated[
        str,
        typer.Argument(
            metavar="SPEC",
            help="A sweep spec: a TOML file, or the name of a shipped one in "
            "runs/sweeps/ (e.g. smoke).",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="DIR",
            help="The sweep's directory: runs/<run_id>/ per run, runs.parquet, summary.parquet. "
            "Running the same spec into it again finishes only the missing runs "
            "(default: out/NAME, NAME from the spec).",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-w",
            metavar="N",
            help="Local worker processes, at most 4 per CPU (default: one per CPU; 1 runs in "
            "this process). With "
            "Dask: tasks kept in flight (default: the cluster's threads).",
            show_default=False,
        ),
    ] = None,
    executor: Annotated[
        str,
        typer.Option(
            "--executor",
            "-e",
            metavar="local|dask://HOST:PORT",
            help="Where runs execute: a local process pool, or the Dask scheduler at HOST:PORT "
            "(needs the dask extra).",
        ),
    ] = "local",
    retry_failed: Annotated[
        bool,
        typer.Option(
            "--retry-failed", help="Run again the runs that failed in an earlier attempt."
        ),
    ] = False,
) -> None:
    """Run every point × replication of a sweep spec; resume an interrupted one.

    The spec names a base scenario, the parameters to vary by dotted path (lists make a grid,
    ranges are sampled by Latin hypercube or at random), the replications per point and the
    quarters. Each run's seed comes from the spec's root seed; each run's files go to
    DIR/runs/RUN_ID/, and DIR/runs.parquet and DIR/summary.parquet index them (see
    docs/batches.md). Shows a progress bar on a terminal, a line every few seconds otherwise.

    A run that raises is recorded as failed, with its error; a run whose worker was lost, or
    that could not be written (a full disk), is not: running the same command again runs it.

    Exit status: 0 when every run is done and succeeded; 1 when some runs failed (the count is
    printed), or when the sweep stopped because files could not be written (a full disk, a
    read-only directory) or the executor failed; 2 for a bad spec, directory or executor
    (nothing ran); 130 when interrupted (run the same command again to finish).
    """
    from cli.common import EXIT_FAILED, fail, fail_output
    from runs.output import OutputError
    from runs.scenario import ScenarioError
    from runs.sweep import (
        SweepError,
        SweepFailure,
        SweepReport,
        check_workers,
        parse_executor,
        plan_sweep,
        sweep,
    )

    try:
        kind, _ = parse_executor(executor)
        check_workers(workers, local=kind == "local")
        plan = plan_sweep(spec)
    except (ScenarioError, SweepError) as exc:
        fail(str(exc))
    out = out if out is not None else Path("out") / plan.spec.name
    report = SweepReport(out, len(plan.tasks), 0)
    try:
        summary = sweep(
            plan,
            out,
            workers=workers,
            executor=executor,
            progress="auto",
            retry_failed=retry_failed,
            report=report,
        )
    except (SweepError, ScenarioError) as exc:
        fail(str(exc))
    except (OutputError, SweepFailure) as exc:
        again = (
            f"; {report.done} of {report.total} runs done, run the same command again to "
            "finish the rest"
        )
        if isinstance(exc, OutputError):
            fail_output(exc, again)
        fail(f"{exc}{again}", EXIT_FAILED)
    except KeyboardInterrupt:
        typer.echo(
            f"interrupted: {report.done} of {report.total} runs done; run the same command "
            "again to finish the rest",
            err=True,
        )
        raise typer.Exit(130) from None
    _print_sweep(plan.spec.name, summary, report)
    if report.failed or report.lost:
        raise typer.Exit(EXIT_FAILED)


def _print_sweep(name: str, summary: pl.DataFrame, report: Any) -> None:
    import polars as pl

    from cli.common import console as _console
    from runs.sweep import human_duration

    console = _console()
    failed = summary.filter(pl.col("status") == "failed")
    ran = (
        f"ran {report.ran} in {human_duration(report.seconds)} on {report.pool}"
        if report.ran
        else "nothing left to run"
    )
    lost = (
        f", {len(report.lost)} lost (their worker died twice; not recorded, run the same "
        "command again to retry them)"
        if report.lost
        else ""
    )
    console.print(
        f"sweep {name}: {summary.height} runs, {summary.height - failed.height} ok, "
        f"{failed.height} failed{lost}; {ran} ({report.done_before} done before)",
        soft_wrap=True,
    )
    for run_id, error in report.errors[:SHOWN_FAILURES]:
        console.print(f"lost {run_id}: {error}", soft_wrap=True)
    if failed.height:
        errors = (
            pl.read_parquet(report.out / "runs.parquet")
            .filter(pl.col("status") == "failed")
            .select("run_id", "error")
        )
        for run_id, error in errors.head(SHOWN_FAILURES).iter_rows():
            console.print(f"failed {run_id}: {error}", soft_wrap=True)
        if errors.height > SHOWN_FAILURES:
            console.print(
                f"… and {errors.height - SHOWN_FAILURES} more (the error column of runs.parquet)",
                soft_wrap=True,
            )
    console.print(
        f"wrote {report.out} (runs.parquet, summary.parquet, runs/); "
        f"see: margins summarize {report.out}",
        soft_wrap=True,
    )


# ---------------------------------------------------------------------------------------------
def summarize_command(
    directory: Annotated[
        Path,
        typer.Argument(
            metavar="DIR",
            help="A sweep's directory (the --out of margins sweep).",
            show_default=False,
        ),
    ],
    window: Annotated[
        str | None,
        typer.Option(
            "--window",
            metavar="W",
            help="The summary window to show, e.g. 2026 or all (default: the last calendar year "
            "of the sweep's windows).",
            show_default=False,
        ),
    ] = None,
    charts: Annotated[
        bool, typer.Option("--charts/--no-charts", help="Write PNG charts into DIR/charts/.")
    ] = True,
) -> None:
    """Per point of a sweep: mean and 95% interval over its replications of the key figures.

    For each point, each layer's gross margin, operating margin and share of the industry's
    gross profit over the window, the average clearing prices, and which firms defaulted in
    how many runs. The interval is the 95% confidence interval of the mean (Student's t over
    the point's successful runs). Charts: each layer's margins against each varied parameter.
    """
    import polars as pl

    from cli.common import fail
    from runs.sweep import SweepError, collect, read_meta

    try:
        meta = read_meta(directory)
        path = directory / "summary.parquet"
        summary = pl.read_parquet(path) if path.is_file() else collect(directory)[1]
    except (SweepError, OSError) as exc:
        fail(str(exc))
    labels = meta.get("windows", [])
    if window is not None and window not in labels:
        fail(f"--window {window}: not a window of this sweep; its windows: " + ", ".join(labels))
    if summary.height == 0:
        fail(f"{directory}: no finished runs yet; run margins sweep SPEC --out {directory}")
    from runs.sweep import key_window

    window = window or key_window(labels)
    _print_summary(meta, summary, window)
    if charts:
        written = write_charts(summary, directory / "charts", window)
        for path in written:
            typer.echo(f"wrote {path}")


def _fmt_pct(mean: float | None, lo: float | None, hi: float | None) -> str:
    if mean is None:
        return "—"
    if lo is None or hi is None:
        return f"{100 * mean:.1f}%"
    return f"{100 * mean:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}]"


def _fmt_num(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _fmt_value(value: Any) -> str:
    """A parameter value: ``0.8``, ``1``, ``20,000``, ``1.235e-05``, ``baseline``."""
    if isinstance(value, float):
        return (
            f"{value:,.0f}" if value.is_integer() and 1e3 <= abs(value) < 1e15 else f"{value:.4g}"
        )
    return str(value)


def _print_summary(meta: dict[str, Any], summary: pl.DataFrame, window: str) -> None:
    import polars as pl

    from cli.common import console as _console
    from runs.report import LAYERS
    from runs.sweep import LAYER_FIGURES, PRICE_MARKETS, default_counts, point_summary

    console = _console()
    figures = [f"{fig}_{layer}_{window}" for layer in LAYERS for fig in LAYER_FIGURES]
    prices = [f"price_{m}_{window}" for m in PRICE_MARKETS if f"price_{m}_{window}" in summary]
    stats = point_summary(summary, [f for f in figures if f in summary.columns] + prices)
    defaults = default_counts(summary)
    total, failed = (
        meta.get("runs", summary.height),
        summary.filter(pl.col("status") == "failed").height,
    )
    incomplete = f"; incomplete: {summary.height} of {total} runs" if summary.height < total else ""
    console.print(
        Text.assemble(
            (f"sweep {meta.get('name', '?')}", "bold"),
            f" · {summary.height} runs ({failed} failed) · {meta.get('points', '?')} points × "
            f"{meta.get('replications', '?')} replications · window {window}{incomplete}",
        ),
        soft_wrap=True,
    )
    console.print(
        "mean [95% confidence interval of the mean] over each point's replications", soft_wrap=True
    )
    params = [c for c in stats.columns[2 : stats.columns.index("runs")]]
    varied_scenario = stats["scenario"].n_unique() > 1
    for row in stats.iter_rows(named=True):
        where = [f"{p} = {_fmt_value(row[p])}" for p in params]
        if varied_scenario or not where:
            where.insert(0, f"scenario {row['scenario']}")
        ok = row["runs"] - row["failed"]
        title = (
            f"point {row['point']} · "
            + " · ".join(where)
            + f" · {ok} runs"
            + (f" ({row['failed']} failed)" if row["failed"] else "")
        )
        console.print(Text(title, style="bold"), soft_wrap=True)
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
        table.add_column("layer", no_wrap=True)
        for heading in ("gross margin", "operating margin", "profit share"):
            table.add_column(heading, justify="right", no_wrap=True)
        for layer in LAYERS:
            cells = []
            for fig in LAYER_FIGURES:
                name = f"{fig}_{layer}_{window}"
                cells.append(
                    _fmt_pct(row.get(f"{name}_mean"), row.get(f"{name}_lo"), row.get(f"{name}_hi"))
                )
            table.add_row(layer, *cells)
        console.print(table)
        shown = [
            f"{p.split('_')[1]} {_fmt_num(row[f'{p}_mean'])}"
            for p in prices
            if row.get(f"{p}_mean") is not None
        ]
        if shown:
            console.print("prices (USD, volume-weighted): " + " · ".join(shown), soft_wrap=True)
        firms = defaults.filter(pl.col("point") == row["point"])
        console.print(
            "defaults: "
            + (", ".join(f"{firm} in {n}/{ok}" for _, firm, n in firms.iter_rows()) or "none"),
            soft_wrap=True,
        )
        console.print("")


# ---------------------------------------------------------------------------------------------
def write_charts(summary: pl.DataFrame, out: Path, window: str) -> list[Path]:
    """PNG charts of each layer's gross and operating margin in ``window``: one chart per
    varied parameter (mean and 95% interval at each value, or each point's mean and a LOESS
    curve for a sampled parameter), or one bar chart by layer when nothing varies."""
    import polars as pl

    from runs.report import LAYERS
    from runs.stats import group_mean_interval
    from runs.sweep import parameter_columns

    ok = summary.filter(pl.col("status") == "ok")
    names = {
        f"{fig}_{layer}_{window}": (label, layer)
        for fig, label in (
            ("gross_margin", "gross margin"),
            ("operating_margin", "operating margin"),
        )
        for layer in LAYERS
        if f"{fig}_{layer}_{window}" in ok.columns
    }
    if ok.height == 0 or not names:
        return []
    params = parameter_columns(summary)
    if ok["scenario"].n_unique() > 1:
        params = ["scenario", *params]
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for param in params or [None]:
        by = ["point", param] if param and _continuous(ok, param) else [param] if param else []
        long = (
            ok.select(*by, "replication", *names)
            .unpivot(index=[*by, "replication"], on=list(names), variable_name="column")
            .with_columns(
                pl.col("column")
                .replace_strict({k: v[0] for k, v in names.items()})
                .alias("figure"),
                pl.col("column").replace_strict({k: v[1] for k, v in names.items()}).alias("layer"),
            )
        )
        stats = group_mean_interval(long, [*by, "figure", "layer"], ["value"])
        if param is not None:
            stats = stats.rename({param: "x"})
        chart = _chart(
            stats,
            param,
            continuous=param is not None and "point" in by,
            layers=list(LAYERS),
            window=window,
        )
        path = out / (f"margins_vs_{_slug(param)}.png" if param else "margins_by_layer.png")
        chart.save(str(path), format="png", scale_factor=1.5)
        written.append(path)
    return written


def _continuous(frame: pl.DataFrame, param: str) -> bool:
    return frame.schema[param].is_numeric() and frame[param].n_unique() > DISCRETE_VALUES


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def _chart(
    stats: pl.DataFrame, param: str | None, continuous: bool, layers: list[str], window: str
) -> Any:
    import altair as alt

    from runs.charts import robust_domain

    color = alt.Color("layer:N", scale=alt.Scale(domain=layers), sort=layers, title="layer")
    values = [*stats["value_mean"], *stats["value_lo"], *stats["value_hi"]]
    domain, clipped = robust_domain(values)
    y = alt.Y(
        "value_mean:Q",
        axis=alt.Axis(format="%"),
        scale=alt.Scale(domain=domain, clamp=True),
        title=f"margin, {window}" + (" (beyond ±100% drawn at the edge)" if clipped else ""),
    )
    base = alt.Chart(stats.drop_nulls("value_mean")).properties(width=300, height=220)
    if param is None:
        x = alt.X("layer:N", sort=layers, title=None)
        layer = alt.layer(
            base.mark_bar().encode(x=x, y=y, color=color),
            base.mark_errorbar().encode(
                x=x,
                y=alt.Y("value_lo:Q", title="", scale=alt.Scale(domain=domain, clamp=True)),
                y2="value_hi:Q",
            ),
        )
    elif not stats.schema["x"].is_numeric():  # e.g. the scenario: values side by side
        x = alt.X("x:N", title=param, axis=alt.Axis(labelAngle=0))
        offset = alt.XOffset("layer:N", sort=layers)
        layer = alt.layer(
            base.mark_point(filled=True, size=50).encode(x=x, xOffset=offset, y=y, color=color),
            base.mark_errorbar().encode(
                x=x,
                xOffset=offset,
                y=alt.Y("value_lo:Q", title="", scale=alt.Scale(domain=domain, clamp=True)),
                y2="value_hi:Q",
                color=color,
            ),
        )
    else:
        x = alt.X("x:Q", title=param, scale=alt.Scale(zero=False, padding=12))
        if continuous:
            points = base.mark_point(opacity=0.6).encode(x=x, y=y, color=color)
            curve = (
                base.transform_loess("x", "value_mean", groupby=["figure", "layer"])
                .mark_line()
                .encode(x=x, y=y, color=color)
            )
            layer = alt.layer(points, curve)
        else:
            line = base.mark_line(point=True).encode(x=x, y=y, color=color)
            bars = base.mark_errorbar().encode(
                x=x,
                y=alt.Y("value_lo:Q", title="", scale=alt.Scale(domain=domain, clamp=True)),
                y2="value_hi:Q",
                color=color,
            )
            layer = alt.layer(line, bars)
    return layer.facet(
        column=alt.Column("figure:N", title=None, sort=["gross margin", "operating margin"])
    )
