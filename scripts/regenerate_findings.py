"""Regenerate docs/findings.md (and its charts in docs/findings/) from the default comparison.

    ./dev python scripts/regenerate_findings.py

Runs every scenario of the library against the baseline on the default seeds (the same as
``margins compare --all``), then copies the report and its charts into docs/. The runs are kept
in out/findings/ (emptied at the start, so that runs of older code are never reused).
tests/contracts/test_findings.py checks that this still reproduces docs/findings.md.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runs.compare import DEFAULT_SEEDS, compare, findings_text, scenario_list  # noqa: E402


def regenerate(out: Path, docs: Path, workers: int | None = None) -> Path:
    """Run the default comparison into ``out`` (emptied first: finished runs of older code must
    not be reused); write ``docs/findings.md`` and its charts."""
    shutil.rmtree(out, ignore_errors=True)
    result = compare(
        scenario_list([], everything=True)[1:],
        seeds=DEFAULT_SEEDS,
        out=out,
        workers=workers,
        progress=False,
    )
    charts = docs / "findings"
    charts.mkdir(parents=True, exist_ok=True)
    for png in ("margins.png", "profit_pool.png"):
        shutil.copyfile(result.out / png, charts / png)
    target = docs / "findings.md"
    target.write_text(findings_text(result.out / "report.md"))
    return target


if __name__ == "__main__":
    print(f"wrote {regenerate(ROOT / 'out' / 'findings', ROOT / 'docs')}")
