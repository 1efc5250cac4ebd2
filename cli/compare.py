"""``margins compare``: scenarios against the baseline, registered by :func:`register`.

margins compare funding-dries-up monetization --seeds 8 --out out/compare
margins compare --all                # every scenario of the library (docs/findings.md)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table


def register(app: typer.Typer) -> None:
    """Add the ``compare`` command to ``app``."""
    app.command(name="compare")(compare_command)


def compare_command(
    scenarios: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="SCENARIO...",
            help="Scenarios of the library (see `margins scenarios`) or TOML files; the baseline "
            "is always run too.",
            show_default=False,
        ),
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Compare every scenario of the library.")
    ] = False,
    seeds: Annotated[
        int,
        typer.Option(
            "--seeds",
            "-n",
            metavar="N",
            help="Seeds per scenario, 2 to 1000 (the same N seeds "
            "for every scenario, so differences are paired).",
        ),
    ] = 8,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="DIR",
            help="Directory for report.md, the PNG charts and the runs (the sweep machinery's "
            "layout); running the same comparison again finishes only what is missing "
            "(default: out/compare/SCENARIOS-Nseeds, e.g. out/compare/all-8seeds).",
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
            "this process).",
            show_default=False,
        ),
    ] = None,
    executor: Annotated[
        str,
        typer.Option(
            "--executor",
            "-e",
            metavar="local|dask://HOST:PORT",
            help="Where runs execute: a local process pool or a Dask scheduler.",
        ),
    ] = "local",
    quarters: Annotated[
        int | None,
        typer.Option(
            "--quarters",
            "-q",
            metavar="N",
            help="Quarters per run (default: the scenarios' own, 40).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run scenarios and the baseline on the same seeds and report who captures the money.

    Writes DIR/report.md: per scenario, the change against the baseline in each layer's gross
    and operating margin and profit-pool share (2025–2026 and 2027–2030, 95% intervals over
    seeds), market concentration (HHI) and the leading sellers' Lerner index, and a verdict on
    each of the scenario's claims — supported, contradicted, not supported or untestable — by the
    rule the report states. Also DIR/margins.png and DIR/profit_pool.png.

    Exit status: 0 all done; 1 some runs failed (the count is printed), or files could not be
    written (a full disk, a read-only directory) or the executor failed; 2 bad input, nothing
    ran; 130 interrupted (run the same command again to finish).
    """
    from cli.common import EXIT_FAILED, fail, fail_output
    from cli.common import console as _console
    from runs.compare import compare, default_out, scenario_list
    from runs.output import WRITE_ERRORS, OutputError, write_error
    from runs.scenario import ScenarioError
    from runs.sweep import SweepError, SweepFailure, check_workers, parse_executor

    names = scenario_list(scenarios or [], everything=all_)
    if len(names) < 2:
        fail(
            "name at least one scenario to compare with the baseline, or --all "
            "(see: margins scenarios)"
        )
    if not 2 <= seeds <= 1000:
        fail(f"--seeds: must be between 2 and 1000, got {seeds}")
    if quarters is not None and not 1 <= quarters <= 400:
        fail(f"--quarters: must be between 1 and 400, got {quarters}")
    if out is None:
        out = default_out(names, seeds, everything=all_)
    try:
        kind, _ = parse_executor(executor)
        check_workers(workers, local=kind == "local")
    except SweepError as exc:
        fail(str(exc))
    again = "; run the same command again to finish"
    try:
        result = compare(
            names[1:], seeds=seeds, out=out, workers=workers, executor=executor, quarters=quarters
        )
    except (ScenarioError, SweepError) as exc:
        fail(str(exc))
    except OutputError as exc:
        fail_output(exc, again)
    except SweepFailure as exc:
        fail(f"{exc}{again}", EXIT_FAILED)
    except WRITE_ERRORS as exc:  # the report or its charts
        fail_output(write_error(f"--out {out}", exc), again)
    except KeyboardInterrupt:
        typer.echo("interrupted: run the same command again to finish the rest", err=True)
        raise typer.Exit(130) from None
    console = _console()
    table = Table(
        title=f"Claims against the baseline ({seeds} seeds)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for column in ("scenario", "claim", "verdict"):
        table.add_column(column)
    for row in result.claims.iter_rows(named=True):
        table.add_row(row["scenario"], row["claim"], row["verdict"])
    console.print(table)
    for name, verdict in result.verdicts.items():
        console.print(f"{name}: {verdict}", soft_wrap=True)
    if result.failed:
        console.print(f"{result.failed} runs failed; see {out / 'runs.parquet'}")
    console.print(f"wrote {out / 'report.md'}", soft_wrap=True)
    if result.failed:
        raise typer.Exit(EXIT_FAILED)
