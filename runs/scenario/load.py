"""Loading a scenario: read and merge its file, set overridden values, validate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runs.scenario.library import load_raw
from runs.scenario.overrides import apply_overrides
from runs.scenario.schema import Scenario, validate


def load_scenario(
    name_or_path: str | Path = "baseline", overrides: dict[str, Any] | None = None
) -> Scenario:
    """Load, merge, override (dotted paths) and validate a scenario."""
    raw, source = load_raw(name_or_path)
    if overrides:
        raw = apply_overrides(raw, overrides, source)
    return validate(raw, source)
