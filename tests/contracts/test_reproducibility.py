"""Reproducibility contract: a scenario and a seed determine a run, down to the bytes on disk."""

from __future__ import annotations

import json
from functools import cache

import pytest

from runs import RunResult, load_scenario, run
from runs.run import FRAMES

QUARTERS = 8
SEED = 11


@cache
def baseline():
    return load_scenario("baseline")


@cache
def result(seed: int) -> RunResult:
    return run(baseline(), quarters=QUARTERS, seed=seed)


def test_a_run_returns_all_five_frames() -> None:
    assert set(result(SEED).frames) == set(FRAMES)
    assert result(SEED).firms.height > 0


@pytest.mark.parametrize("frame", FRAMES)
def test_same_scenario_and_seed_give_identical_frames(frame: str) -> None:
    again = run(baseline(), quarters=QUARTERS, seed=SEED)  # a fresh run, not the cached one
    a, b = result(SEED).frames[frame], again.frames[frame]
    assert a.schema == b.schema
    assert a.equals(b, null_equal=True), f"{frame} differs between two runs with seed {SEED}"


def test_loading_the_scenario_again_gives_identical_frames() -> None:
    again = run("baseline", quarters=QUARTERS, seed=SEED)
    for name in FRAMES:
        assert again.frames[name].equals(result(SEED).frames[name], null_equal=True), name


def test_different_seeds_give_different_firms() -> None:
    a, b = result(SEED).firms, result(SEED + 1).firms
    assert not a.equals(b, null_equal=True), "the seed has no effect on the firms frame"


def test_writing_twice_gives_byte_identical_parquet(tmp_path) -> None:
    first = result(SEED).write(tmp_path / "first")
    second = run(baseline(), quarters=QUARTERS, seed=SEED).write(tmp_path / "second")
    for name in FRAMES:
        a, b = first / f"{name}.parquet", second / f"{name}.parquet"
        assert a.is_file() and b.is_file(), name
        assert a.read_bytes() == b.read_bytes(), f"{name}.parquet differs between two writes"

    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["scenario"] == "baseline"
    assert manifest["seed"] == SEED
    assert manifest["quarters"] == QUARTERS
    assert manifest["frames"] == [f"{name}.parquet" for name in FRAMES]
    versions = manifest["versions"]
    assert {"chasing-margins", "mesa", "numpy", "polars"} <= set(versions)
    assert all(isinstance(v, str) and v for v in versions.values())
    machine = manifest["machine"]
    assert machine["numpy"] == versions["numpy"]
    assert machine["blas"] and machine["cpu_features"], machine
    # manifest.json carries the code version, so only its reproducible fields are compared
    other = json.loads((second / "manifest.json").read_text())
    keep = ("scenario", "scenario_sha256_16", "seed", "quarters", "start", "frames", "versions")
    assert {k: manifest[k] for k in keep} == {k: other[k] for k in keep}
