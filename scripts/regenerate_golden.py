"""Regenerate the golden run that ``tests/golden/test_golden.py`` compares against.

    ./dev python scripts/regenerate_golden.py

Runs the baseline with seed 7 for 12 quarters and writes ``tests/golden/baseline_seed7.json``:
per quarter and firm, revenue, gross profit and operating income (USD, rounded to the cent) and
cash (integer cents); per quarter and market (``market`` or ``market/book``), the clearing price
and volume (rounded to 6 significant digits; a market that did not clear has price ``null``).
Run it only when a change to the model's results is intended, and commit the new file with it.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "baseline_seed7.json"
SCENARIO = "baseline"
SEED = 7
QUARTERS = 12
FIRM_FIELDS = ("revenue_usd", "gross_profit_usd", "operating_income_usd", "cash_cents")
MARKET_FIELDS = ("price_usd", "volume")
COMMAND = "./dev python scripts/regenerate_golden.py"


def _cents(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 2)


def _sig6(x: float) -> float | None:
    return None if math.isnan(x) else float(f"{x:.6g}")


def golden_record(result: Any) -> dict[str, Any]:
    """The compact record of a run that the golden file keeps (also used by the test)."""
    firms: dict[str, dict[str, list]] = {}
    for row in result.firms.sort("quarter", "firm").iter_rows(named=True):
        firms.setdefault(str(row["quarter"]), {})[row["firm"]] = [
            _cents(row["revenue_usd"]),
            _cents(row["gross_profit_usd"]),
            _cents(row["operating_income_usd"]),
            int(row["cash_cents"]),
        ]
    markets: dict[str, dict[str, list]] = {}
    for row in result.markets.sort("quarter", "market", "book").iter_rows(named=True):
        key = f"{row['market']}/{row['book']}" if row["book"] else row["market"]
        book = markets.setdefault(str(row["quarter"]), {})
        if key in book:
            raise ValueError(f"quarter {row['quarter']}: market {key} cleared twice")
        book[key] = [_sig6(row["price_usd"]), _sig6(row["volume"])]
    return {
        "meta": {
            "scenario": SCENARIO,
            "seed": SEED,
            "quarters": QUARTERS,
            "scenario_sha256_16": result.manifest.get("scenario_sha256_16", ""),
            "firm_fields": list(FIRM_FIELDS),
            "market_fields": list(MARKET_FIELDS),
            "regenerate": COMMAND,
        },
        "firms": firms,
        "markets": markets,
    }


def fresh_record() -> dict[str, Any]:
    from runs import run

    return golden_record(run(SCENARIO, quarters=QUARTERS, seed=SEED))


def dumps(record: dict[str, Any]) -> str:
    """JSON with one line per quarter and firm or market: compact, and diffs read well."""
    lines = ["{", f' "meta": {json.dumps(record["meta"], sort_keys=True)},']
    for section in ("firms", "markets"):
        lines.append(f' "{section}": {{')
        quarters = sorted(record[section], key=int)
        for i, q in enumerate(quarters):
            lines.append(f'  "{q}": {{')
            entries = record[section][q]
            for j, name in enumerate(sorted(entries)):
                comma = "," if j < len(entries) - 1 else ""
                lines.append(f"   {json.dumps(name)}: {json.dumps(entries[name])}{comma}")
            lines.append("  }" + ("," if i < len(quarters) - 1 else ""))
        lines.append(" }" + ("," if section == "firms" else ""))
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> int:
    record = fresh_record()
    text = dumps(record)
    assert json.loads(text) == record
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(text)
    n_firms = sum(len(v) for v in record["firms"].values())
    n_markets = sum(len(v) for v in record["markets"].values())
    print(
        f"wrote {GOLDEN.relative_to(ROOT)}: {QUARTERS} quarters, {n_firms} firm rows, "
        f"{n_markets} market rows"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
