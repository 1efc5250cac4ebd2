"""docs/findings.md is what its documented command produces from the code as it is."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location(
        "regenerate_findings", ROOT / "scripts" / "regenerate_findings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_regenerating_findings_reproduces_the_committed_report(tmp_path):
    written = _script().regenerate(tmp_path / "out", tmp_path / "docs", workers=2)
    committed = (ROOT / "docs" / "findings.md").read_text()
    assert written.read_text() == committed, (
        "docs/findings.md is stale: run ./dev python scripts/regenerate_findings.py")
    for png in ("margins.png", "profit_pool.png"):
        assert (tmp_path / "docs" / "findings" / png).stat().st_size > 10_000
