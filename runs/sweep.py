"""Experiment batches: sweep parameters, replicate with seeds, summarize what the runs show.

A *spec* (a TOML file or a dict) names a base scenario, the parameters to vary, the replications
of every point and the quarters. :func:`sweep` runs every point × replication on a local process
pool (or serially, or on a Dask cluster), writes each run's files under ``OUT/runs/<run_id>/`` and
returns the per-run summary; ``OUT/runs.parquet`` and ``OUT/summary.parquet`` index the lot.

    >>> from runs.sweep import plan_sweep
    >>> spec = {"sweep": {"quarters": 4, "replications": 2},
    ...         "vary": {"demand.multiplier": [0.8, 1.2]}}
    >>> [task.run_id for task in plan_sweep(spec).tasks]
    ['p000-r00', 'p000-r01', 'p001-r00', 'p001-r01']

Guarantees:

- Everything about a spec is checked before the first run (:class:`SpecError`, which names the
  file, the key and what is allowed): unknown keys, parameter paths that do not exist in the
  scenario, values the scenario would reject, empty ranges, windows outside the runs.
- Seeds come from one root seed via :meth:`numpy.random.SeedSequence.spawn`; every run records
  its parameters and seed, and a run's outputs depend only on them. The summary is therefore the
  same serially, on any number of local workers and on Dask.
- A run is done when its directory exists: workers write into ``OUT/runs/.tmp/`` and rename the
  finished directory into place, so a killed sweep never leaves half a run counted as done.
  Running the same spec into the same directory again runs only what is missing.
- A run that raises is recorded (``status = "failed"`` and the error) and the sweep goes on.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import multiprocessing
import os
import shutil
import signal
import socket
import time
import tomllib
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from runs.scenario import (
    ScenarioError,
    apply_overrides,
    check_path,
    known_keys,
    library_names,
    load_raw,
    resolve,
    validate,
)
from runs.stats import group_mean_interval as mean_interval

#: shipped example specs (``margins sweep smoke`` runs ``runs/sweeps/smoke.toml``)
SPEC_LIBRARY = Path(__file__).parent / "sweeps"

#: the figures :func:`summarize_run` reports per layer and window
LAYER_FIGURES = ("gross_margin", "operating_margin", "profit_share")

#: markets whose average clearing price :func:`summarize_run` reports per window
PRICE_MARKETS = ("foundry", "chips", "custom", "compute", "tokens", "plans")

#: columns of ``runs.parquet`` that describe how a run was executed, not what it computed
TIMING_COLUMNS = ("seconds", "worker")

MAX_RUNS = 1_000_000
MAX_QUARTERS = 400
MAX_SEED = 2**63 - 1
#: the exit status of ``margins sweep`` is the number of failed runs, capped here
MAX_EXIT_STATUS = 100
#: seconds to wait for a Dask scheduler before giving up
CONNECT_TIMEOUT_S = 10.0
#: runs per task submitted to a pool, at most; fewer when there are few runs per worker
MAX_CHUNK = 4
#: tasks in flight per worker slot
IN_FLIGHT_PER_SLOT = 2
#: seconds between progress lines when the output is not a terminal
PROGRESS_INTERVAL_S = 10.0

SWEEP_KEYS: dict[str, str] = {
    "name": "a name for the sweep (default: the file's name)",
    "description": "what the sweep asks",
    "scenario": "the base scenario: a library name or a TOML path (default baseline)",
    "quarters": f"quarters per run, 1 to {MAX_QUARTERS} (default: the scenario's own)",
    "replications": "runs per point, each with its own seed (default 1)",
    "seed": f"root seed, 0 to {MAX_SEED} (default 0)",
    "seeds": '"common": replication r has the same seed at every point (default); '
             '"independent": every run has its own seed',
    "panels": "keep each run's per-quarter frames as Parquet (default false)",
    "windows": 'summary windows: "2026", "2025-2027", "2025Q1-2026Q4", "all" '
               "(default: every full calendar year and all)",
}
SAMPLE_KEYS: dict[str, str] = {
    "method": '"lhs" (Latin hypercube, default) or "random"',
    "count": "how many samples of the ranges",
}
RANGE_KEYS = ("low", "high", "log")
#: scenario keys a spec may not vary, and why
RESERVED_PATHS = {
    "scenario.seed": "seeds come from the sweep's seed and replications",
    "scenario.extends": "vary the scenario itself with scenario = [...]",
}


class SpecError(ScenarioError):
    """A sweep spec that cannot run; the message names the file, the key and what is allowed."""


class SweepError(ValueError):
    """A sweep that cannot start: its output directory or its executor is unusable."""


# ---------------------------------------------------------------------------------------------
# windows and periods
def _period_index(period: str) -> int:
    return int(period[:4]) * 4 + int(period[-1]) - 1


def _period(index: int) -> str:
    return f"{index // 4}Q{index % 4 + 1}"


def _is_period(text: str) -> bool:
    return len(text) == 6 and text[:4].isdigit() and text[4] == "Q" and text[5] in "1234"


@dataclass(frozen=True, slots=True)
class Window:
    """Quarters a summary figure covers: ``first``..``last`` inclusive, or the whole run."""

    label: str
    first: str | None = None
    last: str | None = None

    @classmethod
    def parse(cls, text: str) -> Window:
        """``all``, a year (``2026``), a quarter (``2026Q3``) or a range of either
        (``2025-2027``, ``2025Q1-2026Q4``). Raises ``ValueError``."""
        text = text.strip()
        if text == "all":
            return cls("all")
        first, _, last = text.partition("-")
        last = last or first
        bounds = []
        for n, part in enumerate((first, last)):
            if len(part) == 4 and part.isdigit():
                bounds.append(f"{part}Q1" if n == 0 else f"{part}Q4")
            elif _is_period(part):
                bounds.append(part)
            else:
                raise ValueError(f"{text!r} is not a window; use all, a year (2026), a quarter "
                                 "(2026Q3) or a range (2025-2027, 2025Q1-2026Q4)")
        if _period_index(bounds[0]) > _period_index(bounds[1]):
            raise ValueError(f"{text!r} is an empty window: it ends before it starts")
        return cls(text, bounds[0], bounds[1])

    def overlaps(self, first: str, last: str) -> bool:
        if self.first is None or self.last is None:
            return True
        return self.first <= last and first <= self.last



ALL = Window("all")


# ---------------------------------------------------------------------------------------------
# the per-run summary
def summarize_run(frames: Mapping[str, pl.DataFrame],
                  windows: Sequence[Window] = (ALL,)) -> dict[str, Any]:
    """The figures a sweep compares across runs, from one run's frames: a flat dict of scalars.

    Per window and layer (``{figure}_{layer}_{window}``): ``gross_margin`` and
    ``operating_margin`` of the layer as one business (see :mod:`runs.report`), and
    ``profit_share``, its share of the gross profit of all producing layers together (null when
    that total is not positive). Per window and market (``price_{market}_{window}``): the
    volume-weighted average clearing price over all books. Then ``defaults``, the number of firms
    that defaulted, and ``defaulted``, their ids in the order they defaulted.

    To report a new figure, add it here: sweeps pick up every key this returns.
    """
    from runs.report import LAYERS, layer_margins

    firms, markets, events = frames["firms"], frames["markets"], frames["events"]
    margins = {(row["layer"], row["window"]): row for row in
               layer_margins(_by_window(firms, windows), by="window").iter_rows(named=True)}
    totals: dict[str, float] = {}
    for (_, label), row in margins.items():
        totals[label] = totals.get(label, 0.0) + row["gross_profit_usd"]
    for (_, label), row in margins.items():
        total = totals[label]
        row["profit_share"] = row["gross_profit_usd"] / total if total > 0 else None
    out: dict[str, Any] = {}
    for figure in LAYER_FIGURES:
        for layer in LAYERS:
            for window in windows:
                row = margins.get((layer, window.label))
                out[f"{figure}_{layer}_{window.label}"] = None if row is None else row[figure]
    traded = _by_window(markets, windows).filter(pl.col("volume") > 0,
                                                 pl.col("price_usd").is_not_nan())
    prices = {(market, label): price for market, label, price in traded.group_by(
        "market", "window").agg(
        (pl.col("price_usd") * pl.col("volume")).sum() / pl.col("volume").sum()).iter_rows()}
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
    pairs = [(w.label, p) for w in windows for p in periods
             if w.first is None or w.last is None or w.first <= p <= w.last]
    membership = pl.DataFrame(pairs, schema={"window": pl.String, "period": pl.String},
                              orient="row")
    return frame.join(membership, on="period", how="inner", maintain_order="left_right")


# ---------------------------------------------------------------------------------------------
# the spec
@dataclass(frozen=True, slots=True)
class Range:
    """A parameter sampled between ``low`` and ``high`` (log-uniformly if ``log``)."""

    low: float
    high: float
    log: bool = False
    integer: bool = False

    def scale(self, u: float) -> float | int:
        if self.log:
            value = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            value = self.low + u * (self.high - self.low)
        return round(value) if self.integer else value


@dataclass(frozen=True)
class SweepSpec:
    """A checked spec: what to run. Build one with :func:`load_spec`."""

    name: str
    source: str
    base_dir: Path
    scenarios: tuple[str, ...]
    grid: dict[str, tuple[Any, ...]]
    ranges: dict[str, Range]
    method: str
    count: int
    replications: int
    seed: int
    seeds: str
    quarters: int | None
    panels: bool
    windows: tuple[Window, ...] | None
    description: str = ""
    #: the varied keys in the spec's order (``scenario`` included when it varies)
    parameters: tuple[str, ...] = ()
    text: str | None = None


def spec_names() -> list[str]:
    """The shipped example specs (``runs/sweeps/*.toml``)."""
    return sorted(p.stem for p in SPEC_LIBRARY.glob("*.toml"))


def resolve_spec(name_or_path: str | Path) -> Path:
    """A shipped spec's name (``smoke``) or a path to a TOML file."""
    text = str(name_or_path)
    if text in spec_names():
        return SPEC_LIBRARY / f"{text}.toml"
    return Path(text)


def load_spec(spec: str | Path | Mapping[str, Any], *, source: str | None = None,
              base_dir: str | Path | None = None) -> SweepSpec:
    """Read and check a spec: a shipped spec's name, a TOML path, or the same tables as a dict.

    Relative scenario paths resolve against the spec file's folder (``base_dir`` for a dict,
    default the working directory). Raises :class:`SpecError`.
    """
    text = None
    if isinstance(spec, Mapping):
        data, source = dict(spec), source or "sweep spec"
        base = Path(base_dir) if base_dir is not None else Path.cwd()
        default_name = "sweep"
    else:
        path = resolve_spec(spec)
        shipped = path.parent == SPEC_LIBRARY
        source = source or (f"{path.stem} ({path.name})" if shipped else str(path))
        try:
            text = path.read_text()
            data = tomllib.loads(text)
        except FileNotFoundError:
            raise SpecError(str(path), "", "no such file; shipped specs: "
                            + ", ".join(spec_names())) from None
        except IsADirectoryError:
            raise SpecError(str(path), "", "is a directory, not a spec file") from None
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(source, "", f"not valid TOML ({exc})") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError(source, "", f"cannot read ({getattr(exc, 'strerror', exc)})") from None
        base = Path(base_dir) if base_dir is not None else path.parent
        default_name = path.stem
    return _parse_spec(data, source, base, default_name, text)


def _parse_spec(data: dict[str, Any], source: str, base: Path, default_name: str,
                text: str | None) -> SweepSpec:
    for key, value in data.items():
        if key not in ("sweep", "vary", "sample"):
            raise SpecError(source, key, "unknown table; allowed: sweep, vary, sample")
        if not isinstance(value, dict):
            raise SpecError(source, key, "must be a table")
    head = data.get("sweep", {})
    for table, allowed in (("sweep", SWEEP_KEYS), ("sample", SAMPLE_KEYS)):
        for key in data.get(table, {}):
            if key not in allowed:
                raise SpecError(source, f"{table}.{key}", "unknown key; allowed: "
                                + ", ".join(allowed))
    get = _Getter(source, head, "sweep")
    quarters = get.integer("quarters", None, 1, MAX_QUARTERS)
    vary = _flatten(source, data.get("vary", {}))
    scenarios = _parse_scenarios(source, head, vary.get("scenario"))
    grid, ranges = _parse_vary(source, {k: v for k, v in vary.items() if k != "scenario"},
                               quarters)
    sample = _Getter(source, data.get("sample", {}), "sample")
    method = sample.choice("method", "lhs", ("lhs", "random"))
    count = sample.integer("count", None, 1, MAX_RUNS)
    if ranges and count is None:
        raise SpecError(source, "sample.count", "required when [vary] has ranges: how many "
                        "samples to draw, e.g. count = 20")
    if not ranges and data.get("sample"):
        raise SpecError(source, "sample", "only applies to ranges in [vary] "
                        "({ low = ..., high = ... }); there are none")
    return SweepSpec(
        name=get.text("name", default_name), source=source, base_dir=base,
        scenarios=scenarios, grid=grid, ranges=ranges, method=method, count=count or 1,
        replications=get.integer("replications", 1, 1, MAX_RUNS),
        seed=get.integer("seed", 0, 0, MAX_SEED),
        seeds=get.choice("seeds", "common", ("common", "independent")),
        quarters=quarters, panels=get.boolean("panels", False),
        windows=_parse_windows(source, head.get("windows")),
        description=get.text("description", ""), parameters=tuple(vary), text=text)


def _parse_scenarios(source: str, head: dict[str, Any], varied: Any) -> tuple[str, ...]:
    """The base scenario of ``[sweep]``, or the list of ``[vary] scenario``."""
    if varied is None:
        scenario = head.get("scenario", "baseline")
        if not isinstance(scenario, str) or not scenario:
            raise SpecError(source, "sweep.scenario", "must be a scenario name or a TOML path; "
                            "to vary it, write scenario = [...] under [vary]")
        return (scenario,)
    if "scenario" in head:
        raise SpecError(source, "sweep.scenario", "the scenario is varied in [vary]; remove one")
    if not isinstance(varied, list) or not varied or not all(
            isinstance(s, str) and s for s in varied):
        raise SpecError(source, "vary.scenario", "must be a non-empty list of scenario "
                        "names or TOML paths, e.g. [\"baseline\", \"my.toml\"]")
    if len(set(varied)) != len(varied):
        raise SpecError(source, "vary.scenario", "lists a scenario twice")
    return tuple(varied)


def _parse_vary(source: str, vary: dict[str, Any], quarters: int | None
                ) -> tuple[dict[str, tuple[Any, ...]], dict[str, Range]]:
    """Lists (grid values) and ranges of ``[vary]``, by dotted path."""
    grid: dict[str, tuple[Any, ...]] = {}
    ranges: dict[str, Range] = {}
    for path, value in vary.items():
        key = f'vary."{path}"'
        if path in RESERVED_PATHS:
            raise SpecError(source, key, f"cannot be varied: {RESERVED_PATHS[path]}")
        if path == "scenario.quarters" and quarters is not None:
            raise SpecError(source, key, "cannot be varied when sweep.quarters is set")
        if isinstance(value, list):
            if not value:
                raise SpecError(source, key, "an empty list: give at least one value")
            grid[path] = tuple(value)
        elif isinstance(value, dict):
            ranges[path] = _parse_range(source, key, value)
        else:
            raise SpecError(source, key, "must be a list of values (a grid) or a range "
                            "{ low = ..., high = ... } (sampled)")
    return grid, ranges


def _flatten(source: str, table: dict, prefix: str = "") -> dict[str, Any]:
    """``[vary.firms.tsmc] max_growth_per_year = [...]`` → ``{"firms.tsmc.max_growth...": ...}``;
    a table with ``low`` and ``high`` is a range, not a nested table."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and not ({"low", "high"} & set(value)):
            if not value:
                raise SpecError(source, f'vary."{path}"', "an empty table")
            out.update(_flatten(source, value, f"{path}."))
        else:
            out[path] = value
    return out


def _parse_range(source: str, key: str, value: dict) -> Range:
    for k in value:
        if k not in RANGE_KEYS:
            raise SpecError(source, f"{key}.{k}", "unknown key of a range; allowed: "
                            + ", ".join(RANGE_KEYS))
    for k in ("low", "high"):
        v = value.get(k)
        if v is None:
            raise SpecError(source, key, f"a range needs both low and high; {k} is missing")
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise SpecError(source, f"{key}.{k}", f"must be a finite number, got {v!r}")
    low, high, log = float(value["low"]), float(value["high"]), value.get("log", False)
    if not isinstance(log, bool):
        raise SpecError(source, f"{key}.log", f"must be true or false, got {log!r}")
    if not low < high:
        raise SpecError(source, key, f"empty range: low ({value['low']!r}) must be below high "
                        f"({value['high']!r}); for a single value use a list: [{value['low']!r}]")
    if log and low <= 0:
        raise SpecError(source, f"{key}.low", "a log range needs low > 0")
    return Range(low, high, log)


def _parse_windows(source: str, value: Any) -> tuple[Window, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise SpecError(source, "sweep.windows", 'must be a non-empty list of strings, e.g. '
                        '["2025", "2026", "2025Q1-2026Q4", "all"]')
    windows = []
    for text in value:
        try:
            windows.append(Window.parse(text))
        except ValueError as exc:
            raise SpecError(source, "sweep.windows", str(exc)) from None
    labels = [w.label for w in windows]
    if len(set(labels)) != len(labels):
        raise SpecError(source, "sweep.windows", "lists a window twice")
    return tuple(windows)


@dataclass(frozen=True, slots=True)
class _Getter:
    """Typed reads of one spec table, with errors that name the file and the key."""

    source: str
    table: dict[str, Any]
    prefix: str

    def _fail(self, key: str, message: str) -> SpecError:
        return SpecError(self.source, f"{self.prefix}.{key}", message)

    def integer(self, key: str, default: int | None, lo: int, hi: int) -> int | None:
        value = self.table.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(key, f"must be a whole number, got {value!r}")
        if not lo <= value <= hi:
            raise self._fail(key, f"{value} is out of range; allowed {lo} to {hi}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, f"must be true or false, got {value!r}")
        return value

    def text(self, key: str, default: str) -> str:
        value = self.table.get(key, default)
        if not isinstance(value, str):
            raise self._fail(key, f"must be a string, got {value!r}")
        return value

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.table.get(key, default)
        if value not in allowed:
            raise self._fail(key, f"{value!r} is not allowed; allowed: " + ", ".join(allowed))
        return value


# ---------------------------------------------------------------------------------------------
# the plan: points, seeds, run ids
@dataclass(frozen=True, slots=True)
class RunTask:
    """One run of a sweep: which point, which replication, which seed."""

    run_id: str
    point: int
    replication: int
    scenario: str
    overrides: dict[str, Any]
    seed: int


@dataclass(frozen=True)
class Plan:
    """Every run of a checked spec, with the scenarios they start from."""

    spec: SweepSpec
    bases: dict[str, tuple[dict[str, Any], str]]
    points: tuple[dict[str, Any], ...]
    tasks: tuple[RunTask, ...]
    windows: tuple[Window, ...]
    digest: str
    scenario_digests: dict[str, str] = field(default_factory=dict)

    @property
    def parameters(self) -> tuple[str, ...]:
        return self.spec.parameters


def plan_sweep(spec: SweepSpec | str | Path | Mapping[str, Any]) -> Plan:
    """Check a spec against its scenarios and list its runs. Raises :class:`SpecError`."""
    if not isinstance(spec, SweepSpec):
        spec = load_spec(spec)
    bases = {label: _load_base(spec, label) for label in spec.scenarios}
    grid = {path: tuple(_check_values(spec, bases, path, values))
            for path, values in spec.grid.items()}
    ranges = {path: _check_range(spec, bases, path, rng) for path, rng in spec.ranges.items()}
    samples = _samples(spec, ranges)
    axes: list[tuple[str, tuple[Any, ...]]] = [
        (key, spec.scenarios if key == "scenario" else grid[key])
        for key in spec.parameters if key == "scenario" or key in grid]
    points = []
    for combo in itertools.product(*(values for _, values in axes)):
        for sample in samples:
            values = dict(zip((key for key, _ in axes), combo, strict=True))
            values.update(sample)
            points.append({key: values[key] for key in spec.parameters})
    n_runs = len(points) * spec.replications
    if n_runs > MAX_RUNS:
        raise SpecError(spec.source, "vary", f"{n_runs:,} runs ({len(points):,} points × "
                        f"{spec.replications} replications); at most {MAX_RUNS:,}")
    windows = _windows(spec, bases, points)
    tasks = tuple(_tasks(spec, points))
    scenario_digests = {label: hashlib.sha256(json.dumps(raw, sort_keys=True, default=str)
                                              .encode()).hexdigest()[:16]
                        for label, (raw, _) in bases.items()}
    digest = hashlib.sha256(json.dumps({
        "scenarios": scenario_digests, "quarters": spec.quarters, "panels": spec.panels,
        "windows": [w.label for w in windows],
        "tasks": [(t.run_id, t.scenario, t.overrides, t.seed) for t in tasks],
    }, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return Plan(spec, bases, tuple(points), tasks, windows, digest, scenario_digests)


def _load_base(spec: SweepSpec, label: str) -> tuple[dict[str, Any], str]:
    key = "vary.scenario" if len(spec.scenarios) > 1 or "scenario" in spec.parameters \
        else "sweep.scenario"
    target = label
    if label not in library_names():
        path = Path(label)
        target = str(path if path.is_absolute() else spec.base_dir / path)
    try:
        path = resolve(target)
    except ScenarioError:
        raise SpecError(spec.source, key, f"{label!r} is not a scenario in the library nor a "
                        "TOML file; library: " + ", ".join(library_names())) from None
    if not path.is_file():
        raise SpecError(spec.source, key, f"{label!r}: no such scenario file ({path})")
    raw, source = load_raw(path)
    validate(raw, source)  # a broken scenario is reported (naming its own file) before any run
    return raw, source


def _scenario_note(bases: dict, label: str) -> str:
    return f" (in scenario {label})" if len(bases) > 1 else ""


def _check_path(spec: SweepSpec, bases: dict, path: str) -> None:
    key = f'vary."{path}"'
    for label, (raw, source) in bases.items():
        try:
            check_path(raw, path, source)
        except ScenarioError as exc:
            raise SpecError(spec.source, key, _bare(exc) + _scenario_note(bases, label)) from None


def _bare(exc: ScenarioError) -> str:
    """The message of a :class:`ScenarioError` without its ``source: key:`` prefix."""
    text = str(exc)
    for prefix in (f"{exc.source}: {exc.key}: ", f"{exc.source}: "):
        if text.startswith(prefix):
            return text[len(prefix):]
    return text


def _default(raw: dict, path: str) -> Any:
    """The default of the parameter at ``path`` (for its type), or None if not a known leaf."""
    parts = path.split(".")
    if parts[0] in ("firms", "programs"):
        prefix, rest = ".".join(parts[:2]), parts[2:]
    else:
        prefix, rest = parts[0], parts[1:]
    if len(rest) != 1:
        return None
    return known_keys(raw, prefix).get(rest[0])


def _check_values(spec: SweepSpec, bases: dict, path: str, values: Iterable[Any]) -> list[Any]:
    """Each value of a grid, as the scenarios will see it; one the scenario rejects is an error."""
    _check_path(spec, bases, path)
    key = f'vary."{path}"'
    out = []
    for value in values:
        for label, (raw, source) in bases.items():
            default = _default(raw, path)
            if isinstance(default, float) and isinstance(value, int) \
                    and not isinstance(value, bool):
                value = float(value)
            try:
                validate(apply_overrides(raw, {path: value}, source), source)
            except ScenarioError as exc:
                raise SpecError(spec.source, key, f"{value!r}: {_bare(exc)}"
                                + _scenario_note(bases, label)) from None
        out.append(value)
    if len({json.dumps(v, sort_keys=True, default=str) for v in out}) != len(out):
        raise SpecError(spec.source, key, "lists a value twice")
    return out


def _check_range(spec: SweepSpec, bases: dict, path: str, rng: Range) -> Range:
    _check_path(spec, bases, path)
    key = f'vary."{path}"'
    for label, (raw, _) in bases.items():
        default = _default(raw, path)
        if isinstance(default, bool) or not isinstance(default, int | float):
            raise SpecError(spec.source, key, "a range needs a numeric parameter; this one is "
                            f"{type(default).__name__}, so list its values instead"
                            + _scenario_note(bases, label))
        if isinstance(default, int):
            rng = replace(rng, integer=True)
            if math.ceil(rng.low) > math.floor(rng.high):
                raise SpecError(spec.source, key, f"empty range: no whole number between "
                                f"{rng.low:g} and {rng.high:g}")
    ends = [rng.low, rng.high]
    if rng.integer:
        ends = [math.ceil(rng.low), math.floor(rng.high)]
        rng = replace(rng, low=ends[0] - 0.5 + 1e-9, high=ends[1] + 0.5 - 1e-9)
    _check_values(spec, bases, path, ends if ends[0] != ends[1] else ends[:1])
    return rng


def _samples(spec: SweepSpec, ranges: dict[str, Range]) -> list[dict[str, Any]]:
    """``count`` samples of the ranges (one empty sample when there are none).

    Latin hypercube: :class:`scipy.stats.qmc.LatinHypercube` (McKay, Beckman & Conover 1979);
    random: uniform. Drawn from a stream of the root seed kept apart from the runs' seeds.
    """
    if not ranges:
        return [{}]
    rng = np.random.default_rng(np.random.SeedSequence([spec.seed, 0x5A3D1E]))
    if spec.method == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(ranges), rng=rng).random(spec.count)
    else:
        unit = rng.random((spec.count, len(ranges)))
    return [{path: r.scale(float(u)) for (path, r), u in zip(ranges.items(), row, strict=True)}
            for row in unit]


def replication_seeds(root: int, replications: int, point: int | None = None) -> list[int]:
    """Run seeds from the root seed: ``SeedSequence(root).spawn(replications)`` (common random
    numbers: the same seeds at every point), or with ``point`` given,
    ``SeedSequence(root).spawn(point + 1)[point].spawn(replications)`` (independent seeds).
    Each child gives a seed in 0..2**63−1: its first 64-bit word, shifted right by one."""
    seq = np.random.SeedSequence(root)
    if point is not None:
        seq = seq.spawn(point + 1)[point]
    return [int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
            for child in seq.spawn(replications)]


def _tasks(spec: SweepSpec, points: list[dict[str, Any]]) -> Iterator[RunTask]:
    width_p = max(3, len(str(len(points) - 1)))
    width_r = max(2, len(str(spec.replications - 1)))
    common = replication_seeds(spec.seed, spec.replications)
    for p, point in enumerate(points):
        seeds = common if spec.seeds == "common" else \
            replication_seeds(spec.seed, spec.replications, p)
        scenario = point.get("scenario", spec.scenarios[0])
        overrides = {k: v for k, v in point.items() if k != "scenario"}
        for r, seed in enumerate(seeds):
            yield RunTask(f"p{p:0{width_p}d}-r{r:0{width_r}d}", p, r, scenario, overrides, seed)


def _windows(spec: SweepSpec, bases: dict, points: list[dict[str, Any]]) -> tuple[Window, ...]:
    """The spec's windows (each must overlap some run), or every full calendar year and all."""
    spans = set()
    for point in points:
        raw = bases[point.get("scenario", spec.scenarios[0])][0]
        meta = raw.get("scenario", {})
        start = point.get("scenario.start", meta.get("start", "2025Q1"))
        quarters = spec.quarters or point.get("scenario.quarters", meta.get("quarters", 40))
        spans.add((start, _period(_period_index(start) + quarters - 1)))
    if spec.windows is not None:
        covered = ", ".join(f"{a}–{b}" for a, b in sorted(spans))
        for window in spec.windows:
            if not any(window.overlaps(a, b) for a, b in spans):
                raise SpecError(spec.source, "sweep.windows", f"{window.label!r} is outside "
                                f"every run (the runs cover {covered})")
        return spec.windows
    years = sorted({y for a, b in spans for y in range(int(a[:4]), int(b[:4]) + 1)
                    if a <= f"{y}Q1" and f"{y}Q4" <= b})
    return (*(Window.parse(str(y)) for y in years), ALL)


# ---------------------------------------------------------------------------------------------
# one run, in a worker
@dataclass(frozen=True, slots=True)
class Chunk:
    """Runs sent to a worker together, with everything they need (no files are read there)."""

    tasks: tuple[RunTask, ...]
    bases: dict[str, tuple[dict[str, Any], str]]
    quarters: int | None
    panels: bool
    windows: tuple[Window, ...]
    out: str | None = None
    parent_pid: int | None = None


@dataclass(slots=True)
class Outcome:
    """What a worker hands back for one run: its status and, if it did not write them, its files."""

    run_id: str
    status: str
    files: dict[str, bytes] | None = None


def run_chunk(chunk: Chunk) -> list[Outcome]:
    """Run the chunk's runs one after the other. With ``chunk.out`` each run's directory is
    written there (atomically); without, its files come back as bytes for the caller to write."""
    outcomes = []
    for task in chunk.tasks:
        if chunk.parent_pid is not None and os.getppid() != chunk.parent_pid:
            break  # the sweep that sent this is gone: stop rather than run orphaned
        outcomes.append(_run_task(task, chunk))
    return outcomes


def _run_task(task: RunTask, chunk: Chunk) -> Outcome:
    from runs.run import manifest
    from runs.run import run as run_scenario

    if chunk.out is not None:
        scratch = Path(chunk.out) / ".tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        tmp = scratch / f"{task.run_id}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    else:
        import tempfile

        tmp = Path(tempfile.mkdtemp(prefix=f"sweep-{task.run_id}-"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        start = time.perf_counter()
        summary: dict[str, Any] = {}
        try:
            raw, source = chunk.bases[task.scenario]
            scenario = validate(apply_overrides(raw, task.overrides, source), source)
            result = run_scenario(scenario, quarters=chunk.quarters, seed=task.seed)
            summary = summarize_run(result.frames, chunk.windows)
            quarters = result.quarters
            if chunk.panels:
                result.write(tmp)
            else:
                _write_json(tmp / "manifest.json", manifest(scenario, task.seed, quarters))
            status, error = "ok", None
        except Exception as exc:  # a run that raises is recorded and the sweep goes on
            status, error, quarters = "failed", _one_line(exc), chunk.quarters
            summary = {}
            (tmp / "error.txt").write_text(traceback.format_exc())
        row = _index_row(task, status, error, quarters, time.perf_counter() - start)
        _write_json(tmp / "result.json", {"run": row, "summary": summary})
        if chunk.out is None:
            files = {p.name: p.read_bytes() for p in sorted(tmp.iterdir())}
            return Outcome(task.run_id, status, files)
        commit_run(tmp, Path(chunk.out) / task.run_id)
        return Outcome(task.run_id, status)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _index_row(task: RunTask, status: str, error: str | None, quarters: int | None,
               seconds: float) -> dict[str, Any]:
    return {"run_id": task.run_id, "point": task.point, "replication": task.replication,
            "scenario": task.scenario, "parameters": task.overrides, "quarters": quarters,
            "seed": task.seed, "status": status, "error": error, "seconds": seconds,
            "worker": f"{socket.gethostname()}:{os.getpid()}"}


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _write_json(path: Path, data: Any) -> None:
    """JSON in the dict's own order (the summary's column order), floats exact."""
    path.write_text(json.dumps(data, indent=1, default=str))


def commit_run(tmp: Path, final: Path) -> bool:
    """Move a finished run directory into place in one rename. If another process got there
    first (the same run, so the same result), keep theirs. True if ``tmp`` became ``final``."""
    try:
        os.rename(tmp, final)
        return True
    except OSError:
        if (final / "result.json").is_file():
            shutil.rmtree(tmp, ignore_errors=True)
            return False
        raise


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT while processes are spawned, so that they inherit the ignoring (Python
    keeps an ignored SIGINT ignored) and a Ctrl-C during their start-up is the sweep's alone."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def worker_init(parent_pid: int | None = None) -> None:
    """Set up a local pool's worker: leave Ctrl-C to the sweep (which stops its workers
    itself), and exit if the sweep's process dies, rather than wait forever for work."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent_pid is None:
        return
    import threading

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="sweep-parent-watch", daemon=True).start()


# ---------------------------------------------------------------------------------------------
# the output directory
class SweepDir:
    """``OUT/``: ``sweep.json`` (what the sweep is), ``runs/<run_id>/`` (one per finished run),
    ``runs.parquet`` and ``summary.parquet`` (rebuilt from the run directories)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.runs = self.path / "runs"
        self._lock: Any = None

    def open(self, plan: Plan) -> None:
        """Create or reopen the directory for ``plan``: take the lock, check that it holds the
        same sweep, clear leftovers of killed workers."""
        out = self.path
        try:
            out.mkdir(parents=True, exist_ok=True)
            self.runs.mkdir(exist_ok=True)
        except OSError as exc:
            raise SweepError(f"--out {out}: cannot create the directory "
                             f"({exc.strerror or exc})") from None
        if not os.access(out, os.W_OK | os.X_OK):
            raise SweepError(f"--out {out}: the directory is not writable")
        self._take_lock()
        meta_path = out / "sweep.json"
        if meta_path.exists():
            self._check_same(plan, meta_path)
        else:
            strays = [p.name for p in out.iterdir() if p.name not in ("runs", ".lock")]
            if strays or any(self.runs.iterdir()):
                raise SweepError(f"--out {out}: not empty and not a sweep directory (no "
                                 "sweep.json); choose a new or empty directory")
            _write_json(meta_path, _describe(plan))
            if plan.spec.text is not None:
                (out / "spec.toml").write_text(plan.spec.text)
        shutil.rmtree(self.runs / ".tmp", ignore_errors=True)

    def _take_lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock
            return
        handle = open(self.path / ".lock", "a+")  # noqa: SIM115 - held until close()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise SweepError(f"--out {self.path}: another sweep is running in this "
                             "directory") from None
        self._lock = handle

    def close(self) -> None:
        shutil.rmtree(self.runs / ".tmp", ignore_errors=True)
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _check_same(self, plan: Plan, meta_path: Path) -> None:
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            raise SweepError(f"--out {self.path}: sweep.json is unreadable; choose a new "
                             "directory") from None
        if meta.get("digest") == plan.digest:
            return
        old = meta.get("scenario_digests", {})
        changed = [s for s, d in plan.scenario_digests.items() if s in old and old[s] != d]
        why = (f"scenario {', '.join(changed)} changed since it started" if changed
               else "it was started with a different spec")
        raise SweepError(f"--out {self.path}: holds sweep {meta.get('name', '?')!r} but {why}; "
                         "use a new --out directory to run this one")

    def finished(self, plan: Plan) -> dict[str, str]:
        """Status (``ok`` / ``failed``) of the plan's runs that are done. A run directory whose
        ``result.json`` cannot be read is incomplete: it is removed and the run counts as to do."""
        wanted = {t.run_id for t in plan.tasks}
        out = {}
        for entry in os.scandir(self.runs):
            if entry.name not in wanted:
                continue
            record = _read_result(Path(entry.path))
            if record is None:
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                out[entry.name] = record["run"]["status"]
        return out

    def finished_ids(self, run_ids: Iterable[str]) -> dict[str, str]:
        """Status of those of ``run_ids`` whose directories are complete."""
        out = {}
        for run_id in run_ids:
            record = _read_result(self.runs / run_id)
            if record is not None:
                out[run_id] = record["run"]["status"]
        return out

    def forget(self, run_ids: Iterable[str]) -> None:
        for run_id in run_ids:
            shutil.rmtree(self.runs / run_id, ignore_errors=True)

    def store(self, outcome: Outcome) -> None:
        """Write a run's files that came back from a remote worker (atomically)."""
        assert outcome.files is not None
        scratch = self.runs / ".tmp"
        scratch.mkdir(exist_ok=True)
        tmp = scratch / f"{outcome.run_id}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        for name, data in outcome.files.items():
            (tmp / Path(name).name).write_bytes(data)
        commit_run(tmp, self.runs / outcome.run_id)

    def record_lost(self, task: RunTask, error: str) -> None:
        """Record a run as failed when the worker running it died (twice)."""
        scratch = self.runs / ".tmp"
        scratch.mkdir(exist_ok=True)
        tmp = scratch / f"{task.run_id}.lost.{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        row = _index_row(task, "failed", error, None, 0.0)
        _write_json(tmp / "result.json", {"run": row, "summary": {}})
        commit_run(tmp, self.runs / task.run_id)

    def write_tables(self, plan: Plan | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Rebuild ``runs.parquet`` and ``summary.parquet`` from the run directories."""
        index, summary = collect(self.path, plan)
        for name, frame in (("runs", index), ("summary", summary)):
            tmp = self.path / f".{name}.parquet.tmp"
            frame.write_parquet(tmp)
            os.replace(tmp, self.path / f"{name}.parquet")
        return index, summary


def _describe(plan: Plan) -> dict[str, Any]:
    spec = plan.spec
    return {
        "name": spec.name, "description": spec.description, "spec": spec.source,
        "digest": plan.digest, "scenario_digests": plan.scenario_digests,
        "scenarios": list(spec.scenarios), "parameters": list(plan.parameters),
        "points": len(plan.points), "replications": spec.replications,
        "runs": len(plan.tasks), "seed": spec.seed, "seeds": spec.seeds,
        "quarters": spec.quarters, "panels": spec.panels,
        "windows": [w.label for w in plan.windows],
        "grid": {k: list(v) for k, v in spec.grid.items()},
        "ranges": {k: {"low": r.low, "high": r.high, "log": r.log} for k, r in
                   spec.ranges.items()},
        "sample": {"method": spec.method, "count": spec.count} if spec.ranges else None,
    }


def _read_result(run_dir: Path) -> dict[str, Any] | None:
    try:
        record = json.loads((run_dir / "result.json").read_text())
        complete = record["run"]["status"] in ("ok", "failed") and "summary" in record
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return record if complete else None


def read_meta(out: str | Path) -> dict[str, Any]:
    """``sweep.json`` of a sweep directory. Raises :class:`SweepError`."""
    path = Path(out) / "sweep.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise SweepError(f"{out}: not a sweep directory (no sweep.json); run margins sweep "
                         "SPEC --out DIR first") from None
    except (OSError, ValueError) as exc:
        raise SweepError(f"{path}: unreadable ({exc})") from None


def collect(out: str | Path, plan: Plan | None = None,
            batch: int = 2000) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The runs index and the summary of a sweep directory, one row per finished run, in run id
    order. Rows are turned into frames ``batch`` at a time, so memory stays small."""
    out = Path(out)
    meta = read_meta(out)
    parameters = [p for p in meta.get("parameters", []) if p != "scenario"]
    runs_dir = out / "runs"
    names = sorted(e.name for e in os.scandir(runs_dir) if not e.name.startswith(".")) \
        if runs_dir.is_dir() else []
    if plan is not None:
        wanted = {t.run_id for t in plan.tasks}
        names = [n for n in names if n in wanted]
    index_parts, figure_parts = [], []
    order: dict[str, None] = {}  # figure names in first-seen order
    for start in range(0, len(names), batch):
        rows, figures = [], []
        for name in names[start:start + batch]:
            record = _read_result(runs_dir / name)
            if record is None:
                continue
            run = record["run"]
            params = run.get("parameters", {})
            rows.append({**{k: run[k] for k in ("run_id", "point", "replication", "scenario")},
                         **{p: _cell(params.get(p)) for p in parameters},
                         **{k: run[k] for k in ("quarters", "seed", "status", "error",
                                                *TIMING_COLUMNS)}})
            figures.append({"run_id": run["run_id"], **record["summary"]})
            order.update(dict.fromkeys(record["summary"]))
        if rows:
            index_parts.append(pl.DataFrame(rows, schema=_index_schema(rows, parameters)))
            figure_parts.append(pl.DataFrame(figures, infer_schema_length=None))
    index = (pl.concat(index_parts, how="diagonal_relaxed") if index_parts
             else pl.DataFrame(schema=_index_schema([], parameters)))
    figures = (pl.concat(figure_parts, how="diagonal_relaxed") if figure_parts
               else pl.DataFrame(schema={"run_id": pl.String}))
    keys = ["run_id", "point", "replication", "scenario", *parameters, "seed", "status"]
    summary = pl.concat([index.select(keys), figures.select(_typed(figures, list(order)))],
                        how="horizontal")
    return index, summary


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return value


def _index_schema(rows: list[dict], parameters: list[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {"run_id": pl.String, "point": pl.Int64, "replication": pl.Int64,
                              "scenario": pl.String}
    for p in parameters:
        values = [r[p] for r in rows if r.get(p) is not None]
        if values and all(isinstance(v, bool) for v in values):
            schema[p] = pl.Boolean
        elif values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            schema[p] = pl.Int64
        elif values and all(isinstance(v, int | float) and not isinstance(v, bool)
                            for v in values):
            schema[p] = pl.Float64
        else:
            schema[p] = pl.String
    schema.update({"quarters": pl.Int64, "seed": pl.Int64, "status": pl.String,
                   "error": pl.String, "seconds": pl.Float64, "worker": pl.String})
    return schema


def _typed(figures: pl.DataFrame, order: list[str]) -> list[pl.Expr]:
    """The figure columns in first-seen order, typed the same whatever runs failed: a figure
    that is null in every run is Float64, an always-empty list is a list of strings."""
    out = []
    for name in order:
        dtype = figures.schema.get(name)
        if dtype is None or dtype == pl.Null:
            out.append(pl.lit(None, dtype=pl.Float64).alias(name) if dtype is None
                       else pl.col(name).cast(pl.Float64))
        elif dtype == pl.List(pl.Null):
            out.append(pl.col(name).cast(pl.List(pl.String)))
        else:
            out.append(pl.col(name))
    return out


# ---------------------------------------------------------------------------------------------
# executors
@dataclass
class _Pool:
    """Where chunks run: an executor (None: in this process), how many chunks it runs at once,
    and whether its workers write run directories themselves (they share our disk)."""

    executor: Executor | None
    slots: int
    writes: bool
    label: str
    restart: Callable[[], Executor] | None = None
    close: Callable[[], None] = lambda: None
    kill: Callable[[], None] = lambda: None


def default_workers() -> int:
    """The CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def parse_executor(text: str) -> tuple[str, str | None]:
    """``local`` → ("local", None); ``dask://HOST:PORT`` → ("dask", "tcp://HOST:PORT").
    Raises :class:`SweepError`."""
    if text == "local":
        return "local", None
    if text.startswith("dask://"):
        host, sep, port = text[len("dask://"):].rpartition(":")
        if sep and host and port.isdigit() and 0 < int(port) < 65536 and "/" not in host:
            return "dask", f"tcp://{host}:{port}"
    raise SweepError(f"--executor {text}: not an executor; use local or dask://HOST:PORT "
                     "(the address of a Dask scheduler, e.g. dask://10.0.0.5:8786)")


def open_pool(executor: str | Executor | Any = "local", workers: int | None = None) -> _Pool:
    """The pool a sweep runs on. ``executor`` is ``"local"``, ``"dask://HOST:PORT"``, a
    :class:`concurrent.futures.Executor` or a ``distributed.Client``. Raises :class:`SweepError`
    (before any run) when it cannot be used."""
    if workers is not None and workers < 1:
        raise SweepError(f"--workers: must be at least 1, got {workers}")
    if isinstance(executor, Executor):  # a process pool shares our disk: its workers write
        return _Pool(executor, workers or getattr(executor, "_max_workers", None)
                     or default_workers(), isinstance(executor, ProcessPoolExecutor),
                     f"the given {type(executor).__name__}")
    if hasattr(executor, "get_executor") and hasattr(executor, "nthreads"):  # a Dask Client
        return _dask_pool(executor, workers, owned=False)
    if not isinstance(executor, str):
        raise SweepError(f"executor: {executor!r} is not an executor; use 'local', "
                         "'dask://HOST:PORT', a concurrent.futures.Executor or a Dask Client")
    kind, address = parse_executor(executor)
    if kind == "dask":
        return _connect_dask(executor, address, workers)
    n = workers or default_workers()
    if n == 1:
        return _Pool(None, 1, True, "1 process (serial)")

    def start() -> Executor:
        executor = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=worker_init, initargs=(os.getpid(),))
        with _sigint_ignored():  # workers start with Ctrl-C ignored: the sweep stops them
            executor.submit(int)  # spawns the workers now (returns at once)
        return executor

    pool = _Pool(start(), n, True, f"{n} local workers")
    pool.restart = start
    pool.close = lambda: pool.executor.shutdown(wait=True, cancel_futures=True)
    pool.kill = lambda: _kill_local(pool.executor)
    return pool


def _kill_local(executor: Executor | None) -> None:
    """Stop a process pool now: cancel what is queued and terminate its workers."""
    if not isinstance(executor, ProcessPoolExecutor):
        return
    terminate = getattr(executor, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        terminate()
        return
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(timeout=5)


def _connect_dask(text: str, address: str, workers: int | None) -> _Pool:
    try:
        from distributed import Client
    except ImportError:
        raise SweepError(f"--executor {text}: Dask is not installed; install the extra: "
                         "pip install 'chasing-margins[dask]' (or uv sync --extra dask)") from None
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise SweepError(f"--executor {text}: cannot reach a Dask scheduler at {address} "
                         f"within {CONNECT_TIMEOUT_S:g} s ({_one_line(exc)})") from None
    return _dask_pool(client, workers, owned=True)


def _dask_pool(client: Any, workers: int | None, owned: bool) -> _Pool:
    threads = sum(client.nthreads().values())
    if threads == 0:
        with contextlib.suppress(Exception):
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
        threads = sum(client.nthreads().values())
    if threads == 0:
        if owned:
            client.close()
        raise SweepError(f"--executor dask://{client.scheduler.address.split('://')[-1]}: the "
                         "scheduler has no workers; start some with: dask worker ADDRESS")
    executor = client.get_executor(pure=False)
    pool = _Pool(executor, workers or threads, False,
                 f"Dask at {client.scheduler.address} ({threads} threads)")

    def close() -> None:
        executor.shutdown(wait=False)
        if owned:
            client.close()

    pool.close = pool.kill = close
    return pool


# ---------------------------------------------------------------------------------------------
# progress
class Progress:
    """Done / total, failures and time left: a Rich bar on a terminal, else a line every
    :data:`PROGRESS_INTERVAL_S` seconds (and at the end), on stderr."""

    def __init__(self, name: str, total: int, done: int, failed: int, mode: str = "auto",
                 interval: float = PROGRESS_INTERVAL_S, console: Any = None) -> None:
        from rich.console import Console

        self.name, self.total, self.done, self.failed = name, total, done, failed
        self.console = console or Console(stderr=True, highlight=False)
        if mode == "auto":
            mode = "bar" if self.console.is_terminal else "lines"
        self.mode, self.interval = mode, interval
        self.start = time.monotonic()
        self.done_before = done
        self.last_line = 0.0
        self._bar: Any = None

    def __enter__(self) -> Progress:
        if self.mode == "bar":
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as Bar

            self._bar = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[failed]} failed"), TimeElapsedColumn(),
                            TextColumn("left"), TimeRemainingColumn(), console=self.console)
            self._bar.__enter__()
            self._task = self._bar.add_task(f"sweep {self.name}", total=self.total,
                                            completed=self.done, failed=self.failed)
        elif self.mode == "lines":
            self._line()
        return self

    def advance(self, ok: int, failed: int) -> None:
        self.done += ok + failed
        self.failed += failed
        if self._bar is not None:
            self._bar.update(self._task, advance=ok + failed, failed=self.failed)
        elif self.mode == "lines" and time.monotonic() - self.last_line >= self.interval:
            self._line()

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
        elif self.mode == "lines":
            self._line()

    def _line(self) -> None:
        self.last_line = time.monotonic()
        elapsed = self.last_line - self.start
        new = self.done - self.done_before
        left = self.total - self.done
        eta = (f", about {human_duration(elapsed / new * left)} left" if new and left else "")
        print(f"sweep {self.name}: {self.done}/{self.total} done, {self.failed} failed, "
              f"{human_duration(elapsed)} elapsed{eta}", file=self.console.file, flush=True)


def human_duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``2 h 10 min``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


# ---------------------------------------------------------------------------------------------
# the sweep
@dataclass
class SweepReport:
    """How a call of :func:`sweep` went (the CLI prints it)."""

    out: Path
    total: int
    done_before: int
    done: int = 0
    ran: int = 0
    failed: int = 0
    seconds: float = 0.0
    pool: str = ""
    interrupted: bool = False
    errors: list[tuple[str, str]] = field(default_factory=list)


def sweep(spec: SweepSpec | Plan | str | Path | Mapping[str, Any], out: str | Path | None = None,
          *, workers: int | None = None, executor: str | Executor | Any = "local",
          progress: str | bool = "auto", retry_failed: bool = False,
          report: SweepReport | None = None) -> pl.DataFrame:
    """Run every point × replication of a spec and return the summary, one row per run.

    Args:
        spec: a shipped spec's name, a TOML path, a dict with the same tables, or a loaded spec.
        out: the sweep's directory (default ``out/<spec name>``). Running the same spec into
            the same directory again runs only the runs that are missing.
        workers: local worker processes (default: one per CPU; 1 runs serially in this
            process), or the tasks kept in flight on Dask (default: its thread count).
        executor: ``"local"``, ``"dask://HOST:PORT"``, a ``distributed.Client`` or any
            :class:`concurrent.futures.Executor`.
        progress: ``"auto"`` (a bar on a terminal, else a line every few seconds on stderr),
            ``"bar"``, ``"lines"``, or False.
        retry_failed: run again the runs that failed before.
        report: filled in with what happened (for the CLI).

    Returns:
        ``summary.parquet`` as a polars DataFrame: run id, point, replication, scenario, the
        varied parameters, seed and status, then the figures of :func:`summarize_run`.

    Raises:
        SpecError: the spec is wrong (nothing ran). SweepError: the output directory or the
        executor cannot be used (nothing ran). KeyboardInterrupt: interrupted (what finished
        is kept; calling again finishes the rest).
    """
    plan = spec if isinstance(spec, Plan) else plan_sweep(spec)
    out = Path(out) if out is not None else Path("out") / plan.spec.name
    report = report if report is not None else SweepReport(out, len(plan.tasks), 0)
    report.out, report.total = out, len(plan.tasks)
    pool = open_pool(executor, workers)  # a bad executor fails here, before anything is written
    store = SweepDir(out)
    try:
        store.open(plan)
        finished = store.finished(plan)
        if retry_failed:
            store.forget(r for r, status in finished.items() if status == "failed")
            finished = {r: s for r, s in finished.items() if s != "failed"}
        report.done_before = len(finished)
        todo = [t for t in _submission_order(plan.tasks) if t.run_id not in finished]
        report.pool = pool.label if todo else "nothing to run"
        mode = "off" if progress is False or not todo else \
            ("auto" if progress is True else progress)
        started = time.perf_counter()
        try:
            with Progress(plan.spec.name, len(plan.tasks), len(finished),
                          sum(s == "failed" for s in finished.values()), mode) as bar:
                if todo:
                    _execute(plan, todo, pool, store, bar)
        except BaseException:
            pool.kill()  # stop the workers first, so that the tables count every finished run
            raise
        finally:  # also when interrupted: the tables show what is done
            report.seconds = time.perf_counter() - started
            _, summary = store.write_tables(plan)
            report.done = summary.height
            report.ran = report.done - report.done_before
            report.failed = summary.filter(pl.col("status") == "failed").height
    except BaseException as exc:
        report.interrupted = isinstance(exc, KeyboardInterrupt)
        pool.kill()
        raise
    else:
        pool.close()
    finally:
        store.close()  # the workers are gone: clear their scratch space, release the lock
    return summary


def _submission_order(tasks: Sequence[RunTask]) -> list[RunTask]:
    """Replication by replication, so an interrupted sweep has covered every point evenly."""
    return sorted(tasks, key=lambda t: (t.replication, t.point))


def _chunk(plan: Plan, tasks: Sequence[RunTask], out: str | None, pool: _Pool) -> Chunk:
    used = {t.scenario for t in tasks}
    return Chunk(tuple(tasks), {k: v for k, v in plan.bases.items() if k in used},
                 plan.spec.quarters, plan.spec.panels, plan.windows, out,
                 os.getpid() if pool.executor is not None and pool.writes else None)


def _execute(plan: Plan, todo: list[RunTask], pool: _Pool, store: SweepDir,
             bar: Progress) -> None:
    """Run ``todo`` on ``pool``: chunks of a few runs, at most a few chunks per slot in flight."""
    out = str(store.runs) if pool.writes else None
    size = max(1, min(MAX_CHUNK, math.ceil(len(todo) / (pool.slots * 4))))

    def handle(outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            if outcome.files is not None:
                store.store(outcome)
        failed = sum(o.status == "failed" for o in outcomes)
        bar.advance(len(outcomes) - failed, failed)

    if pool.executor is None:
        for start in range(0, len(todo), size):
            handle(run_chunk(_chunk(plan, todo[start:start + size], out, pool)))
        return

    queue: list[list[RunTask]] = [todo[i:i + size] for i in range(0, len(todo), size)]
    queue.reverse()  # pop() takes from the end
    attempts: dict[str, int] = {}
    inflight: dict[Future, list[RunTask]] = {}
    limit = pool.slots * IN_FLIGHT_PER_SLOT
    while queue or inflight:
        while queue and len(inflight) < limit:
            tasks = queue.pop()
            inflight[pool.executor.submit(run_chunk, _chunk(plan, tasks, out, pool))] = tasks
        done, _ = wait(list(inflight), timeout=1.0, return_when=FIRST_COMPLETED)
        broken = False
        for future in done:
            tasks = inflight.pop(future)
            try:
                handle(future.result())
            except Exception as exc:
                broken = broken or _is_broken_pool(exc)
                _recover(tasks, exc, attempts, queue, store, handle)
        if broken:  # a worker process died: the pool is unusable, start a new one
            if pool.restart is None:
                raise SweepError("the executor's worker pool broke (a worker process died); "
                                 "run the sweep again to finish it")
            for future, tasks in list(inflight.items()):  # lost with the pool
                inflight.pop(future)
                _recover(tasks, RuntimeError("the worker pool broke"), attempts, queue, store,
                         handle)
            with contextlib.suppress(Exception):
                pool.executor.shutdown(wait=False, cancel_futures=True)
            pool.executor = pool.restart()


def _is_broken_pool(exc: BaseException) -> bool:
    from concurrent.futures.process import BrokenProcessPool

    return isinstance(exc, BrokenProcessPool)


def _recover(tasks: list[RunTask], exc: BaseException, attempts: dict[str, int],
             queue: list[list[RunTask]], store: SweepDir,
             handle: Callable[[list[Outcome]], None]) -> None:
    """A chunk that never came back (its worker died): runs it finished are on disk; the rest
    are tried once more, one per task; a run lost twice is recorded as failed."""
    finished = store.finished_ids([t.run_id for t in tasks])
    handle([Outcome(r, s) for r, s in finished.items()])
    for task in tasks:
        if task.run_id in finished:
            continue
        attempts[task.run_id] = attempts.get(task.run_id, 0) + 1
        if attempts[task.run_id] >= 2:
            store.record_lost(task, f"worker lost: {_one_line(exc)}")
            handle([Outcome(task.run_id, "failed")])
        else:
            queue.append([task])


# ---------------------------------------------------------------------------------------------
# across replications
def parameter_columns(summary: pl.DataFrame) -> list[str]:
    """The varied parameters' columns of a summary (between ``scenario`` and ``seed``)."""
    columns = summary.columns
    return columns[columns.index("scenario") + 1:columns.index("seed")]


def figure_columns(summary: pl.DataFrame) -> list[str]:
    """The numeric figure columns of a summary (everything after ``status`` that is a number)."""
    columns = summary.columns
    return [c for c in columns[columns.index("status") + 1:] if summary.schema[c].is_numeric()]


def key_window(labels: Sequence[str]) -> str:
    """The window ``margins summarize`` shows by default: the last calendar year, else the
    last window listed."""
    years = [label for label in labels if len(label) == 4 and label.isdigit()]
    return years[-1] if years else labels[-1]


def point_summary(summary: pl.DataFrame, figures: Sequence[str] | None = None,
                  level: float = 0.95) -> pl.DataFrame:
    """One row per point: ``runs``, ``failed``, then for each figure its mean over the point's
    successful runs and a confidence interval of that mean (see :func:`mean_interval`)."""
    figures = list(figures) if figures is not None else figure_columns(summary)
    keys = ["point", "scenario", *parameter_columns(summary)]
    counts = summary.group_by(keys, maintain_order=True).agg(
        pl.len().cast(pl.Int64).alias("runs"),
        (pl.col("status") == "failed").sum().cast(pl.Int64).alias("failed"))
    stats = mean_interval(summary.filter(pl.col("status") == "ok"), ["point"], figures, level)
    return counts.join(stats, on="point", how="left", maintain_order="left")


def default_counts(summary: pl.DataFrame) -> pl.DataFrame:
    """Per point and firm: in how many successful runs the firm defaulted."""
    ok = summary.filter(pl.col("status") == "ok").select("point", "defaulted")
    return (ok.explode("defaulted").drop_nulls("defaulted")
            .group_by("point", "defaulted").len()
            .rename({"defaulted": "firm", "len": "runs"})
            .sort(["point", "runs", "firm"], descending=[False, True, False]))
