"""The ``margins`` command: run scenarios, list the library, check scenario files.

    margins run                          # the baseline, its own quarters and seed
    margins run my.toml --quarters 20 --seed 3 --out out/mine
    margins scenarios
    margins validate my.toml

A user's mistake (a bad scenario file, an unknown scenario, a bad option, an output path that is
a file) prints one line ``error: <message>`` on stderr and exits with status 2, before anything
runs; files that cannot be written (a full disk, a read-only or forbidden directory) are one such
line and status 1. Every command's statuses: :data:`cli.common.EXIT_STATUS_HELP`.

The model, polars and the scenario loader are imported inside the commands that use them, so
that ``margins --help`` and a mistyped option answer at once (docs/performance.md, "Start-up").
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from cli.common import EXIT_STATUS_HELP, fail, fail_output
from cli.common import console as _console
from cli.common import echo_error as _echo_error
from market.calendar import MAX_QUARTERS, MAX_SCALE, MAX_SEED

if TYPE_CHECKING:
    import polars as pl

LEADING_FIRMS = 8


class _OneLineErrors(TyperGroup):
    """Report usage errors (bad option values, unknown commands) as one ``error:`` line, exit 2."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except typer.Abort:
            _echo_error("aborted")
            code = 1
        except typer.TyperException as exc:  # click's usage errors, as vendored by typer
            format_message = getattr(exc, "format_message", None)
            message = format_message() if format_message else str(exc)
            if not message:  # no arguments at all: the help has been printed
                return _exit(exc.exit_code, standalone_mode)
            ctx = getattr(exc, "ctx", None)
            if ctx is not None:
                message += f" (see: {ctx.command_path} --help)"
            _echo_error(message)
            code = getattr(exc, "exit_code", 2)
        return _exit(code, standalone_mode)


def _exit(code: Any, standalone_mode: bool) -> Any:
    if not standalone_mode:
        return code
    sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    name="margins",
    cls=_OneLineErrors,
    help="Chasing Margins: an agent-based simulation of the AI value chain — who captures the "
    "margins. Run a scenario, list the scenario library or check a scenario file; sweep "
    "parameters over many runs and summarize them; compare scenarios with the baseline and "
    "test their claims; watch the value chain live in the web app.\n\n" + EXIT_STATUS_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)


# ---------------------------------------------------------------------------------------------
@app.command()
def run(
    scenario: Annotated[
        str,
        typer.Argument(
            help="A scenario of the library (see `margins scenarios`) or a path to a TOML file.",
            show_default=True,
        ),
    ] = "baseline",
    quarters: Annotated[
        int | None,
        typer.Option(
            "--quarters",
            "-q",
            metavar="N",
            help=f"Quarters to simulate, 1 to {MAX_QUARTERS} (default: the scenario's own).",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            "-s",
            metavar="S",
            help="Random seed, a whole number ≥ 0 (default: the scenario's own).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="DIR",
            help="Directory to write manifest.json, scenario.toml and the five Parquet frames "
            "(firms, markets, flows, models, events) into; created if missing "
            "(default: out/SCENARIO-seedS, e.g. out/baseline-seed0). The files are written "
            "beside it first and moved into place when all are written; a previous run's "
            "output there is replaced whole.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Write into --out even when it holds files that are not a run's (those stay; "
            "a run's files of the same names are replaced).",
        ),
    ] = False,
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="Change one scenario value by its dotted path, e.g. `--set demand.multiplier=1.5` "
            "or `--set firms.nvidia.component_cost_usd=7600`; repeatable. VALUE is read as a "
            "TOML value (a number, true/false, a quoted string, a list) or else as a string, and "
            "checked exactly as the same key in a scenario file. Recorded in manifest.json "
            "(`overrides`) and in the written scenario.toml.",
            show_default=False,
        ),
    ] = None,
    chart: Annotated[
        bool,
        typer.Option(
            "--chart",
            help="Also write margins.png (each layer's gross and operating margin per quarter) "
            "and profit_pool.png (each layer's share of the industry's gross profit) beside "
            "the frames.",
        ),
    ] = False,
    scale: Annotated[
        int | None,
        typer.Option(
            "--scale",
            metavar="K",
            help=f"Run the economy K times over, K a whole number from 1 to {MAX_SCALE}: every "
            "app, inference host and customer segment is cloned K times, each clone with 1/K of "
            "every size (users, spend, tokens, cash, fixed costs) and the same prices, rates and "
            "qualities, clone k of an app or host selling in clone k of its segments; labs, "
            "clouds, chip designers and the foundry are not cloned. The same economy at K times "
            "the firms and orders, for measuring how runs scale (docs/model.md, 'Scaled "
            "economies'). Applied after --set; recorded in manifest.json (`scale`) and as "
            "`scale` in the written scenario.toml's [scenario] table.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run a scenario, write its frames to a directory and print the margins it produced.

    The table shows, for each layer of the value chain and then for the leading firms by
    revenue, the gross and operating margin (sum of profit over sum of revenue) of a few
    calendar years: 2025, 2026 and 2030 when the run covers them, and its last full year.

    Exit status: 0 done; 1 the files could not be written (a full disk, a read-only or
    forbidden directory: a previous output stays whole); 2 bad input, nothing ran; 130
    interrupted.
    """
    from runs.charts import write_run_charts
    from runs.output import OutputError, Staged
    from runs.report import leading_firms, report_years
    from runs.run import run as run_scenario
    from runs.scenario import ScenarioError, load_scenario

    overrides = parse_settings(settings or [])
    if scale is not None and not 1 <= scale <= MAX_SCALE:
        fail(f"--scale: must be a whole number between 1 and {MAX_SCALE}, got {scale}")
    if scale is not None and "scenario.scale" in overrides:
        fail("--scale: also given as --set scenario.scale; give one of them")
    try:
        loaded = load_scenario(scenario, overrides, scale=scale)
    except ScenarioError as exc:
        fail(f"--set: {exc}" if overrides and exc.key in overrides else str(exc))
    quarters = loaded.quarters if quarters is None else quarters
    seed = loaded.seed if seed is None else seed
    if not 1 <= quarters <= MAX_QUARTERS:
        fail(f"--quarters: must be between 1 and {MAX_QUARTERS}, got {quarters}")
    if not 0 <= seed <= MAX_SEED:
        fail(f"--seed: must be a whole number between 0 and {MAX_SEED}, got {seed}")
    if out is None:
        out = Path("out") / f"{_scenario_label(scenario)}-seed{seed}"
    try:  # made now, so that a bad --out fails before the run, not after
        staged = Staged(out, force=force, label=f"--out {out}")
    except OutputError as exc:
        fail_output(exc)
    charts: list[Path] = []
    try:
        result = run_scenario(loaded, quarters=quarters, seed=seed)
        result.manifest["overrides"] = overrides
        title = f"{scenario} · seed {seed}"

        def fill(tmp: Path) -> Path:
            result.write_files(tmp)
            if chart:  # inside the staged directory: the charts land with the frames or not
                charts.extend(out / p.name for p in write_run_charts(result.firms, tmp, title))
            return tmp

        staged.write(fill)
    except ScenarioError as exc:
        fail(str(exc))
    except OutputError as exc:
        fail_output(exc)
    finally:
        staged.discard()  # gone once committed; removed after a failure or Ctrl-C

    firms = result.frames["firms"]
    console = _console()
    periods = firms["period"].unique().sort()
    span = f"{periods[0]}–{periods[-1]}" if len(periods) else "no quarters"
    console.print(
        Text.assemble((scenario, "bold"), f" · seed {seed} · {quarters} quarters ({span})")
    )
    years = report_years(firms)
    if years:
        console.print(layer_table(firms, years))
        console.print(firm_table(firms, years, leading_firms(firms, LEADING_FIRMS)))
        partial = _partial_years(firms, years)
        console.print(
            "gross, op: gross and operating margin over the calendar year, % of revenue; "
            "— no revenue to speak of (under $1M in the year)"
            + ("; * partial year" if partial else ""),
            soft_wrap=True,
        )
    console.print(f"wrote {out}", soft_wrap=True)
    for path in charts:
        console.print(f"wrote {path}", soft_wrap=True)


def parse_settings(settings: list[str]) -> dict[str, Any]:
    """``--set KEY=VALUE`` options as overrides by dotted path (values read as TOML values)."""
    out: dict[str, Any] = {}
    for item in settings:
        key, eq, text = item.partition("=")
        key = key.strip()
        if not eq or not key:
            fail(f"--set {item}: write KEY=VALUE, e.g. --set demand.multiplier=1.5")
        try:
            value = tomllib.loads(f"value = {text.strip()}")["value"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        if key in out:
            fail(f"--set {key}: given twice")
        out[key] = value
    return out


def _scenario_label(scenario: str) -> str:
    """``baseline`` for a library name, the file's stem for a path."""
    from runs.scenario import library_names

    return scenario if scenario in library_names() else Path(scenario).stem


# ---------------------------------------------------------------------------------------------
def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def _margin_table(
    title: str,
    first: str,
    rows: list[tuple[str, list[float | None]]],
    years: list[int],
    partial: set[int],
) -> Table:
    """Rows of (label, [gross, operating] per year) as a table with two columns a year."""
    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column(first, no_wrap=True)
    for year in years:
        table.add_column(
            f"{year}{'*' if year in partial else ''}\ngross", justify="right", no_wrap=True
        )
        table.add_column("\nop", justify="right", no_wrap=True)
    for label, values in rows:
        table.add_row(label, *(_pct(v) for v in values))
    return table


def _partial_years(firms: pl.DataFrame, years: list[int]) -> set[int]:
    from runs.report import full_years

    full = set(full_years(firms))
    return {y for y in years if y not in full}


#: a margin on less revenue than this in a year is not shown (it says nothing about the business)
MIN_REVENUE_USD = 1e6


def _meaningful(margins: pl.DataFrame) -> pl.DataFrame:
    """Margins with those on under :data:`MIN_REVENUE_USD` of revenue in the year blanked."""
    import polars as pl

    small = pl.col("revenue_usd") < MIN_REVENUE_USD
    return margins.with_columns(
        pl.when(small).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("gross_margin", "operating_margin")
    )


def layer_table(firms: pl.DataFrame, years: list[int]) -> Table:
    """A Rich table of each layer's gross / operating margin in ``years``."""
    from runs.report import layer_margins, wide

    frame = wide(_meaningful(layer_margins(firms, by="year")), "layer", years)
    rows = [(row[0], list(row[1:])) for row in frame.iter_rows()]
    return _margin_table("Margins by layer", "layer", rows, years, _partial_years(firms, years))


def firm_table(firms: pl.DataFrame, years: list[int], select: list[str]) -> Table:
    """A Rich table of the gross / operating margin of the firms ``select`` in ``years``."""
    from runs.report import firm_margins, wide

    frame = wide(_meaningful(firm_margins(firms, by="year", select=select)), "firm", years)
    rows = [(f"{row[1]} ({row[2]})", list(row[3:])) for row in frame.iter_rows()]
    return _margin_table(
        f"Leading firms by revenue (top {len(select)})",
        "firm",
        rows,
        years,
        _partial_years(firms, years),
    )


# ---------------------------------------------------------------------------------------------
@app.command()
def scenarios() -> None:
    """List the scenario library: each scenario's name and description, one a line.

    Run one with `margins run NAME`; the files are in runs/scenarios/.
    """
    from runs.scenario import LIBRARY, ScenarioError, library_names, load_scenario

    console = _console()
    broken = []
    names = library_names()
    width = max((len(n) for n in names), default=0)
    for name in names:
        try:
            description = load_scenario(name).description
        except ScenarioError as exc:
            broken.append(str(exc))
            continue
        console.print(Text.assemble((name.ljust(width), "bold"), "  ", description), soft_wrap=True)
    if not names:
        fail(f"no scenarios in {LIBRARY}")
    for message in broken:
        _echo_error(message)
    if broken:
        raise typer.Exit(2)


@app.command()
def validate(
    scenario: Annotated[
        str,
        typer.Argument(
            help="A scenario of the library or a path to a TOML file.", show_default=False
        ),
    ],
) -> None:
    """Check a scenario (with what it extends): print OK and a summary, or the first error.

    Exit status 0 if the scenario is valid, 2 if not (the error names the file, the key and
    what is allowed).
    """
    from runs.scenario import ScenarioError, load_scenario, resolve

    try:
        loaded = load_scenario(scenario)
        source = resolve(scenario)
    except ScenarioError as exc:
        fail(str(exc))
    _console().print(
        f"OK {source}: {loaded.name} — {len(loaded.firms)} firms, {len(loaded.programs)} "
        f"programs, {len(loaded.events)} events, {loaded.quarters} quarters from {loaded.start}",
        soft_wrap=True,
    )


def _register_more_commands() -> None:
    from cli.compare import register as register_compare
    from cli.sweep import register as register_batches
    from cli.viz import register as register_viz

    register_batches(app)
    register_compare(app)
    register_viz(app)


_register_more_commands()


def main() -> None:
    """Entry point of the ``margins`` console script."""
    app(prog_name="margins")


if __name__ == "__main__":
    main()
