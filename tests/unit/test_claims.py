"""The verdict rule, the intervals and the claim figures, on small hand-made inputs."""

from __future__ import annotations

import math

import polars as pl
import pytest

from market.calendar import Window, period_of
from runs.claims import claim_value, reading, scenario_verdict, verdict
from runs.scenario import Claim, ScenarioError, load_scenario
from runs.stats import mean_interval, t975


@pytest.mark.parametrize(
    ("direction", "low", "high", "expected"),
    [
        ("up", 0.1, 0.3, "supported"),
        ("up", -0.3, -0.1, "contradicted"),
        ("up", -0.1, 0.2, "not supported"),
        ("down", -0.3, -0.1, "supported"),
        ("down", 0.1, 0.3, "contradicted"),
        ("down", -0.1, 0.1, "not supported"),
        ("up", 0.0, 0.2, "not supported"),  # touching zero is not clear of it
        ("up", math.nan, math.nan, "not supported"),
    ],
)
def test_verdict_rule(direction, low, high, expected):
    assert verdict(direction, low, high) == expected


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        (["supported", "supported"], "supported"),
        (["supported", "not supported"], "mixed"),
        (["supported", "contradicted"], "mixed"),
        (["not supported", "contradicted"], "not supported"),
        ([], "no claims"),
        (["untestable", "supported"], "supported"),
        (["untestable"], "untestable"),
    ],
)
def test_scenario_verdict(verdicts, expected):
    assert scenario_verdict(verdicts) == expected


def test_mean_interval_is_the_t_interval():
    mean, low, high = mean_interval([1.0, 2.0, 3.0])
    half = 4.3027 * 1.0 / math.sqrt(3)  # t(0.975, 2 dof), from a printed table
    assert mean == pytest.approx(2.0)
    assert (low, high) == pytest.approx((2.0 - half, 2.0 + half), rel=1e-4)
    assert t975(1) == pytest.approx(12.706, rel=1e-4)
    assert t975(100) == pytest.approx(1.984, rel=1e-3) and math.isnan(t975(0))


def test_mean_interval_drops_nans_and_needs_two_values():
    mean, low, high = mean_interval([math.nan, 5.0])
    assert mean == 5.0 and math.isnan(low) and math.isnan(high)


def _firms() -> pl.DataFrame:
    rows = []
    for q in range(4):
        rows += [
            (q, "nvidia", "chips", 100.0, 70.0, 50.0, False, 10.0, 0.0, 0.0, 0.0),
            (q, "amd", "chips", 50.0, 25.0, 10.0, False, 20.0, 0.0, 0.0, 0.0),
            (q, "openai", "lab", 40.0, 20.0, -10.0, q == 3, math.nan, 3.0, 1.0, 2.0),
        ]
    return pl.DataFrame(
        rows,
        schema=[
            "quarter",
            "firm",
            "layer",
            "revenue_usd",
            "gross_profit_usd",
            "operating_income_usd",
            "defaulted",
            "capacity_h100e",
            "rnd_usd",
            "funding_usd",
            "borrowing_usd",
        ],
        orient="row",
    )


def _markets() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "quarter": [0, 1, 2, 3, 0],
            "market": ["compute"] * 4 + ["tokens"],
            "book": [""] * 5,
            "price_usd": [1.0, 2.0, 3.0, 4.0, 9.0],
        }
    )


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        (Claim("t", "gross_margin", "up", layer="chips", window="2025Q1-2025Q4"), 95 / 150),
        (Claim("t", "operating_margin", "up", firm="openai", window="2025Q1-2025Q4"), -0.25),
        (Claim("t", "revenue_share", "down", firm="nvidia", window="2025Q1-2025Q4"), 100 / 150),
        (Claim("t", "revenue_share", "down", layer="lab", window="2025Q1-2025Q4"), 40 / 190),
        (Claim("t", "profit_share", "up", layer="lab", window="2025Q1-2025Q4"), 20 / 115),
        (Claim("t", "revenue", "up", layer="chips", window="2025Q2-2025Q3"), 300.0),
        (Claim("t", "defaults", "up", layer="lab", window="2025Q1-2025Q4"), 1.0),
        (Claim("t", "defaults", "up", layer="lab", window="2025Q1-2025Q3"), 0.0),
        (Claim("t", "price", "down", market="compute", window="2025Q3-2025Q4"), 3.5),
        # a level: the chip layer's profit share (95/115) less the lab layer's (20/115)
        (Claim("t", "profit_share", "largest", layer="chips", window="2025Q1-2025Q4"), 75 / 115),
        (Claim("t", "profit_share", "largest", layer="lab", window="2025Q1-2025Q4"), -75 / 115),
        (Claim("t", "capacity", "up", layer="chips", window="2025Q1-2025Q4"), 30.0),
        (Claim("t", "rnd", "up", firm="openai", window="2025Q1-2025Q2"), 6.0),
        (Claim("t", "funding", "up", firm="openai", window="2025Q1-2025Q4"), 4.0 + 8.0),
    ],
)
def test_claim_values(claim, expected):
    assert claim_value(claim, _firms(), _markets(), "2025Q1") == pytest.approx(expected)


@pytest.mark.parametrize(
    ("claim", "message"),
    [
        ({"text": "x", "metric": "gross_margin", "direction": "up"}, "needs exactly one of"),
        ({"text": "x", "metric": "margin", "direction": "up", "layer": "lab"}, "not a metric"),
        (
            {"text": "x", "metric": "gross_margin", "direction": "sideways", "layer": "lab"},
            "allowed: up, down",
        ),
        (
            {"text": "x", "metric": "gross_margin", "direction": "largest", "firm": "openai"},
            "'largest' compares layers",
        ),
        ({"text": "x", "metric": "gross_margin", "direction": "up", "layer": "gpu"}, "not a layer"),
        (
            {"text": "x", "metric": "gross_margin", "direction": "up", "firm": "intel"},
            "unknown firm",
        ),
        ({"text": "x", "metric": "price", "direction": "up", "layer": "lab"}, "market"),
        (
            {
                "text": "x",
                "metric": "gross_margin",
                "direction": "up",
                "layer": "lab",
                "window": "2027Q1-2026Q1",
            },
            "ends before it starts",
        ),
        (
            {
                "text": "x",
                "metric": "gross_margin",
                "direction": "up",
                "layer": "lab",
                "window": "2027-20x0",
            },
            "is not a window",
        ),
        ({"metric": "gross_margin", "direction": "up", "layer": "lab"}, "claims[0].text"),
    ],
)
def test_bad_claims_are_named(tmp_path, claim, message):
    body = "\n".join(f'{k} = "{v}"' for k, v in claim.items())
    path = tmp_path / "bad.toml"
    path.write_text(f'[scenario]\nextends = "baseline"\n\n[[claims]]\n{body}\n')
    with pytest.raises(ScenarioError, match=r"bad\.toml") as info:
        load_scenario(path)
    assert message in str(info.value)


@pytest.mark.parametrize("window", ["2027-2030", "2027", "2026Q3", "2026-2027Q2", "all"])
def test_claim_windows_read_the_calendar_grammar_as_sweeps_do(tmp_path, window):
    """One window grammar for claims and sweeps (market.calendar): what a sweep accepts, a claim
    accepts, and it measures the same quarters."""
    path = tmp_path / "ok.toml"
    path.write_text(
        '[scenario]\nextends = "baseline"\n\n[[claims]]\ntext = "x"\nmetric = "revenue"\n'
        f'direction = "up"\nlayer = "chips"\nwindow = "{window}"\n'
    )
    (claim,) = load_scenario(path).claims
    assert claim.window == window
    frame = pl.DataFrame(
        {
            "quarter": list(range(24)),
            "period": [period_of("2025Q1", q) for q in range(24)],
            "layer": ["chips"] * 24,
            "firm": ["nvidia"] * 24,
            "revenue_usd": [1.0] * 24,
        }
    )
    first, last = Window.parse(window).bounds("2025Q1", 24)
    assert claim_value(claim, frame, frame, "2025Q1") == last - first + 1


@pytest.mark.parametrize(
    ("claim_verdict", "levers", "expected"),
    [
        ("supported", ["not supported"], ""),
        ("not supported", [], "no lever checked"),
        ("not supported", ["supported", "supported"], "small effect: the move took hold"),
        ("not supported", ["supported", "not supported"], "mechanism did not respond"),
        ("not supported", ["contradicted"], "mechanism did not respond"),
    ],
)
def test_a_not_supported_claim_reads_by_its_levers(claim_verdict, levers, expected):
    got = reading(claim_verdict, levers)
    assert got.startswith(expected) if expected else got == ""


def test_largest_is_judged_like_up():
    assert verdict("largest", 0.1, 0.2) == "supported"
    assert verdict("largest", -0.2, -0.1) == "contradicted"
