"""Sweep contract: a spec runs into a directory of runs, an index and a summary; the results are
the same serially, on 2 local workers and on Dask; a failing run is recorded and the sweep goes
on; ``margins summarize`` reports per point and draws charts.

Short runs only (the shipped ``smoke`` spec: 30 runs of 8 quarters), and no exact model figures:
the model's numbers change as it is developed.
"""

from __future__ import annotations

import importlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cli.main import app
from runs import sweep
from runs.report import LAYERS
from runs.run import FRAMES
from runs.sweep import (
    LAYER_FIGURES,
    PRICE_MARKETS,
    TIMING_COLUMNS,
    Progress,
    plan_sweep,
    replication_seeds,
    summarize_run,
)

ROOT = Path(__file__).resolve().parents[2]
INDEX_COLUMNS = [
    "run_id",
    "point",
    "replication",
    "scenario",
    "demand.multiplier",
    "firms.nvidia.list_price_usd",
    "quarters",
    "seed",
    "status",
    "error",
    "seconds",
    "worker",
]


def tables(out: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    return pl.read_parquet(out / "runs.parquet"), pl.read_parquet(out / "summary.parquet")


def assert_same_results(a: Path, b: Path) -> None:
    """Identical summaries and identical run indexes apart from how long runs took and where."""
    (index_a, summary_a), (index_b, summary_b) = tables(a), tables(b)
    assert summary_a.schema == summary_b.schema
    assert summary_a.equals(summary_b, null_equal=True)
    assert index_a.drop(TIMING_COLUMNS).equals(index_b.drop(TIMING_COLUMNS), null_equal=True)


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pl.DataFrame]:
    """The smoke spec run serially in this process, from Python."""
    out = tmp_path_factory.mktemp("sweep") / "serial"
    return out, sweep("smoke", out, workers=1, progress=False)


def test_python_returns_the_summary_it_wrote(serial) -> None:
    out, summary = serial
    assert isinstance(summary, pl.DataFrame)
    assert summary.equals(tables(out)[1], null_equal=True)


def test_one_row_per_run_with_parameters_and_seed(serial) -> None:
    out, summary = serial
    plan = plan_sweep("smoke")
    index, _ = tables(out)
    assert index.columns == INDEX_COLUMNS
    assert index["run_id"].to_list() == [t.run_id for t in plan.tasks]
    assert summary["run_id"].to_list() == index["run_id"].to_list()
    assert index["status"].unique().to_list() == ["ok"]
    assert index["error"].null_count() == index.height
    assert (index["seconds"] > 0).all()
    seeds = replication_seeds(plan.spec.seed, plan.spec.replications)
    for row in index.iter_rows(named=True):
        task = plan.tasks[row["point"] * plan.spec.replications + row["replication"]]
        assert row["seed"] == seeds[row["replication"]] == task.seed
        assert row["demand.multiplier"] == task.overrides["demand.multiplier"]
        assert row["quarters"] == plan.spec.quarters


def test_summary_has_the_figures_people_compare(serial) -> None:
    _, summary = serial
    for window in ("2025", "2026", "all"):
        for layer in LAYERS:
            for figure in LAYER_FIGURES:
                assert summary.schema[f"{figure}_{layer}_{window}"] == pl.Float64
        for market in PRICE_MARKETS:
            assert f"price_{market}_{window}" in summary.columns
        shares = summary.select(
            pl.sum_horizontal(pl.col(f"profit_share_{layer}_{window}") for layer in LAYERS)
        )
        assert shares.to_series().is_between(0.999, 1.001).all()
    assert summary.schema["defaulted"] == pl.List(pl.String)
    assert summary.schema["defaults"] == pl.Int64
    assert (summary["defaults"] == summary["defaulted"].list.len()).all()
    assert summary["gross_margin_chips_all"].is_not_null().all()


def test_each_run_has_its_own_directory_without_panels(serial) -> None:
    out, _ = serial
    runs = sorted(p.name for p in (out / "runs").iterdir())
    assert runs == [t.run_id for t in plan_sweep("smoke").tasks]
    for run_dir in (out / "runs").iterdir():
        assert {p.name for p in run_dir.iterdir()} == {"manifest.json", "result.json"}
    manifest = json.loads((out / "runs" / runs[0] / "manifest.json").read_text())
    assert manifest["quarters"] == 8 and manifest["scenario"] == "baseline"
    meta = json.loads((out / "sweep.json").read_text())
    assert (meta["runs"], meta["points"], meta["replications"]) == (30, 6, 5)


def test_summarize_run_matches_the_run_report() -> None:
    """The per-run figures are runs.report's layer margins, so the CLI and sweeps agree."""
    from runs import run
    from runs.report import layer_margins
    from runs.sweep import Window

    result = run("baseline", quarters=4, seed=3)
    figures = summarize_run(result.frames, [Window.parse("2025"), Window.parse("all")])
    margins = layer_margins(result.firms, by="year").filter(pl.col("year") == 2025)
    for row in margins.iter_rows(named=True):
        assert figures[f"gross_margin_{row['layer']}_2025"] == row["gross_margin"]
        assert figures[f"operating_margin_{row['layer']}_all"] == row["operating_margin"]


def test_two_workers_from_the_command_line_equal_serial(serial, tmp_path: Path) -> None:
    """The README's command: the same spec on 2 local workers gives the same results."""
    out = tmp_path / "parallel"
    proc = subprocess.run(
        [sys.executable, "-m", "cli.main", "sweep", "smoke", "--out", str(out), "--workers", "2"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
        env={**os.environ, "MARGINS_SERIAL_BELOW_S": "0"},  # the workers, however fast the runs
    )
    assert proc.returncode == 0, proc.stderr
    assert "sweep smoke: 30 runs, 30 ok, 0 failed" in proc.stdout
    assert "2 local workers" in proc.stdout
    assert "sweep smoke: 30/30 done, 0 failed" in proc.stderr  # not a terminal: plain lines
    assert_same_results(serial[0], out)


def test_dask_local_cluster_equals_serial(serial, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    out = tmp_path / "dask"
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address.removeprefix("tcp://")
        sweep("smoke", out, executor=f"dask://{address}", progress=False)
    assert_same_results(serial[0], out)


# ---------------------------------------------------------------------------------------------
SMALL = (
    '[sweep]\nname = "small"\nquarters = 4\nreplications = 3\nseed = 5\n'
    '[vary]\n"demand.multiplier" = [0.8, 1.2]\n'
)


def small_spec(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL + extra)
    return path


def fail_replication(monkeypatch: pytest.MonkeyPatch, replication: int) -> None:
    """Make every run of one replication raise (serial runs execute in this process)."""
    module = importlib.import_module("runs.run")  # the module, not the function runs.run
    seed_to_fail = replication_seeds(5, 3)[replication]
    real = module.run

    def run(scenario, quarters=None, seed=None, **kwargs):
        if seed == seed_to_fail:
            raise ZeroDivisionError("the model divided by zero")
        return real(scenario, quarters=quarters, seed=seed, **kwargs)

    monkeypatch.setattr(module, "run", run)


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, out = small_spec(tmp_path), tmp_path / "out"
    fail_replication(monkeypatch, 1)
    result = CliRunner().invoke(app, ["sweep", str(spec), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 1, result.stderr  # 1: some runs failed (2 is a bad input)
    assert "6 runs, 4 ok, 2 failed" in result.stdout
    assert "failed p000-r01: ZeroDivisionError: the model divided by zero" in result.stdout
    index, summary = tables(out)
    failed = index.filter(pl.col("status") == "failed")
    assert failed["run_id"].to_list() == ["p000-r01", "p001-r01"]
    assert failed["error"].to_list() == ["ZeroDivisionError: the model divided by zero"] * 2
    assert "ZeroDivisionError" in (out / "runs" / "p000-r01" / "error.txt").read_text()
    assert summary.filter(pl.col("status") == "failed")["gross_margin_chips_all"].null_count() == 2
    assert summary.filter(pl.col("status") == "ok")["gross_margin_chips_all"].is_not_null().all()

    again = CliRunner().invoke(app, ["sweep", str(spec), "--out", str(out), "--workers", "1"])
    assert again.exit_code == 1 and "nothing left to run (6 done before)" in again.stdout

    monkeypatch.undo()
    retried = CliRunner().invoke(
        app, ["sweep", str(spec), "--out", str(out), "--workers", "1", "--retry-failed"]
    )
    assert retried.exit_code == 0, retried.stdout
    assert "6 runs, 6 ok, 0 failed; ran 2" in retried.stdout


def test_panels_are_kept_when_asked(tmp_path: Path) -> None:
    spec = small_spec(tmp_path, "").read_text().replace("replications = 3", "replications = 1")
    (tmp_path / "panels.toml").write_text(spec.replace("seed = 5", "seed = 5\npanels = true"))
    out = tmp_path / "out"
    sweep(tmp_path / "panels.toml", out, workers=1, progress=False)
    run_dir = out / "runs" / "p001-r00"
    assert {p.name for p in run_dir.iterdir()} == {
        "manifest.json",
        "scenario.toml",
        "result.json",
        *(f"{f}.parquet" for f in FRAMES),
    }
    firms = pl.read_parquet(run_dir / "firms.parquet")
    assert firms["quarter"].max() == 3
    assert "multiplier = 1.2" in (run_dir / "scenario.toml").read_text()


def test_an_output_directory_holds_one_sweep(tmp_path: Path) -> None:
    spec, out = small_spec(tmp_path), tmp_path / "out"
    sweep(spec, out, workers=1, progress=False)
    other = tmp_path / "other.toml"
    other.write_text(SMALL.replace("seed = 5", "seed = 6"))
    result = CliRunner().invoke(app, ["sweep", str(other), "--out", str(out)])
    assert result.exit_code == 2 and "different spec" in result.stderr
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "notes.txt").write_text("mine")
    result = CliRunner().invoke(app, ["sweep", str(spec), "--out", str(tmp_path / "stuff")])
    assert result.exit_code == 2 and "not a sweep directory" in result.stderr
    assert (tmp_path / "stuff" / "notes.txt").read_text() == "mine"


def test_a_directory_in_use_is_refused(tmp_path: Path) -> None:
    import fcntl

    spec, out = small_spec(tmp_path), tmp_path / "out"
    out.mkdir()
    with open(out / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        result = CliRunner().invoke(app, ["sweep", str(spec), "--out", str(out)])
    assert result.exit_code == 2 and "another sweep is running" in result.stderr


def test_progress_bar_on_a_terminal() -> None:
    import io

    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120)
    with Progress("demo", 10, 4, 1, mode="auto", console=console) as bar:
        assert bar.mode == "bar"
        bar.advance(5, 1)
    text = buffer.getvalue()
    assert "sweep demo" in text and "10/10" in text and "2 failed" in text


# ---------------------------------------------------------------------------------------------
def test_summarize_prints_each_point_and_draws_charts(serial) -> None:
    out, _ = serial
    result = CliRunner().invoke(app, ["summarize", str(out)])
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "sweep smoke · 30 runs (0 failed) · 6 points × 5 replications · window 2026" in text
    assert "95% confidence interval" in text
    for point in range(6):
        assert f"point {point} · demand.multiplier = " in text
    layer_rows = [
        line.split()[0] for line in text.splitlines() if line.split() and line.split()[0] in LAYERS
    ]
    assert layer_rows == list(LAYERS) * 6
    assert "%" in text and "[" in text and "defaults:" in text and "prices (USD" in text
    charts = sorted((out / "charts").iterdir())
    assert [p.name for p in charts] == [
        "margins_vs_demand.multiplier.png",
        "margins_vs_firms.nvidia.list_price_usd.png",
    ]
    for chart in charts:
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"wrote {chart}" in text


def test_summarize_other_window_and_bad_input(serial, tmp_path: Path) -> None:
    out, _ = serial
    result = CliRunner().invoke(app, ["summarize", str(out), "--window", "all", "--no-charts"])
    assert result.exit_code == 0 and "window all" in result.stdout
    bad = CliRunner().invoke(app, ["summarize", str(out), "--window", "2031"])
    assert bad.exit_code == 2 and "2025, 2026, all" in bad.stderr
    missing = CliRunner().invoke(app, ["summarize", str(tmp_path)])
    assert missing.exit_code == 2 and "not a sweep directory" in missing.stderr


def test_point_summary_means_and_intervals(serial) -> None:
    from runs.sweep import point_summary

    _, summary = serial
    stats = point_summary(summary, ["gross_margin_chips_all"])
    assert stats.height == 6 and (stats["runs"] == 5).all()
    means = summary.group_by("point").agg(pl.col("gross_margin_chips_all").mean()).sort("point")
    assert stats.sort("point")["gross_margin_chips_all_mean"].to_list() == pytest.approx(
        means["gross_margin_chips_all"].to_list()
    )
    assert (stats["gross_margin_chips_all_lo"] <= stats["gross_margin_chips_all_mean"]).all()
    assert (stats["gross_margin_chips_all_mean"] <= stats["gross_margin_chips_all_hi"]).all()


def test_scenarios_and_sampled_ranges_sweep_and_chart(tmp_path: Path) -> None:
    """The base scenario varied as a key, crossed with a Latin hypercube; one chart each."""
    from runs.scenario import library_names

    other = next(name for name in library_names() if name != "baseline")
    spec = {
        "sweep": {"name": "mixed", "quarters": 4, "seed": 3},
        "vary": {"scenario": ["baseline", other], "demand.multiplier": {"low": 0.7, "high": 1.4}},
        "sample": {"count": 13},
    }
    out = tmp_path / "mixed"
    summary = sweep(spec, out, workers=1, progress=False)
    assert summary.height == 26 and summary["status"].unique().to_list() == ["ok"]
    assert summary["scenario"].to_list() == ["baseline"] * 13 + [other] * 13
    assert summary["demand.multiplier"].is_between(0.7, 1.4).all()
    assert summary["seed"].n_unique() == 1  # one replication: the same seed everywhere
    result = CliRunner().invoke(app, ["summarize", str(out), "--window", "all"])
    assert result.exit_code == 0, result.stderr
    assert f"point 13 · scenario {other} · demand.multiplier = " in result.stdout
    assert sorted(p.name for p in (out / "charts").iterdir()) == [
        "margins_vs_demand.multiplier.png",
        "margins_vs_scenario.png",
    ]


def test_a_batch_too_small_for_workers_runs_here_and_equals_serial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Starting local workers costs a fresh interpreter importing the model; a batch whose runs
    would take less than that to run one after the other runs in the sweep's own process, with
    the same results. The threshold is set far above the batch's time (an hour), so the
    decision does not depend on how fast this machine happens to be: under load the probe run
    of the default threshold's comparison can take longer than 4 s."""
    from runs.sweep import SweepReport

    monkeypatch.setenv("MARGINS_SERIAL_BELOW_S", "3600")
    spec = small_spec(tmp_path)  # 6 runs of 4 quarters: well under a second each
    report = SweepReport(tmp_path / "two", 0, 0)
    sweep(spec, tmp_path / "two", workers=2, progress=False, report=report)
    sweep(spec, tmp_path / "one", workers=1, progress=False)
    assert report.pool.startswith("1 process (serial: too little work"), report.pool
    index, _ = tables(tmp_path / "two")
    assert index["worker"].unique().to_list() == [f"{socket.gethostname()}:{os.getpid()}"]
    assert_same_results(tmp_path / "one", tmp_path / "two")


def test_the_workers_start_for_any_batch_when_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runs.sweep import SweepReport

    monkeypatch.setenv("MARGINS_SERIAL_BELOW_S", "0")
    spec = small_spec(tmp_path)
    report = SweepReport(tmp_path / "two", 0, 0)
    sweep(spec, tmp_path / "two", workers=2, progress=False, report=report)
    sweep(spec, tmp_path / "one", workers=1, progress=False)
    assert report.pool == "2 local workers"
    index, _ = tables(tmp_path / "two")
    assert f":{os.getpid()}" not in " ".join(index["worker"].to_list())
    assert_same_results(tmp_path / "one", tmp_path / "two")


def test_a_bad_serial_threshold_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MARGINS_SERIAL_BELOW_S", "soon")
    result = CliRunner().invoke(app, ["sweep", str(small_spec(tmp_path)), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: MARGINS_SERIAL_BELOW_S=soon: not a number of seconds (0: always start the workers)"
    )
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_a_sweep_over_many_values_keeps_the_demand_curve_cache_bounded(tmp_path: Path) -> None:
    """Each run lays demand curves on a grid cached per elasticity; a sweep sampling the demand
    multiplier and an elasticity gives every run new values, and the cache stays within its
    size however many runs there are."""
    from agents import demand

    demand._grid.cache_clear()
    runs = demand.GRID_CACHE + 8
    spec = {
        "sweep": {"name": "cache", "quarters": 1, "replications": 1, "seed": 3},
        "sample": {"count": runs},
        "vary": {
            "demand.multiplier": {"low": 0.5, "high": 2.0},
            "firms.chip_buyers.elasticity": {"low": 1.0, "high": 2.0},
        },
    }
    summary = sweep(spec, tmp_path / "out", workers=1, progress=False)
    assert summary.height == runs and summary["status"].unique().to_list() == ["ok"]
    info = demand._grid.cache_info()
    assert info.misses >= runs  # every run brought a new elasticity
    assert info.currsize <= demand.GRID_CACHE
