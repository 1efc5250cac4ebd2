"""Loading a scenario: read and merge its file, set overridden values, validate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from market.calendar import quarter_of
from runs.scenario.errors import ScenarioError
from runs.scenario.library import Layer, load_layers, locate
from runs.scenario.overrides import apply_overrides
from runs.scenario.schema import Scenario, span, validate


def load_scenario(
    name_or_path: str | Path = "baseline",
    overrides: dict[str, Any] | None = None,
    scale: int | None = None,
) -> Scenario:
    """Load, merge, override (dotted paths) and validate a scenario; ``scale`` sets its
    ``[scenario] scale`` (every app, host and segment cloned that many times:
    :mod:`runs.scenario.scale`), after the overrides."""
    raw, source, layers = load_layers(name_or_path)
    if overrides:
        raw = apply_overrides(raw, overrides, source)
    if scale is not None:
        raw = apply_overrides(raw, {"scenario.scale": scale}, source)
    return validate_layers(raw, source, layers)


def validate_layers(raw: dict, source: str, layers: tuple[Layer, ...]) -> Scenario:
    """:func:`validate`, a mistake naming the file of the chain it is in (:func:`locate`).

    A file that extends another must also place the events and programmes it adds or changes
    within its run's quarters: one after the run's last quarter would never act. (What it
    inherits may lie beyond a run it makes shorter.)"""
    try:
        scenario = validate(raw, source)
    except ScenarioError as exc:
        raise locate(exc, layers) from None
    if len(layers) > 1:
        _check_own_dates(scenario, layers[0])
    return scenario


def _check_own_dates(scenario: Scenario, own: Layer) -> None:
    last = scenario.quarters - 1
    # its own events as written (a scaled scenario's events are its clones' events)
    for n, event in enumerate(own.raw.get("events", [])):
        if quarter_of(scenario.start, event["period"]) > last:
            raise ScenarioError(
                own.source,
                f"events[{n}].period",
                f"{event['period']} is after the run's last quarter, so the event would never "
                f"happen; {span(scenario.start, scenario.quarters)}",
            )
    programs = own.raw.get("programs", {})
    for name, program in scenario.programs.items():
        if name in programs and program.start_quarter > last:
            raise ScenarioError(
                own.source,
                f"programs.{name}.start",
                f"{program.start or scenario.start} is after the run's last quarter, so the "
                f"programme would never run; {span(scenario.start, scenario.quarters)}",
            )
