"""`margins run --set` and `--chart`, the frames' null margins, and `RunResult` at a prompt."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cli.main import app
from runs import run
from runs.charts import robust_domain
from runs.run import FRAMES
from runs.scenario import load_scenario

PNG = b"\x89PNG\r\n\x1a\n"


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def one_error_line(result) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def with_settings(tmp_path_factory):
    out = tmp_path_factory.mktemp("set") / "run"
    result = invoke(
        "run",
        "--quarters",
        "4",
        "--out",
        str(out),
        "--set",
        "demand.multiplier=1.5",
        "--set",
        "firms.nvidia.component_cost_usd=7600",
        "--chart",
    )
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return out, result


def test_set_is_recorded_in_the_manifest_and_the_scenario_file(with_settings) -> None:
    out, _ = with_settings
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["overrides"] == {
        "demand.multiplier": 1.5,
        "firms.nvidia.component_cost_usd": 7600,
    }
    written = tomllib.loads((out / "scenario.toml").read_text())
    assert written["demand"]["multiplier"] == 1.5
    assert written["firms"]["nvidia"]["component_cost_usd"] == 7600
    # the file reproduces the run
    again = load_scenario(out / "scenario.toml")
    assert again.demand.multiplier == 1.5


def test_set_changes_the_run(with_settings) -> None:
    out, _ = with_settings
    changed = pl.read_parquet(out / "firms.parquet")
    plain = run("baseline", quarters=4).firms
    assert changed["revenue_usd"].sum() != plain["revenue_usd"].sum()


def test_chart_writes_the_two_pngs_beside_the_frames(with_settings) -> None:
    out, result = with_settings
    names = {p.name for p in out.iterdir()}
    assert names >= {*(f"{f}.parquet" for f in FRAMES), "margins.png", "profit_pool.png"}
    for name in ("margins.png", "profit_pool.png"):
        data = (out / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 20_000, name
        assert f"wrote {out / name}" in " ".join(result.stdout.split())


@pytest.mark.parametrize(
    ("setting", "fragments"),
    [
        ("demand.no_such=1", ["demand.no_such", "unknown parameter", "allowed: multiplier"]),
        ("firms.nvidia.component_cost_usd=cheap", ["firms.nvidia.component_cost_usd"]),
        ("demand.multiplier=-3", ["demand.multiplier"]),
        ("firms.intel.list_price_usd=1", ["intel", "known: "]),
        ("demand.multiplier", ["--set", "KEY=VALUE"]),
    ],
)
def test_a_bad_set_is_one_error_line_as_in_a_file(tmp_path: Path, setting, fragments) -> None:
    line = one_error_line(invoke("run", "--out", str(tmp_path / "o"), "--set", setting))
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    assert not (tmp_path / "o").exists()


def test_set_is_checked_exactly_as_the_same_key_in_a_file(tmp_path: Path) -> None:
    path = tmp_path / "neg.toml"
    path.write_text('[scenario]\nextends = "baseline"\n\n[demand]\nmultiplier = -3\n')
    from_file = one_error_line(invoke("validate", str(path)))
    from_set = one_error_line(invoke("run", "--set", "demand.multiplier=-3"))
    assert (
        from_file.split("demand.multiplier: ", 1)[1] == from_set.split("demand.multiplier: ", 1)[1]
    )


def test_margins_without_revenue_are_null_not_nan() -> None:
    firms = run("baseline", quarters=8, seed=1).firms
    none = firms.filter(pl.col("revenue_usd") <= 0)
    assert none.height > 0  # the baseline has firms that sold nothing in some quarters
    for column in ("gross_margin", "operating_margin"):
        assert none[column].null_count() == none.height
        assert firms[column].is_nan().sum() == 0
    # so a naive mean per layer is a number for every layer
    means = firms.group_by("layer").agg(pl.col("gross_margin").mean())
    assert means["gross_margin"].null_count() == 0
    assert not means["gross_margin"].is_nan().any()


def test_a_run_result_says_what_it_holds_in_one_line() -> None:
    result = run("baseline", quarters=2, seed=1)
    text = repr(result)
    assert len(text) < 300 and "\n" not in text
    assert text.startswith("RunResult(baseline, seed 1, 2 quarters")
    for name in FRAMES:
        frame = getattr(result, name)
        assert f"{name} {frame.height}×{frame.width}" in text
    assert set(FRAMES) <= set(dir(result))


@pytest.mark.parametrize(
    ("values", "domain", "clipped"),
    [
        ([0.2, 0.5, -0.1], [-0.1, 0.5], False),
        ([0.2, 0.4, -115_000.0], [-1.0, 0.4], True),
        ([0.3, 2.5], [0.0, 1.0], True),
        ([None, float("nan")], [0.0, 1.0], False),
    ],
)
def test_one_outlier_does_not_flatten_a_chart(values, domain, clipped) -> None:
    assert robust_domain(values) == (domain, clipped)
