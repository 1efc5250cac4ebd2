"""The sweep spec: reading a TOML file or a dict and checking its tables, keys and types.

Everything here is about the spec on its own; :mod:`runs.sweep.plan` checks it against the
scenarios it names. Errors are :class:`SpecError`, naming the file, the key and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from market.calendar import MAX_QUARTERS, MAX_SEED, Window
from runs.scenario import ScenarioError
from runs.scenario.fields import check_value, keys
from runs.scenario.io import parse_toml
from runs.sweep.errors import SpecError

#: shipped example specs (``margins sweep smoke`` runs ``runs/sweeps/smoke.toml``)
SPEC_LIBRARY = Path(__file__).parent.parent / "sweeps"

MAX_RUNS = 1_000_000

WHOLE = "a whole number"


@dataclass(frozen=True)
class SweepTable:
    """The keys of a spec's ``[sweep]`` table: type, range, choices and meaning declared once
    (validated by the scenario schema's pydantic machinery, :mod:`runs.scenario.fields`)."""

    name: str = field(
        default="", metadata={"doc": "a name for the sweep (default: the file's name)"}
    )
    description: str = field(default="", metadata={"doc": "what the sweep asks"})
    scenario: Any = field(
        default="baseline",
        metadata={"doc": "the base scenario: a library name or a TOML path (default baseline)"},
    )
    quarters: int = field(
        default=0,
        metadata={
            "lo": 1,
            "hi": MAX_QUARTERS,
            "type_name": WHOLE,
            "doc": f"quarters per run, 1 to {MAX_QUARTERS} (default: the scenario's own)",
        },
    )
    replications: int = field(
        default=1,
        metadata={
            "lo": 1,
            "hi": MAX_RUNS,
            "type_name": WHOLE,
            "doc": "runs per point, each with its own seed (default 1)",
        },
    )
    seed: int = field(
        default=0,
        metadata={
            "lo": 0,
            "hi": MAX_SEED,
            "type_name": WHOLE,
            "doc": f"root seed, 0 to {MAX_SEED} (default 0)",
        },
    )
    seeds: str = field(
        default="common",
        metadata={
            "allowed": ("common", "independent"),
            "doc": '"common": replication r has the same seed at every point (default); '
            '"independent": every run has its own seed',
        },
    )
    panels: bool = field(
        default=False,
        metadata={"doc": "keep each run's per-quarter frames as Parquet (default false)"},
    )
    windows: Any = field(
        default=None,
        metadata={
            "doc": 'summary windows: "2026", "2025-2027", "2025Q1-2026Q4", "all" '
            "(default: every full calendar year and all)"
        },
    )


@dataclass(frozen=True)
class SampleTable:
    """The keys of a spec's ``[sample]`` table."""

    method: str = field(
        default="lhs",
        metadata={
            "allowed": ("lhs", "random"),
            "doc": '"lhs" (Latin hypercube, default) or "random"',
        },
    )
    count: int = field(
        default=0,
        metadata={
            "lo": 1,
            "hi": MAX_RUNS,
            "type_name": WHOLE,
            "doc": "how many samples of the ranges",
        },
    )


SWEEP_KEYS: dict[str, str] = {name: key.doc for name, key in keys(SweepTable).items()}
SAMPLE_KEYS: dict[str, str] = {name: key.doc for name, key in keys(SampleTable).items()}
RANGE_KEYS = ("low", "high", "log")
#: scenario keys a spec may not vary, and why
RESERVED_PATHS = {
    "scenario.seed": "seeds come from the sweep's seed and replications",
    "scenario.extends": "vary the scenario itself with scenario = [...]",
}


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


def load_spec(
    spec: str | Path | Mapping[str, Any],
    *,
    source: str | None = None,
    base_dir: str | Path | None = None,
) -> SweepSpec:
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
            data = parse_toml(text, source)
        except FileNotFoundError:
            raise SpecError(
                str(path), "", "no such file; shipped specs: " + ", ".join(spec_names())
            ) from None
        except IsADirectoryError:
            raise SpecError(str(path), "", "is a directory, not a spec file") from None
        except ScenarioError as exc:
            raise SpecError(exc.source, exc.key, exc.message) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError(source, "", f"cannot read ({getattr(exc, 'strerror', exc)})") from None
        base = Path(base_dir) if base_dir is not None else path.parent
        default_name = path.stem
    return _parse_spec(data, source, base, default_name, text)


def _parse_spec(
    data: dict[str, Any], source: str, base: Path, default_name: str, text: str | None
) -> SweepSpec:
    for key, value in data.items():
        if key not in ("sweep", "vary", "sample"):
            raise SpecError(source, key, "unknown table; allowed: sweep, vary, sample")
        if not isinstance(value, dict):
            raise SpecError(source, key, "must be a table")
    head = data.get("sweep", {})
    for table, allowed in (("sweep", SWEEP_KEYS), ("sample", SAMPLE_KEYS)):
        for key in data.get(table, {}):
            if key not in allowed:
                raise SpecError(
                    source, f"{table}.{key}", "unknown key; allowed: " + ", ".join(allowed)
                )
    get = _Getter(source, head, "sweep", SweepTable)
    quarters = get.get("quarters")
    vary = _flatten(source, data.get("vary", {}))
    scenarios = _parse_scenarios(source, head, vary.get("scenario"))
    grid, ranges = _parse_vary(source, {k: v for k, v in vary.items() if k != "scenario"}, quarters)
    sample = _Getter(source, data.get("sample", {}), "sample", SampleTable)
    method = sample.get("method", "lhs")
    count = sample.get("count")
    if ranges and count is None:
        raise SpecError(
            source,
            "sample.count",
            "required when [vary] has ranges: how many samples to draw, e.g. count = 20",
        )
    if not ranges and data.get("sample"):
        raise SpecError(
            source,
            "sample",
            "only applies to ranges in [vary] ({ low = ..., high = ... }); there are none",
        )
    replications = get.get("replications", 1)
    points = math.prod(len(v) for v in grid.values()) * (count or 1)
    points *= len(scenarios) if "scenario" in vary else 1
    if points * replications > MAX_RUNS:  # counted before any point is built
        raise SpecError(
            source,
            "vary",
            f"{points * replications:,} runs ({points:,} points × "
            f"{replications} replications); at most {MAX_RUNS:,}",
        )
    return SweepSpec(
        name=get.get("name", default_name),
        source=source,
        base_dir=base,
        scenarios=scenarios,
        grid=grid,
        ranges=ranges,
        method=method,
        count=count or 1,
        replications=replications,
        seed=get.get("seed", 0),
        seeds=get.get("seeds", "common"),
        quarters=quarters,
        panels=get.get("panels", False),
        windows=_parse_windows(source, head.get("windows")),
        description=get.get("description", ""),
        parameters=tuple(vary),
        text=text,
    )


def _parse_scenarios(source: str, head: dict[str, Any], varied: Any) -> tuple[str, ...]:
    """The base scenario of ``[sweep]``, or the list of ``[vary] scenario``."""
    if varied is None:
        scenario = head.get("scenario", "baseline")
        if not isinstance(scenario, str) or not scenario:
            raise SpecError(
                source,
                "sweep.scenario",
                "must be a scenario name or a TOML path; "
                "to vary it, write scenario = [...] under [vary]",
            )
        return (scenario,)
    if "scenario" in head:
        raise SpecError(source, "sweep.scenario", "the scenario is varied in [vary]; remove one")
    if (
        not isinstance(varied, list)
        or not varied
        or not all(isinstance(s, str) and s for s in varied)
    ):
        raise SpecError(
            source,
            "vary.scenario",
            "must be a non-empty list of scenario "
            'names or TOML paths, e.g. ["baseline", "my.toml"]',
        )
    if len(set(varied)) != len(varied):
        raise SpecError(source, "vary.scenario", "lists a scenario twice")
    return tuple(varied)


def _parse_vary(
    source: str, vary: dict[str, Any], quarters: int | None
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
            raise SpecError(
                source,
                key,
                "must be a list of values (a grid) or a range { low = ..., high = ... } (sampled)",
            )
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
            raise SpecError(
                source, f"{key}.{k}", "unknown key of a range; allowed: " + ", ".join(RANGE_KEYS)
            )
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
        raise SpecError(
            source,
            key,
            f"empty range: low ({value['low']!r}) must be below high "
            f"({value['high']!r}); for a single value use a list: [{value['low']!r}]",
        )
    if log and low <= 0:
        raise SpecError(source, f"{key}.low", "a log range needs low > 0")
    return Range(low, high, log)


def _parse_windows(source: str, value: Any) -> tuple[Window, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise SpecError(
            source,
            "sweep.windows",
            'must be a non-empty list of strings, e.g. ["2025", "2026", "2025Q1-2026Q4", "all"]',
        )
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
    """Checked reads of one spec table against its declaration, with errors that name the file
    and the key."""

    source: str
    table: dict[str, Any]
    prefix: str
    declared: type

    def get(self, name: str, default: Any = None) -> Any:
        """The table's value of ``name`` (checked), or ``default`` when it does not set it."""
        if name not in self.table:
            return default
        try:
            return check_value(
                self.source, f"{self.prefix}.{name}", self.table[name], keys(self.declared)[name]
            )
        except ScenarioError as exc:
            raise SpecError(exc.source, exc.key, exc.message) from None
