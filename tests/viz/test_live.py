"""The live run is the CLI's run: same frames, same files; downloads are readable."""

from __future__ import annotations

import io
import json
import tomllib
import zipfile

import polars as pl
from polars.testing import assert_frame_equal

from runs.run import FRAMES, run
from runs.scenario import validate
from viz.live import LiveEconomy
from viz.setup import default_setup, defaults, open_file, with_settings

QUARTERS = 6  # as the stepped fixture in conftest.py


def test_a_live_run_is_the_clis_run(stepped: LiveEconomy) -> None:
    cli = run(stepped.config, quarters=QUARTERS, seed=stepped.seed)
    live = stepped.result()
    assert live.manifest == cli.manifest
    for name in FRAMES:
        assert_frame_equal(live.frames[name], cli.frames[name])
    snap = stepped.snapshot
    for name in ("firms", "markets", "events"):
        assert_frame_equal(getattr(snap, name), cli.frames[name])


def test_the_zip_holds_what_margins_run_writes(stepped: LiveEconomy) -> None:
    archive = zipfile.ZipFile(io.BytesIO(stepped.zip_bytes()))
    folder = stepped.archive_name()
    names = sorted(archive.namelist())
    assert names == sorted(
        f"{folder}/{n}"
        for n in ["manifest.json", "scenario.toml", *(f"{f}.parquet" for f in FRAMES)]
    )
    for name in FRAMES:
        frame = pl.read_parquet(io.BytesIO(archive.read(f"{folder}/{name}.parquet")))
        assert frame.height > 0
    manifest = json.loads(archive.read(f"{folder}/manifest.json"))
    assert manifest["quarters"] == QUARTERS and manifest["seed"] == stepped.seed
    scenario = validate(
        tomllib.loads(archive.read(f"{folder}/scenario.toml").decode()), "scenario.toml"
    )
    # the scenario as run: the economy's scenario with the run's quarters and seed
    assert scenario.digest() == manifest["scenario_sha256_16"]
    assert scenario.quarters == QUARTERS and scenario.seed == stepped.seed
    assert scenario.firms.keys() == stepped.config.firms.keys()


def test_the_scenario_download_reruns_the_same_setup() -> None:
    setup = with_settings(
        defaults(open_file("x.toml", b'[scenario]\nextends = "baseline"\n')),
        demand_growth=1.7,
        seed=4,
        custom_silicon=False,
    )
    model = LiveEconomy(setup)
    text = model.scenario_toml()
    again = validate(tomllib.loads(text), "again.toml")
    assert again.digest() == model.config.digest()
    assert again.seed == 4 and again.demand.multiplier == 1.7 and again.programs == {}


def test_the_run_stops_at_the_scenarios_last_quarter() -> None:
    opened = open_file("short.toml", b'[scenario]\nextends = "baseline"\nquarters = 2\n')
    model = LiveEconomy(defaults(opened))
    assert model.running and model.snapshot.quarters == 0
    model.step()
    assert model.running
    model.step()
    assert not model.running and model.snapshot.finished
    model.step()  # past the end: nothing happens
    assert model.quarter == 2 and model.snapshot.quarters == 2


def test_each_quarter_makes_a_new_snapshot(stepped: LiveEconomy) -> None:
    snap = stepped.snapshot
    assert snap.quarters == QUARTERS == len(snap.books)
    assert snap.period == snap.period_of(QUARTERS - 1)
    last = snap.books[-1]
    assert last.clearings and last.orders.height > 0
    assert set(last.orders["quarter"].unique()) == {QUARTERS - 1}
    assert snap.flows.height > 0 and (snap.flows["amount_usd"] > 0).all()


def test_downloads_are_named_after_the_scenario_and_its_changed_settings() -> None:
    plain = LiveEconomy(default_setup())
    assert plain.file_stem() == "baseline-seed0"
    changed = LiveEconomy(with_settings(default_setup(), demand_growth=1.5, custom_silicon=False))
    assert changed.file_stem() == "baseline-demand-growth-x1.50-no-custom-silicon-seed0"
    assert changed.archive_name() == "baseline-demand-growth-x1.50-no-custom-silicon-seed0-start"
