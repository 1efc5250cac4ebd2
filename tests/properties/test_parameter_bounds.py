"""Every value the scenario schema accepts runs, or the schema rejects it.

For each numeric parameter with documented bounds (technology, markets, demand, and every
role's parameters on the baseline's first firm of that role), the baseline is run with the
parameter at its lower and at its upper bound. Each run must end with finite outputs; a value
the model cannot run must be refused by the schema with the usual error instead.
"""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest

from agents.registry import ROLES
from agents.technology import Technology
from agents.world import Demand, Markets
from runs import run
from runs.scenario import ScenarioError, load_raw

QUARTERS = 20


def bound_cases() -> list[tuple[str, float]]:
    raw, _ = load_raw("baseline")
    cases = []
    tables = [
        (f"{name}", cls)
        for name, cls in (("technology", Technology), ("markets", Markets), ("demand", Demand))
    ]
    seen: set[str] = set()
    for firm_id, spec in raw["firms"].items():
        if spec["role"] not in seen:
            seen.add(spec["role"])
            tables.append((f"firms.{firm_id}", ROLES[spec["role"]].Params))
    for prefix, cls in tables:
        for f in dataclasses.fields(cls):
            if isinstance(f.default, bool) or not isinstance(f.default, int | float):
                continue
            for end in ("lo", "hi"):
                value = f.metadata.get(end)
                if value is not None:
                    cases.append(
                        (
                            f"{prefix}.{f.name}",
                            int(value) if isinstance(f.default, int) else float(value),
                        )
                    )
    return cases


CASES = bound_cases()


def test_every_bounded_parameter_is_covered() -> None:
    assert len(CASES) > 250
    assert ("technology.quality_doubling", 1.0) in CASES


@pytest.mark.slow
@pytest.mark.parametrize(("path", "value"), CASES, ids=[f"{p}={v:g}" for p, v in CASES])
def test_a_parameter_at_its_bound_runs_to_the_end(path: str, value: float) -> None:
    try:
        result = run("baseline", quarters=QUARTERS, seed=0, overrides={path: value})
    except ScenarioError as exc:  # refused by the schema: one line naming the key
        assert path.split(".")[-1] in str(exc) and "\n" not in str(exc)
        return
    firms = result.firms
    assert firms["quarter"].max() == QUARTERS - 1
    for column, dtype in firms.schema.items():
        if dtype == pl.Float64:
            assert firms.filter(pl.col(column).is_infinite()).is_empty(), column
    assert firms.filter(pl.col("revenue_usd").is_nan()).is_empty()
    markets = result.markets.filter(pl.col("volume") > 0)
    assert markets.filter(~pl.col("price_usd").is_finite()).is_empty()
