"""How a scenario parameter is declared: its default, allowed range and meaning, in one place
(read by the scenario schema, :mod:`runs.scenario.fields`)."""

from __future__ import annotations

from dataclasses import field
from typing import Any


def param(default: Any, lo: float | None = None, hi: float | None = None, doc: str = "") -> Any:
    """A scenario parameter with its allowed range and meaning."""
    return field(default=default, metadata={"lo": lo, "hi": hi, "doc": doc})
