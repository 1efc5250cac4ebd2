"""The economy runs for as long as it is asked: every library scenario, many quarters, sane.

CI runs 120 quarters on one seed; ``./dev python scripts/long_runs.py`` runs the full check
(400 quarters, seeds 0-5) recorded in docs/performance.md.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from runs.scenario import library_names

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("long_runs", ROOT / "scripts" / "long_runs.py")
long_runs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(long_runs)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in library_names() if "/" not in n])
def test_every_library_scenario_runs_120_quarters_sanely(name: str) -> None:
    _, _, status, _ = long_runs.check((name, 0, 120))
    assert status == "ok", status
