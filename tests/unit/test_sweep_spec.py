"""Sweep specs as data: every kind of bad spec is one clear :class:`SpecError` naming the file,
the key and what is allowed, reported before anything runs; good specs expand into the points,
seeds and run ids the docs promise.

Parameter names and ranges come from the baseline's own definitions, so recalibrating the model
does not break these tests; no test here runs the model.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from agents.registry import role_class
from cli.main import app
from runs.scenario import library_names
from runs.sweep import (
    MAX_RUNS,
    SpecError,
    SweepError,
    Window,
    load_spec,
    parse_executor,
    plan_sweep,
    replication_seeds,
    spec_names,
)

DEMAND_HI = 5.0  # runs.scenario.Demand.multiplier's upper bound, checked below
NVIDIA = role_class("chip_designer").Params


def test_demand_bound_is_current() -> None:
    from runs.scenario import Demand

    assert {f.name: f.metadata for f in dataclasses.fields(Demand)}["multiplier"]["hi"] == DEMAND_HI


def spec(vary: dict | None = None, sample: dict | None = None, **head: object) -> dict:
    out: dict = {"sweep": {"quarters": 4, **head}}
    if vary is not None:
        out["vary"] = vary
    if sample is not None:
        out["sample"] = sample
    return out


def case(case_id: str, data: dict, key: str, *fragments: str):
    return pytest.param(data, key, fragments, id=case_id)


GRID = {"demand.multiplier": [0.8, 1.2]}
RANGE = {"demand.multiplier": {"low": 0.8, "high": 1.2}}

CASES = [
    # structure
    case("unknown-table", {"nonsense": {}}, "nonsense", "unknown table", "sweep, vary, sample"),
    case("table-not-a-table", {"vary": 3}, "vary", "must be a table"),
    case(
        "unknown-sweep-key", spec(replicates=2), "sweep.replicates", "unknown key", "replications"
    ),
    case(
        "unknown-sample-key", spec(RANGE, {"count": 2, "n": 3}), "sample.n", "unknown key", "count"
    ),
    # counts and switches
    case(
        "negative-replications",
        spec(replications=-1),
        "sweep.replications",
        "out of range",
        f"allowed 1 to {MAX_RUNS}",
    ),
    case("zero-replications", spec(replications=0), "sweep.replications", "out of range"),
    case("fractional-replications", spec(replications=2.5), "sweep.replications", "whole number"),
    case("zero-quarters", spec(quarters=0), "sweep.quarters", "allowed 1 to 400"),
    case("too-many-quarters", spec(quarters=401), "sweep.quarters", "allowed 1 to 400"),
    case("negative-seed", spec(seed=-3), "sweep.seed", "out of range"),
    case("panels-not-bool", spec(panels="yes"), "sweep.panels", "true or false"),
    case("unknown-seed-mode", spec(seeds="shared"), "sweep.seeds", "common, independent"),
    case("name-not-text", spec(name=3), "sweep.name", "must be a string"),
    case("too-many-runs", spec(GRID, replications=MAX_RUNS), "vary", "at most"),
    # parameter paths
    case(
        "unknown-parameter",
        spec({"firms.nvidia.unit_cost": [1.0]}),
        'vary."firms.nvidia.unit_cost"',
        "unknown parameter",
        "list_price_usd",
    ),
    case(
        "unknown-firm",
        spec({"firms.intel.list_price_usd": [1.0]}),
        'vary."firms.intel.list_price_usd"',
        "no firm 'intel'",
        "nvidia",
    ),
    case(
        "unknown-section",
        spec({"weather.rain": [1.0]}),
        'vary."weather.rain"',
        "unknown table",
        "technology",
    ),
    case(
        "firm-without-parameter",
        spec({"firms.nvidia": {"x": [1]}}),
        'vary."firms.nvidia.x"',
        "unknown parameter",
    ),
    case(
        "reserved-seed",
        spec({"scenario.seed": [1, 2]}),
        'vary."scenario.seed"',
        "cannot be varied",
        "seeds come from",
    ),
    case(
        "quarters-twice",
        spec({"scenario.quarters": [4, 8]}),
        'vary."scenario.quarters"',
        "sweep.quarters is set",
    ),
    # grid values
    case("empty-list", spec({"demand.multiplier": []}), 'vary."demand.multiplier"', "empty list"),
    case(
        "value-out-of-range",
        spec({"demand.multiplier": [0.5, 20.0]}),
        'vary."demand.multiplier"',
        "20.0",
        "out of range",
        f"{DEMAND_HI}",
    ),
    case(
        "value-wrong-type",
        spec({"demand.multiplier": ["high"]}),
        'vary."demand.multiplier"',
        "'high'",
        "must be a number",
    ),
    case("value-twice", spec({"demand.multiplier": [1.0, 1]}), 'vary."demand.multiplier"', "twice"),
    case(
        "scalar-not-list",
        spec({"demand.multiplier": 1.0}),
        'vary."demand.multiplier"',
        "list of values",
        "low",
    ),
    # ranges
    case(
        "empty-range",
        spec({"demand.multiplier": {"low": 1.0, "high": 1.0}}, {"count": 3}),
        'vary."demand.multiplier"',
        "empty range",
        "use a list",
    ),
    case(
        "inverted-range",
        spec({"demand.multiplier": {"low": 2.0, "high": 1.0}}, {"count": 3}),
        'vary."demand.multiplier"',
        "empty range",
    ),
    case(
        "range-missing-high",
        spec({"demand.multiplier": {"low": 1.0}}, {"count": 3}),
        'vary."demand.multiplier"',
        "needs both low and high",
    ),
    case(
        "range-unknown-key",
        spec({"demand.multiplier": {"low": 1.0, "high": 2.0, "step": 1}}, {"count": 3}),
        'vary."demand.multiplier".step',
        "unknown key of a range",
        "low, high, log",
    ),
    case(
        "range-not-number",
        spec({"demand.multiplier": {"low": "a", "high": 2.0}}, {"count": 3}),
        'vary."demand.multiplier".low',
        "finite number",
    ),
    case(
        "range-beyond-bounds",
        spec({"demand.multiplier": {"low": 1.0, "high": 50.0}}, {"count": 3}),
        'vary."demand.multiplier"',
        "50.0",
        "out of range",
    ),
    case(
        "range-of-text",
        spec({"firms.nvidia.strategy": {"low": 1, "high": 2}}, {"count": 3}),
        'vary."firms.nvidia.strategy"',
        "numeric parameter",
    ),
    case(
        "log-range-from-zero",
        spec({"demand.multiplier": {"low": 0.0, "high": 2.0, "log": True}}, {"count": 3}),
        'vary."demand.multiplier".low',
        "low > 0",
    ),
    case(
        "no-whole-number",
        spec({"firms.tsmc.lead_quarters": {"low": 2.2, "high": 2.8}}, {"count": 3}),
        'vary."firms.tsmc.lead_quarters"',
        "no whole number",
    ),
    case("range-without-count", spec(RANGE), "sample.count", "required"),
    case("sample-without-range", spec(GRID, {"count": 3}), "sample", "only applies"),
    case(
        "unknown-method",
        spec(RANGE, {"count": 3, "method": "sobol"}),
        "sample.method",
        "lhs, random",
    ),
    case("zero-samples", spec(RANGE, {"count": 0}), "sample.count", "out of range"),
    # scenarios
    case(
        "unknown-scenario",
        spec(scenario="no-such-scenario"),
        "sweep.scenario",
        "not a scenario in the library",
        "baseline",
    ),
    case("scenario-not-text", spec(scenario=["baseline"]), "sweep.scenario", "[vary]"),
    case(
        "scenario-twice",
        {"sweep": {"scenario": "baseline"}, "vary": {"scenario": ["baseline"]}},
        "sweep.scenario",
        "remove one",
    ),
    case("varied-scenario-empty", spec({"scenario": []}), "vary.scenario", "non-empty list"),
    case(
        "varied-scenario-repeated",
        spec({"scenario": ["baseline", "baseline"]}),
        "vary.scenario",
        "twice",
    ),
    case(
        "varied-scenario-unknown",
        spec({"scenario": ["baseline", "nope"]}),
        "vary.scenario",
        "'nope'",
    ),
    # windows
    case(
        "window-malformed",
        spec(windows=["2025Q5"]),
        "sweep.windows",
        "not a window",
        "2025Q1-2026Q4",
    ),
    case("window-backwards", spec(windows=["2027-2025"]), "sweep.windows", "empty window"),
    case(
        "window-outside-runs",
        spec(windows=["2040"]),
        "sweep.windows",
        "outside every run",
        "2025Q1–2025Q4",
    ),
    case("window-twice", spec(windows=["2025", "2025"]), "sweep.windows", "twice"),
    case("windows-not-list", spec(windows="2025"), "sweep.windows", "non-empty list"),
]


@pytest.mark.parametrize(("data", "key", "fragments"), CASES)
def test_bad_spec_is_one_clear_error(data: dict, key: str, fragments: tuple[str, ...]) -> None:
    with pytest.raises(SpecError) as info:
        plan_sweep(load_spec(data, source="my-sweep.toml"))
    message = str(info.value)
    assert message.startswith("my-sweep.toml: "), message
    assert f": {key}:" in message or message.startswith(f"my-sweep.toml: {key}:"), message
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


# ---------------------------------------------------------------------------------------------
# the command line: exit 2, one line, nothing run
def write(tmp_path: Path, text: str, name: str = "sweep.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


BAD_FILES = [
    pytest.param(
        '[sweep]\nquarters = 4\n[vary]\n"firms.nvidia.unit_cost" = [1.0, 2.0]\n',
        (),
        ("firms.nvidia.unit_cost", "unknown parameter"),
        id="unknown-path",
    ),
    pytest.param(
        '[sweep]\nquarters = 4\n[vary]\n"demand.multiplier" = { low = 2, high = 1 }'
        "\n[sample]\ncount = 4\n",
        (),
        ("empty range",),
        id="empty-range",
    ),
    pytest.param(
        "[sweep]\nreplications = -2\n",
        (),
        ("sweep.replications", "out of range"),
        id="negative-replications",
    ),
    pytest.param("[sweep\nquarters = 4\n", (), ("not valid TOML",), id="not-toml"),
    pytest.param(
        "[sweep]\nquarters = 4\n",
        ("--executor", "ftp://host:1"),
        ("--executor ftp://host:1", "dask://HOST:PORT"),
        id="unknown-executor",
    ),
    pytest.param(
        "[sweep]\nquarters = 4\n",
        ("--executor", "dask://no-port"),
        ("not an executor",),
        id="executor-without-port",
    ),
    pytest.param(
        "[sweep]\nquarters = 4\n",
        ("--workers", "0"),
        ("--workers", "at least 1"),
        id="zero-workers",
    ),
]


def assert_one_error_line(result, *fragments: str) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.mark.parametrize(("text", "options", "fragments"), BAD_FILES)
def test_cli_rejects_a_bad_spec_before_running(
    tmp_path: Path, text: str, options: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    path = write(tmp_path, text)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(out), *options])
    assert_one_error_line(result, *fragments)
    assert not (out / "runs").exists() or not any((out / "runs").iterdir())


def test_cli_names_a_missing_spec_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["sweep", str(tmp_path / "nope.toml")])
    assert_one_error_line(result, "nope.toml", "no such file", "smoke")


def test_unreachable_dask_scheduler_is_a_user_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("distributed")
    # the module that connects (``runs.sweep`` the attribute is the function ``sweep``)
    monkeypatch.setattr(importlib.import_module("runs.sweep.executors"), "CONNECT_TIMEOUT_S", 1.0)
    path = write(tmp_path, "[sweep]\nquarters = 4\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["sweep", str(path), "--out", str(out), "--executor", "dask://127.0.0.1:9"]
    )
    assert_one_error_line(result, "cannot reach a Dask scheduler", "127.0.0.1:9")
    assert not out.exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("local", ("local", None)),
        ("dask://10.0.0.5:8786", ("dask", "tcp://10.0.0.5:8786")),
        ("dask://scheduler.lan:8786", ("dask", "tcp://scheduler.lan:8786")),
    ],
)
def test_executor_addresses(text: str, expected: tuple) -> None:
    assert parse_executor(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "dask://",
        "dask://:8786",
        "dask://host:port",
        "dask://host:0",
        "tcp://host:8786",
        "Local",
    ],
)
def test_bad_executor_addresses(text: str) -> None:
    with pytest.raises(SweepError, match="not an executor"):
        parse_executor(text)


# ---------------------------------------------------------------------------------------------
# good specs
def test_grid_is_the_product_in_the_spec_order() -> None:
    plan = plan_sweep(
        spec(
            {
                "demand.multiplier": [0.8, 1, 1.2],
                "firms": {"nvidia": {"list_price_usd": [2e4, 3e4]}},
            },
            replications=2,
        )
    )
    assert plan.parameters == ("demand.multiplier", "firms.nvidia.list_price_usd")
    assert [tuple(p.values()) for p in plan.points] == [
        (0.8, 2e4),
        (0.8, 3e4),
        (1.0, 2e4),
        (1.0, 3e4),
        (1.2, 2e4),
        (1.2, 3e4),
    ]
    assert isinstance(plan.points[2]["demand.multiplier"], float)  # 1 → 1.0: the field's type
    assert len(plan.tasks) == 12
    assert [t.run_id for t in plan.tasks[:3]] == ["p000-r00", "p000-r01", "p001-r00"]
    assert len({t.run_id for t in plan.tasks}) == 12


def test_seeds_come_from_one_root_seed_sequence() -> None:
    plan = plan_sweep(spec(GRID, replications=3, seed=42))
    children = np.random.SeedSequence(42).spawn(3)
    expected = [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]
    assert replication_seeds(42, 3) == expected
    for task in plan.tasks:  # common random numbers: replication r has one seed at every point
        assert task.seed == expected[task.replication]
    assert all(0 <= s < 2**63 for s in expected)


def test_independent_seeds_differ_across_points() -> None:
    plan = plan_sweep(spec(GRID, replications=3, seed=42, seeds="independent"))
    seeds = [t.seed for t in plan.tasks]
    assert len(set(seeds)) == len(seeds)
    assert [t.seed for t in plan.tasks if t.point == 1] == replication_seeds(42, 3, point=1)


def test_the_same_spec_plans_the_same_runs() -> None:
    data = spec({"demand.multiplier": {"low": 0.5, "high": 2.0}}, {"count": 5}, seed=3)
    a, b = plan_sweep(data), plan_sweep(data)
    assert a.tasks == b.tasks and a.digest == b.digest
    assert plan_sweep({**data, "sweep": {**data["sweep"], "seed": 4}}).digest != a.digest


@pytest.mark.parametrize("method", ["lhs", "random"])
def test_ranges_are_sampled_inside_their_bounds(method: str) -> None:
    plan = plan_sweep(
        spec(
            {
                "demand.multiplier": {"low": 0.5, "high": 2.0},
                "technology.energy_usd_per_kwh": {"low": 0.04, "high": 0.16, "log": True},
                "firms.tsmc.lead_quarters": {"low": 2, "high": 6},
            },
            {"count": 10, "method": method},
        )
    )
    assert len(plan.points) == 10
    for point in plan.points:
        assert 0.5 <= point["demand.multiplier"] <= 2.0
        assert 0.04 <= point["technology.energy_usd_per_kwh"] <= 0.16
        assert isinstance(point["firms.tsmc.lead_quarters"], int)  # an integer parameter
        assert 2 <= point["firms.tsmc.lead_quarters"] <= 6


def test_latin_hypercube_puts_one_sample_in_each_stratum() -> None:
    n = 8
    plan = plan_sweep(spec({"demand.multiplier": {"low": 1.0, "high": 3.0}}, {"count": n}))
    strata = sorted(math.floor((p["demand.multiplier"] - 1.0) / 2.0 * n) for p in plan.points)
    assert strata == list(range(n))


def test_grid_crossed_with_samples() -> None:
    plan = plan_sweep(
        spec(
            {
                "scenario": ["baseline"],
                "demand.noise": [0.0, 0.1],
                "demand.multiplier": {"low": 0.5, "high": 2.0},
            },
            {"count": 3},
        )
    )
    assert len(plan.points) == 6
    assert plan.parameters == ("scenario", "demand.noise", "demand.multiplier")
    samples = [p["demand.multiplier"] for p in plan.points]
    assert samples[:3] == samples[3:]  # the same samples at each grid value


def test_the_scenario_itself_can_vary(tmp_path: Path) -> None:
    variant = tmp_path / "variants" / "cheap.toml"
    variant.parent.mkdir()
    variant.write_text(
        '[scenario]\nextends = "baseline"\nname = "cheap"\n'
        "[firms.nvidia]\nlist_price_usd = 15000.0\n"
    )
    spec_path = write(
        tmp_path,
        "[sweep]\nquarters = 4\nreplications = 2\n"
        '[vary]\nscenario = ["baseline", "variants/cheap.toml"]\n',
    )
    plan = plan_sweep(spec_path)  # relative to the spec's folder
    assert [t.scenario for t in plan.tasks] == ["baseline"] * 2 + ["variants/cheap.toml"] * 2
    assert plan.tasks[0].seed == plan.tasks[2].seed
    assert set(plan.bases) == {"baseline", "variants/cheap.toml"}


def test_a_path_must_exist_in_every_varied_scenario(tmp_path: Path) -> None:
    variant = write(
        tmp_path, 'remove_firms = ["amd"]\n[scenario]\nextends = "baseline"\n', "no-amd.toml"
    )
    data = spec({"scenario": ["baseline", str(variant)], "firms.amd.list_price_usd": [1e4]})
    with pytest.raises(SpecError, match=r"no firm 'amd'.*in scenario"):
        plan_sweep(data)


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2026", "2026Q1", "2026Q4"),
        ("2026Q3", "2026Q3", "2026Q3"),
        ("2025-2027", "2025Q1", "2027Q4"),
        ("2025Q2-2026Q1", "2025Q2", "2026Q1"),
        ("all", None, None),
    ],
)
def test_windows(text: str, first: str | None, last: str | None) -> None:
    window = Window.parse(text)
    assert (window.label, window.first, window.last) == (text, first, last)


def test_default_windows_are_full_years_and_all() -> None:
    plan = plan_sweep(spec(quarters=10))  # 2025Q1–2027Q2
    assert [w.label for w in plan.windows] == ["2025", "2026", "all"]


def test_nested_vary_tables_are_dotted_paths() -> None:
    data = {
        "sweep": {"quarters": 4},
        "vary": {"firms": {"tsmc": {"max_growth_per_year": [0.4, 0.8]}}},
    }
    assert plan_sweep(data).parameters == ("firms.tsmc.max_growth_per_year",)


@pytest.mark.parametrize("name", spec_names())
def test_shipped_specs_are_valid(name: str) -> None:
    plan = plan_sweep(name)
    assert plan.tasks and plan.spec.name == name


def test_smoke_is_a_few_dozen_short_runs() -> None:
    plan = plan_sweep("smoke")
    assert 20 <= len(plan.tasks) <= 60
    assert plan.spec.quarters is not None and plan.spec.quarters <= 8
    assert "baseline" in library_names()
