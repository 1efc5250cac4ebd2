"""Margin aggregation in :mod:`runs.report`, on a small hand-made firms frame."""

from __future__ import annotations

import polars as pl
import pytest

from runs.report import (
    firm_margins,
    full_years,
    layer_margins,
    leading_firms,
    report_years,
    wide,
)


def frame(rows: list[tuple[str, str, str, float, float, float]]) -> pl.DataFrame:
    """Rows of (period, firm, layer, revenue, gross profit, operating income)."""
    periods = sorted({r[0] for r in rows})
    return pl.DataFrame(
        {
            "quarter": [periods.index(r[0]) for r in rows],
            "period": [r[0] for r in rows],
            "firm": [r[1] for r in rows],
            "name": [r[1].title() for r in rows],
            "layer": [r[2] for r in rows],
            "revenue_usd": [r[3] for r in rows],
            "gross_profit_usd": [r[4] for r in rows],
            "operating_income_usd": [r[5] for r in rows],
        },
        schema_overrides={"quarter": pl.Int32},
    )


FIRMS = frame(
    [
        # 2025: four quarters; chips = a + b
        *((f"2025Q{q}", "a", "chips", 100.0, 60.0, 30.0) for q in range(1, 5)),
        *((f"2025Q{q}", "b", "chips", 300.0, 60.0, -30.0) for q in range(1, 5)),
        *((f"2025Q{q}", "c", "lab", 0.0, -10.0, -20.0) for q in range(1, 5)),
        # 2026: two quarters only
        *((f"2026Q{q}", "a", "chips", 200.0, 150.0, 100.0) for q in range(1, 3)),
    ]
)


def test_layer_margin_is_the_ratio_of_sums() -> None:
    out = layer_margins(FIRMS)
    chips_2025 = out.filter((pl.col("layer") == "chips") & (pl.col("year") == 2025)).row(
        0, named=True
    )
    assert chips_2025["revenue_usd"] == 1600.0
    assert chips_2025["gross_margin"] == pytest.approx(480.0 / 1600.0)  # not mean of 0.6, 0.2
    assert chips_2025["operating_margin"] == pytest.approx(0.0)
    assert chips_2025["quarters"] == 4


def test_no_revenue_means_no_margin() -> None:
    lab = layer_margins(FIRMS).filter(pl.col("layer") == "lab").row(0, named=True)
    assert lab["gross_margin"] is None and lab["operating_margin"] is None


def test_layers_in_value_chain_order_and_partial_years_counted() -> None:
    out = layer_margins(FIRMS)
    assert out["layer"].to_list() == ["chips", "chips", "lab"]
    assert out.filter(pl.col("year") == 2026)["quarters"].to_list() == [2]
    whole = layer_margins(FIRMS, by=None)
    assert "year" not in whole.columns and whole.height == 2
    by_period = layer_margins(FIRMS, by="period")
    assert by_period.filter(pl.col("layer") == "chips").height == 6


def test_firms_by_revenue() -> None:
    assert leading_firms(FIRMS, n=2) == ["b", "a"]
    out = firm_margins(FIRMS, select=["a"])
    assert out["firm"].unique().to_list() == ["a"]
    assert out.filter(pl.col("year") == 2026)["gross_margin"].item() == pytest.approx(0.75)
    assert firm_margins(FIRMS)["firm"].unique(maintain_order=True).to_list() == ["b", "a", "c"]


def test_years_to_report() -> None:
    assert full_years(FIRMS) == [2025]
    assert report_years(FIRMS) == [2025]
    assert report_years(FIRMS.filter(pl.col("period") == "2026Q1")) == [2026]  # partial only


def test_wide_table() -> None:
    out = wide(layer_margins(FIRMS), "layer", [2025, 2026])
    assert out.columns == ["layer", "gross_2025", "operating_2025", "gross_2026", "operating_2026"]
    assert out["layer"].to_list() == ["chips", "lab"]
    assert out.filter(pl.col("layer") == "lab")["gross_2026"].item() is None


def test_unknown_grouping() -> None:
    with pytest.raises(ValueError, match="by="):
        layer_margins(FIRMS, by="decade")
