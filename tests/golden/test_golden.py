"""Golden run: the baseline with seed 7 for 12 quarters must reproduce the stored results.

The stored file is ``tests/golden/baseline_seed7.json``, written by
``scripts/regenerate_golden.py``. A failure means the model's results changed; if the change was
intended, regenerate the file (``./dev python scripts/regenerate_golden.py``) and commit it with
the change.
"""

from __future__ import annotations

import importlib.util
import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "regenerate_golden.py"
REL = 1e-9
MAX_SHOWN = 25


def _load_script():
    spec = importlib.util.spec_from_file_location("regenerate_golden", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _load_script()
HINT = (
    f"If this change was intended, regenerate the golden file with `{gen.COMMAND}` "
    f"and commit {gen.GOLDEN.relative_to(ROOT)} with it."
)


@cache
def stored() -> dict[str, Any]:
    if not gen.GOLDEN.is_file():
        pytest.fail(f"{gen.GOLDEN.relative_to(ROOT)} is missing. Create it with `{gen.COMMAND}`.")
    return json.loads(gen.GOLDEN.read_text())


@cache
def fresh() -> dict[str, Any]:
    return gen.fresh_record()


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=REL, abs_tol=REL)


def _differences(section: str, fields: list[str]) -> list[str]:
    want, got = stored()[section], fresh()[section]
    out: list[str] = []
    for q in sorted(set(want) | set(got), key=int):
        if q not in got or q not in want:
            out.append(f"quarter {q}: {'missing from the run' if q not in got else 'not stored'}")
            continue
        for name in sorted(set(want[q]) | set(got[q])):
            if name not in got[q]:
                out.append(f"quarter {q}, {name}: in the golden file, missing from the run")
            elif name not in want[q]:
                out.append(f"quarter {q}, {name}: in the run, not in the golden file")
            else:
                for field, w, g in zip(fields, want[q][name], got[q][name], strict=True):
                    if not _close(w, g):
                        out.append(f"quarter {q}, {name}, {field}: golden {w!r}, now {g!r}")
    return out


def _report(section: str, diffs: list[str]) -> str:
    shown = "\n  ".join(diffs[:MAX_SHOWN])
    more = f"\n  ... and {len(diffs) - MAX_SHOWN} more" if len(diffs) > MAX_SHOWN else ""
    scenario_changed = ""
    if stored()["meta"].get("scenario_sha256_16") != fresh()["meta"].get("scenario_sha256_16"):
        scenario_changed = " (the baseline scenario itself has changed since it was generated)"
    return (
        f"{len(diffs)} {section} value(s) differ from the golden run{scenario_changed}:\n  "
        f"{shown}{more}\n{HINT}"
    )


def test_golden_file_describes_this_run() -> None:
    meta = stored()["meta"]
    assert (meta["scenario"], meta["seed"], meta["quarters"]) == (
        gen.SCENARIO,
        gen.SEED,
        gen.QUARTERS,
    ), HINT
    assert meta["firm_fields"] == list(gen.FIRM_FIELDS), HINT
    assert meta["market_fields"] == list(gen.MARKET_FIELDS), HINT
    assert sorted(stored()["firms"], key=int) == [str(q) for q in range(gen.QUARTERS)], HINT


@pytest.mark.parametrize(
    ("section", "fields"), [("firms", list(gen.FIRM_FIELDS)), ("markets", list(gen.MARKET_FIELDS))]
)
def test_matches_golden_run(section: str, fields: list[str]) -> None:
    diffs = _differences(section, fields)
    assert not diffs, _report(section, diffs)
