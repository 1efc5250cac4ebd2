"""``margins compare``: paired runs through the sweep machinery, a report with verdicts, charts;
user mistakes are one line and exit status 2."""

from __future__ import annotations

import polars as pl
import pytest
from typer.testing import CliRunner

from cli.main import app
from runs.claims import reading, scenario_verdict
from runs.compare import MARKET_FLOWS, compare

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare")
    return compare(
        ["funding-dries-up", "merchant-chip-competition"],
        seeds=3,
        out=out,
        workers=1,
        quarters=12,
        progress=False,
    )


def test_runs_are_paired_on_common_seeds(small):
    seeds = small.summary.group_by("replication").agg(pl.col("seed").n_unique())
    assert (seeds["seed"] == 1).all()
    assert set(small.summary["scenario"]) == {
        "baseline",
        "funding-dries-up",
        "merchant-chip-competition",
    }
    assert small.failed == 0


def test_report_has_every_claim_with_a_verdict(small):
    report = (small.out / "report.md").read_text()
    assert "## Verdicts" in report and "**Verdict rule.**" in report
    for row in small.claims.iter_rows(named=True):
        assert row["claim"] in report
        assert row["verdict"] in ("supported", "contradicted", "not supported")
    for name, verdict in small.verdicts.items():
        assert f"**{name}** | **overall** | | | | **{verdict}** |" in report


def test_levers_are_read_but_not_counted(small):
    """Each scenario's levers (first-stage checks) are reported beside its claims, left out of
    its verdict, and decide how each of its 'not supported' claims reads."""
    levers = small.claims.filter(pl.col("lever"))
    assert set(levers["scenario"]) == {"funding-dries-up", "merchant-chip-competition"}
    report = (small.out / "report.md").read_text()
    for row in levers.iter_rows(named=True):
        assert f"*lever: {row['claim']}*" in report
    for name in small.verdicts:
        rows = small.claims.filter(pl.col("scenario") == name)
        claims, lever_rows = rows.filter(~pl.col("lever")), rows.filter(pl.col("lever"))
        assert small.verdicts[name] == scenario_verdict(claims["verdict"].to_list())
        for row in claims.iter_rows(named=True):
            assert row["reading"] == reading(row["verdict"], lever_rows["verdict"].to_list())


def test_layers_and_market_structure_are_reported(small):
    assert small.layers.height == 2 * 7 * 3  # scenarios × layers × figures, one window
    assert small.layers["window"].unique().to_list() == ["2025Q1-2026Q4"]
    assert set(small.structure["market"]) == set(MARKET_FLOWS)
    hhi = small.structure.filter(pl.col("measure") == "hhi")["base"].drop_nans()
    assert ((hhi > 0) & (hhi <= 10_000)).all()
    # TSMC is the only foundry: the market is a monopoly
    foundry = small.structure.filter((pl.col("market") == "foundry") & (pl.col("measure") == "hhi"))
    assert foundry["base"].to_list() == pytest.approx([10_000.0, 10_000.0])


def test_each_verdict_follows_its_interval(small):
    """The verdict of every claim is what its paired interval says (the rule the report
    states), whichever way the model moved it."""
    for row in small.claims.iter_rows(named=True):
        lo, hi, down = row["low"], row["high"], row["direction"] == "down"
        if lo is None or hi is None:
            continue
        if hi < 0 if down else lo > 0:
            expected = "supported"
        elif lo > 0 if down else hi < 0:
            expected = "contradicted"
        else:
            expected = "not supported"
        assert row["verdict"] == expected, row


def test_charts_are_pngs(small):
    for name in ("margins.png", "profit_pool.png"):
        assert (small.out / name).read_bytes()[:8] == PNG


def test_compare_again_reruns_nothing(small):
    again = compare(
        ["funding-dries-up", "merchant-chip-competition"],
        seeds=3,
        out=small.out,
        workers=1,
        quarters=12,
        progress=False,
    )
    assert again.claims.equals(small.claims)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "name at least one scenario"),
        (["nonesuch"], "nonesuch"),
        (["monetization", "--seeds", "1"], "--seeds"),
        (["monetization", "--workers", "0"], "--workers"),
        (["monetization", "--executor", "ftp://x"], "executor"),
    ],
)
def test_user_mistakes_are_one_line(tmp_path, args, message):
    result = CliRunner().invoke(app, ["compare", *args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines() if result.stderr else result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]
    assert "Traceback" not in result.output


def test_a_short_comparison_uses_the_whole_run_and_marks_claims_untestable(tmp_path):
    result = compare(["monetization"], seeds=2, out=tmp_path, workers=1, quarters=4, progress=False)
    assert result.windows == ["2025Q1-2025Q4"]
    assert set(result.claims["verdict"]) == {"untestable"}
    assert result.verdicts == {"monetization": "untestable"}
    assert (tmp_path / "margins.png").read_bytes()[:8] == PNG


def test_the_default_directory_names_the_comparison():
    from runs.compare import default_out

    assert str(default_out(["baseline", "monetization"], 8)) == "out/compare/monetization-8seeds"
    assert str(default_out([], 4, everything=True)) == "out/compare/all-4seeds"
