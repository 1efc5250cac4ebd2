"""docs/findings.md says what its documented command finds from the code as it is.

The report is regenerated and compared with the committed one by what it means: every word —
each scenario, claim, window and verdict — exactly, and every printed number within a tolerance
tied to the uncertainty printed beside it (a tenth of the widest 95% interval on its line, plus
one unit of its last printed digit). Byte-for-byte regeneration is what
``scripts/regenerate_findings.py`` does for whoever updates the report.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?")
INTERVAL = re.compile(r"\[\s*([-+]?\d[\d,]*(?:\.\d+)?)[^,\]]*,\s*([-+]?\d[\d,]*(?:\.\d+)?)")
#: share of the widest interval on a line that a number may move by
INTERVAL_SHARE = 0.1


def _script():
    spec = importlib.util.spec_from_file_location(
        "regenerate_findings", ROOT / "scripts" / "regenerate_findings.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _value(text: str) -> float:
    return float(text.replace(",", ""))


def _last_digit(text: str) -> float:
    decimals = len(text.split(".")[1]) if "." in text else 0
    return 10.0**-decimals


def _tolerance(line: str) -> float:
    widths = [abs(_value(b) - _value(a)) for a, b in INTERVAL.findall(line)]
    return INTERVAL_SHARE * max(widths, default=0.0)


def differences(committed: str, written: str) -> list[str]:
    """Lines whose words differ, or whose numbers moved more than the tolerance."""
    old, new = committed.splitlines(), written.splitlines()
    if len(old) != len(new):
        return [f"{len(old)} lines committed, {len(new)} written"]
    out = []
    for n, (a, b) in enumerate(zip(old, new, strict=True), start=1):
        if NUMBER.sub("#", a) != NUMBER.sub("#", b):
            out.append(f"line {n}: words differ:\n  committed: {a}\n  written:   {b}")
            continue
        tolerance = _tolerance(a)
        for x, y in zip(NUMBER.findall(a), NUMBER.findall(b), strict=True):
            if abs(_value(x) - _value(y)) > tolerance + _last_digit(x) + 1e-12:
                out.append(f"line {n}: {x} became {y} (tolerance {tolerance:g}):\n  {b}")
                break
    return out


def test_the_comparison_tolerates_rounding_and_catches_verdicts() -> None:
    line = "| s | claim | 2026Q3-2030Q4 | 1.752 $ | +2.1 pp [-3.2 pp, +7.3 pp] | not supported |"
    assert differences(line, line.replace("+2.1 pp", "+2.0 pp")) == []
    assert differences(line, line.replace("+2.1 pp", "+3.5 pp"))  # moved 1.4 > 1.05 + 0.1
    assert differences(line, line.replace("not supported", "supported"))
    assert differences(line, line.replace("1.752", "1.755")) == []  # within 1.05 + 0.001
    assert differences("| a | 47.5% |", "| a | 47.6% |") == []
    assert differences("| a | 47.5% |", "| a | 47.7% |")


@pytest.mark.slow
def test_regenerating_findings_reproduces_the_committed_report(tmp_path) -> None:
    written = _script().regenerate(tmp_path / "out", tmp_path / "docs", workers=2)
    committed = (ROOT / "docs" / "findings.md").read_text()
    problems = differences(committed, written.read_text())
    assert not problems, (
        "docs/findings.md is stale (run ./dev python "
        "scripts/regenerate_findings.py):\n" + "\n".join(problems[:10])
    )
    for png in ("margins.png", "profit_pool.png"):
        assert (tmp_path / "docs" / "findings" / png).stat().st_size > 10_000
