"""The plan of a sweep: its points, their seeds and run ids, checked against the scenarios.

Seeds come from one root seed via :meth:`numpy.random.SeedSequence.spawn`, so a run's outputs
depend only on its scenario, parameters and seed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from market.calendar import ALL, Window, last_period
from runs.scenario import (
    ScenarioError,
    apply_overrides,
    check_path,
    known_keys,
    library_names,
    load_layers,
    resolve,
    validate,
    validate_layers,
)
from runs.sweep.errors import SpecError
from runs.sweep.spec import MAX_RUNS, Range, SweepSpec, load_spec


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
    # counted before anything is built: a grid of millions of points is refused at once
    n_points = math.prod(len(v) for v in spec.grid.values()) * (spec.count if spec.ranges else 1)
    n_points *= len(spec.scenarios) if "scenario" in spec.parameters else 1
    if n_points * spec.replications > MAX_RUNS:
        raise SpecError(
            spec.source,
            "vary",
            f"{n_points * spec.replications:,} runs ({n_points:,} points × "
            f"{spec.replications} replications); at most {MAX_RUNS:,}",
        )
    bases = {label: _load_base(spec, label) for label in spec.scenarios}
    grid = {
        path: tuple(_check_values(spec, bases, path, values)) for path, values in spec.grid.items()
    }
    ranges = {path: _check_range(spec, bases, path, rng) for path, rng in spec.ranges.items()}
    samples = _samples(spec, ranges)
    axes: list[tuple[str, tuple[Any, ...]]] = [
        (key, spec.scenarios if key == "scenario" else grid[key])
        for key in spec.parameters
        if key == "scenario" or key in grid
    ]
    points = []
    for combo in itertools.product(*(values for _, values in axes)):
        for sample in samples:
            values = dict(zip((key for key, _ in axes), combo, strict=True))
            values.update(sample)
            points.append({key: values[key] for key in spec.parameters})
    windows = _windows(spec, bases, points)
    tasks = tuple(_tasks(spec, points))
    scenario_digests = {
        label: hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()[
            :16
        ]
        for label, (raw, _) in bases.items()
    }
    digest = hashlib.sha256(
        json.dumps(
            {
                "scenarios": scenario_digests,
                "quarters": spec.quarters,
                "panels": spec.panels,
                "windows": [w.label for w in windows],
                "tasks": [(t.run_id, t.scenario, t.overrides, t.seed) for t in tasks],
            },
            sort_keys=True,
            default=str,
        ).encode()
    ).hexdigest()[:16]
    return Plan(spec, bases, tuple(points), tasks, windows, digest, scenario_digests)


def _load_base(spec: SweepSpec, label: str) -> tuple[dict[str, Any], str]:
    key = (
        "vary.scenario"
        if len(spec.scenarios) > 1 or "scenario" in spec.parameters
        else "sweep.scenario"
    )
    target = label
    if label not in library_names():
        path = Path(label)
        target = str(path if path.is_absolute() else spec.base_dir / path)
    try:
        path = resolve(target)
    except ScenarioError:
        raise SpecError(
            spec.source,
            key,
            f"{label!r} is not a scenario in the library nor a "
            "TOML file; library: " + ", ".join(library_names()),
        ) from None
    if not path.is_file():
        raise SpecError(spec.source, key, f"{label!r}: no such scenario file ({path})")
    raw, source, layers = load_layers(path)
    validate_layers(raw, source, layers)  # a broken scenario is reported before any run
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
            return text[len(prefix) :]
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
            if (
                isinstance(default, float)
                and isinstance(value, int)
                and not isinstance(value, bool)
            ):
                value = float(value)
            try:
                validate(apply_overrides(raw, {path: value}, source), source)
            except ScenarioError as exc:
                raise SpecError(
                    spec.source, key, f"{value!r}: {_bare(exc)}" + _scenario_note(bases, label)
                ) from None
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
            raise SpecError(
                spec.source,
                key,
                "a range needs a numeric parameter; this one is "
                f"{type(default).__name__}, so list its values instead"
                + _scenario_note(bases, label),
            )
        if isinstance(default, int):
            rng = replace(rng, integer=True)
            if math.ceil(rng.low) > math.floor(rng.high):
                raise SpecError(
                    spec.source,
                    key,
                    f"empty range: no whole number between {rng.low:g} and {rng.high:g}",
                )
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
    return [
        {path: r.scale(float(u)) for (path, r), u in zip(ranges.items(), row, strict=True)}
        for row in unit
    ]


def replication_seeds(root: int, replications: int, point: int | None = None) -> list[int]:
    """Run seeds from the root seed: ``SeedSequence(root).spawn(replications)`` (common random
    numbers: the same seeds at every point), or with ``point`` given,
    ``SeedSequence(root).spawn(point + 1)[point].spawn(replications)`` (independent seeds).
    Each child gives a seed in 0..2**63−1: its first 64-bit word, shifted right by one."""
    seq = np.random.SeedSequence(root)
    if point is not None:
        seq = seq.spawn(point + 1)[point]
    return [
        int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
        for child in seq.spawn(replications)
    ]


def _tasks(spec: SweepSpec, points: list[dict[str, Any]]) -> Iterator[RunTask]:
    width_p = max(3, len(str(len(points) - 1)))
    width_r = max(2, len(str(spec.replications - 1)))
    common = replication_seeds(spec.seed, spec.replications)
    for p, point in enumerate(points):
        seeds = (
            common if spec.seeds == "common" else replication_seeds(spec.seed, spec.replications, p)
        )
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
        spans.add((start, last_period(start, quarters)))
    if spec.windows is not None:
        covered = ", ".join(f"{a}–{b}" for a, b in sorted(spans))
        for window in spec.windows:
            if not any(window.overlaps(a, b) for a, b in spans):
                raise SpecError(
                    spec.source,
                    "sweep.windows",
                    f"{window.label!r} is outside every run (the runs cover {covered})",
                )
        return spec.windows
    years = sorted(
        {
            y
            for a, b in spans
            for y in range(int(a[:4]), int(b[:4]) + 1)
            if a <= f"{y}Q1" and f"{y}Q4" <= b
        }
    )
    return (*(Window.parse(str(y)) for y in years), ALL)
