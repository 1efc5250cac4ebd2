"""`margins run --scale K` and `runs.run(scale=K)`: the scaled economy runs like the scenario's,
is recorded so that it reproduces, and a bad K is one error line naming `--scale`."""

from __future__ import annotations

import json
import tomllib

import polars as pl
import pytest
from typer.testing import CliRunner

from cli.main import app
from runs import run

QUARTERS = 8
#: how far a layer's revenue over the run may lie from the scenario's at K = 2 with no demand
#: noise. Not exact because the two clones of each inference host are two price-setters in the one
#: token market: each sees a more elastic residual demand than the host did alone and prices a
#: little lower, so the hosts sell a few per cent more (+3.4% measured); every other layer is
#: within 0.5%. Cents rounding per clone adds nothing visible.
TOLERANCE = 0.05
CALM = {"demand.noise": 0.0}


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def layer_revenue(firms: pl.DataFrame) -> dict[str, float]:
    rows = firms.group_by("layer").agg(pl.col("revenue_usd").sum())
    return dict(zip(rows["layer"], rows["revenue_usd"], strict=True))


@pytest.fixture(scope="module")
def pair():
    return (
        run("baseline", quarters=QUARTERS, seed=0, overrides=CALM),
        run("baseline", quarters=QUARTERS, seed=0, overrides=CALM, scale=2),
    )


def test_two_clones_give_the_layers_revenues_of_the_scenario(pair) -> None:
    one, two = pair
    base, scaled = layer_revenue(one.firms), layer_revenue(two.firms)
    assert set(base) == set(scaled)
    for layer, revenue in base.items():
        if revenue > 0:
            assert abs(scaled[layer] / revenue - 1.0) <= TOLERANCE, (layer, revenue, scaled[layer])
    assert two.firms["firm"].n_unique() > one.firms["firm"].n_unique()


def test_no_firm_defaults_at_two_clones(pair) -> None:
    _, two = pair
    assert not two.firms["defaulted"].any()
    assert two.events.filter(pl.col("kind") == "default").height == 0


def test_every_clone_of_an_app_sells(pair) -> None:
    _, two = pair
    apps = (
        two.firms.filter(pl.col("layer") == "app").group_by("firm").agg(pl.col("revenue_usd").sum())
    )
    assert apps.height == 6 and (apps["revenue_usd"] > 0).all()


def test_the_run_records_its_scale_and_its_scenario_toml_reproduces_it(tmp_path) -> None:
    out = tmp_path / "scaled"
    result = invoke("run", "--scale", "2", "--quarters", "3", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scale"] == 2 and manifest["overrides"] == {}
    written = tomllib.loads((out / "scenario.toml").read_text())
    assert written["scenario"]["scale"] == 2
    assert "cursor" in written["firms"]  # written as the scenario, not as its clones
    again = tmp_path / "again"
    result = invoke("run", str(out / "scenario.toml"), "--out", str(again))
    assert result.exit_code == 0, result.stderr
    assert (
        json.loads((again / "manifest.json").read_text())["scenario_sha256_16"]
        == (manifest["scenario_sha256_16"])
    )
    first, second = (pl.read_parquet(d / "firms.parquet") for d in (out, again))
    assert first.equals(second)
    assert "cursor_2" in first["firm"].to_list()


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("0", "between 1 and 1000, got 0"),
        ("1001", "between 1 and 1000, got 1001"),
        ("-3", "between 1 and 1000"),
        ("2.5", "integer"),
        ("many", "integer"),
    ],
)
def test_a_bad_scale_is_one_error_line_naming_the_option(tmp_path, value: str, words: str) -> None:
    result = invoke("run", "--scale", value, "--quarters", "1", "--out", str(tmp_path / "x"))
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "--scale" in lines[0] and words in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x").exists()


def test_scale_and_set_scenario_scale_together_are_refused() -> None:
    result = invoke("run", "--scale", "2", "--set", "scenario.scale=3", "--quarters", "1")
    assert result.exit_code == 2
    assert "--scale" in result.stderr and "scenario.scale" in result.stderr


def test_run_help_documents_scale() -> None:
    result = invoke("run", "--help")
    assert result.exit_code == 0
    assert "--scale" in result.stdout and "cloned" in result.stdout
