"""Table tests for scenario validation: every kind of bad input is one clear :class:`ScenarioError`.

Each case is a small TOML file that extends the baseline and introduces exactly one mistake. The
error must name the file and the offending dotted key (and, for ranges and choices, what is
allowed), and the CLI must report it as one ``error:`` line on stderr with exit status 2.
Ranges and choices are read from the parameter definitions, so recalibrating them does not break
these tests.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agents.registry import ROLES, role_class
from agents.strategies import strategy_names
from agents.technology import Technology
from cli.main import app
from runs.scenario import ScenarioError, apply_overrides, load_raw, load_scenario

HEADER = '[scenario]\nextends = "baseline"\n'


def bounds(cls: type, name: str) -> tuple[float, float]:
    meta = {f.name: f.metadata for f in dataclasses.fields(cls)}[name]
    return meta["lo"], meta["hi"]


def allowed(cls: type, name: str) -> str:
    """The ``allowed lo to hi`` part of an out-of-range message."""
    lo, hi = bounds(cls, name)
    return f"allowed {lo} to {hi}"


FOUNDRY = role_class("foundry").Params
CHIP_LO, CHIP_HI = bounds(Technology, "chip_cost_decline")
GROWTH_HI = bounds(FOUNDRY, "max_growth_per_year")[1]
LEAD_LO, LEAD_HI = bounds(FOUNDRY, "lead_quarters")


def event(**fields: object) -> str:
    body = "\n".join(f"{k} = {v!r}".replace("'", '"') for k, v in fields.items())
    return f"[[events]]\n{body}\n"


def case(
    case_id: str, body: str, key: str, *fragments: str, top: str = "", text: str | None = None
):
    """One row: the TOML (``top`` before the header, ``body`` after it; ``text`` replaces both),
    the dotted key the message must name (``events[N]`` is the first event the file adds) and
    further fragments it must contain."""
    return pytest.param(
        dict(body=body, top=top, text=text, key=key, fragments=fragments), id=case_id
    )


CASES = [
    # structure
    case(
        "unknown-top-level-table",
        "[nonsense]\nx = 1\n",
        "nonsense",
        "unknown table",
        "technology",
        "firms",
    ),
    case(
        "top-level-table-not-a-table", "", "technology", "must be a table", top="technology = 5\n"
    ),
    case("scenario-not-a-table", "", "scenario", "must be a table", text='scenario = "baseline"\n'),
    case("unknown-scenario-key", "colour = 'red'\n", "scenario.colour", "unknown key", "quarters"),
    case(
        "unknown-technology-key",
        "[technology]\nno_such = 1.0\n",
        "technology.no_such",
        "unknown key",
        "chip_cost_decline",
    ),
    case(
        "unknown-firm-key",
        "[firms.nvidia]\nno_such = 1.0\n",
        "firms.nvidia.no_such",
        "unknown key",
        "list_price_usd",
    ),
    case(
        "unknown-program-key",
        "[programs.tpu]\nno_such = 1.0\n",
        "programs.tpu.no_such",
        "unknown key",
        "fee",
    ),
    case(
        "extends-unknown",
        "",
        "scenario.extends",
        "nosuch",
        "baseline",
        text='[scenario]\nextends = "nosuch"\n',
    ),
    case(
        "extends-not-a-name",
        "",
        "scenario.extends",
        "scenario name",
        text="[scenario]\nextends = 5\n",
    ),
    case("events-not-an-array", "", "events", "[[events]]", top="events = 5\n"),
    case("remove-firms-not-an-array", "", "remove_firms", "array", top='remove_firms = "tsmc"\n'),
    case(
        "remove-unknown-firm",
        "",
        "remove_firms",
        "'nosuch'",
        "tsmc",
        top='remove_firms = ["nosuch"]\n',
    ),
    # types
    case(
        "string-for-number",
        '[technology]\nchip_cost_decline = "fast"\n',
        "technology.chip_cost_decline",
        "must be a number",
        "'fast'",
    ),
    case(
        "bool-for-number",
        "[markets]\ntoken_choice_elasticity = true\n",
        "markets.token_choice_elasticity",
        "must be a number",
    ),
    case(
        "float-for-int",
        "[firms.tsmc]\nlead_quarters = 4.5\n",
        "firms.tsmc.lead_quarters",
        "must be an integer",
        "4.5",
    ),
    case(
        "number-for-bool",
        "[firms.broadcom]\nmerchant = 1\n",
        "firms.broadcom.merchant",
        "true or false",
    ),
    case("number-for-string", "[firms.nvidia]\nname = 5\n", "firms.nvidia.name", "string"),
    case(
        "nan", "[technology]\nchip_cost_decline = nan\n", "technology.chip_cost_decline", "finite"
    ),
    case(
        "infinity",
        "[firms.tsmc]\nopening_cash_usd = inf\n",
        "firms.tsmc.opening_cash_usd",
        "finite",
    ),
    case(
        "segment-prices-not-a-table",
        '[firms.cursor]\nsegments = "developer"\n',
        "firms.cursor.segments",
        "segment = price",
    ),
    case(
        "negative-segment-price",
        "[firms.cursor]\nsegments = { developer = -5.0 }\n",
        "firms.cursor.segments",
        ">= 0",
    ),
    # ranges
    case(
        "negative-chip-cost-decline",
        "[technology]\nchip_cost_decline = -0.1\n",
        "technology.chip_cost_decline",
        "out of range",
        allowed(Technology, "chip_cost_decline"),
    ),
    case(
        "growth-above-max",
        f"[firms.tsmc]\nmax_growth_per_year = {GROWTH_HI + 1.0}\n",
        "firms.tsmc.max_growth_per_year",
        "out of range",
        allowed(FOUNDRY, "max_growth_per_year"),
    ),
    case(
        "int-below-min",
        f"[firms.tsmc]\nlead_quarters = {LEAD_LO - 1}\n",
        "firms.tsmc.lead_quarters",
        "out of range",
        allowed(FOUNDRY, "lead_quarters"),
    ),
    case(
        "zero-quarters", "quarters = 0\n", "scenario.quarters", "out of range", "allowed 1 to 400"
    ),
    case("bad-start", 'start = "2025Q5"\n', "scenario.start", "2025Q1"),
    # names: roles, strategies, firms, segments, choices
    case(
        "unknown-role", '[firms.newco]\nrole = "wizard"\n', "firms.newco.role", "'wizard'", *ROLES
    ),
    case(
        "missing-role", '[firms.newco]\nname = "NewCo"\n', "firms.newco.role", "allowed", "foundry"
    ),
    case(
        "role-not-a-string", '[firms.newco]\nrole = ["lab"]\n', "firms.newco.role", "allowed", "lab"
    ),
    case(
        "unknown-strategy",
        '[firms.nvidia]\nstrategy = "psychic"\n',
        "firms.nvidia.strategy",
        "'psychic'",
        *strategy_names(),
    ),
    case(
        "unknown-choice",
        '[firms.cursor]\npricing = "barter"\n',
        "firms.cursor.pricing",
        "allowed",
        "flat",
        "usage",
    ),
    case(
        "unknown-program-owner",
        '[programs.tpu]\nowner = "nosuch"\n',
        "programs.tpu.owner",
        "unknown firm 'nosuch'",
        "google_cloud",
    ),
    case(
        "new-program-unknown-owner",
        '[programs.new]\nowner = "nosuch"\npartner = "broadcom"\n',
        "programs.new.owner",
        "unknown firm 'nosuch'",
    ),
    case(
        "program-partner-not-a-designer",
        '[programs.tpu]\npartner = "tsmc"\n',
        "programs.tpu.partner",
        "chip_designer",
    ),
    case(
        "program-bad-period", '[programs.tpu]\nstart = "2025-01"\n', "programs.tpu.start", "2025Q1"
    ),
    case(
        "unknown-revenue-share-firm",
        '[firms.openai]\nrevenue_share_to = "nosuch"\n',
        "firms.openai.revenue_share_to",
        "unknown firm 'nosuch'",
    ),
    case(
        "unknown-app-segment",
        "[firms.cursor]\nsegments = { nosuch = 50.0 }\n",
        "firms.cursor.segments.nosuch",
        "not a segment",
        "developer",
    ),
    case(
        "unknown-lab-app-segment",
        "[firms.openai]\napp_segments = { nosuch = 50.0 }\n",
        "firms.openai.app_segments.nosuch",
        "not a segment",
        "consumer",
    ),
    # events
    case(
        "event-unknown-firm",
        event(period="2026Q1", kind="set", firm="nosuch", key="x", value=1.0),
        "events[N].firm",
        "unknown firm 'nosuch'",
        "nvidia",
    ),
    case(
        "event-bad-period",
        event(period="2026Q5", kind="demand", value=1.0),
        "events[N].period",
        "'2026Q5'",
        "2025Q1",
    ),
    case(
        "event-period-words",
        event(period="Q1 2026", kind="demand", value=1.0),
        "events[N].period",
        "2025Q1",
    ),
    case("event-missing-period", event(kind="demand", value=1.0), "events[N].period", "2025Q1"),
    case(
        "event-unknown-kind",
        event(period="2026Q1", kind="explode"),
        "events[N].kind",
        "'explode'",
        "sentiment",
        "set",
        "launch_app",
        "demand",
    ),
    case(
        "event-unknown-key",
        event(period="2026Q1", kind="demand", value=1.0, colour="red"),
        "events[N].colour",
        "unknown key",
        "period",
    ),
    case(
        "event-set-unknown-parameter",
        event(period="2026Q1", kind="set", firm="nvidia", key="no_such", value=1.0),
        "events[N].key",
        "'no_such'",
        "list_price_usd",
    ),
    case(
        "event-set-value-out-of-range",
        event(
            period="2026Q1",
            kind="set",
            firm="tsmc",
            key="max_growth_per_year",
            value=GROWTH_HI + 1.0,
        ),
        "events[N].value",
        "out of range",
        allowed(FOUNDRY, "max_growth_per_year"),
    ),
    case(
        "event-value-not-a-number",
        event(period="2026Q1", kind="sentiment", value="high"),
        "events[N].value",
        "must be a number",
    ),
    case(
        "event-firm-not-a-string",
        '[[events]]\nperiod = "2026Q1"\nkind = "set"\nfirm = ["nvidia"]\n',
        "events[N].firm",
        "string",
    ),
    case(
        "event-launch-unknown-segment",
        event(period="2026Q1", kind="launch_app", firm="openai", segment="nosuch", value=10.0),
        "events[N].segment",
        "'nosuch'",
        "developer",
    ),
]


def write_case(tmp_path: Path, spec: dict) -> Path:
    path = tmp_path / "bad.toml"
    text = spec["text"] if spec["text"] is not None else spec["top"] + HEADER + spec["body"]
    path.write_text(text)
    return path


def expected_key(spec: dict) -> str:
    """``events[N]`` is the case's own first event: events are counted in the file that has
    them, not after the baseline's."""
    return spec["key"].replace("events[N]", "events[0]")


def test_the_cases_start_from_a_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "ok.toml"
    path.write_text(
        HEADER
        + "[technology]\nchip_cost_decline = 0.2\n"
        + event(period="2026Q1", kind="set", firm="nvidia", key="list_price_usd", value=20000.0)
    )
    loaded = load_scenario(path)
    assert loaded.technology.chip_cost_decline == 0.2
    assert loaded.events[-1].value == 20000.0


@pytest.mark.parametrize("spec", CASES)
def test_one_mistake_is_one_clear_error(tmp_path: Path, spec: dict) -> None:
    path = write_case(tmp_path, spec)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    key = expected_key(spec)
    assert message.startswith(f"{path}: {key}: "), message
    for fragment in spec["fragments"]:
        assert fragment in message, (fragment, message)
    assert "\n" not in message


@pytest.mark.parametrize("spec", CASES)
def test_the_cli_reports_it_in_one_line(tmp_path: Path, spec: dict) -> None:
    path = write_case(tmp_path, spec)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {path}: {expected_key(spec)}: ")
    assert "Traceback" not in result.stderr
    assert isinstance(result.exception, SystemExit)  # not an uncaught exception


def test_invalid_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(HEADER + "[technology\nchip_cost_decline = 0.2\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}: not valid TOML")
    assert "line 3" in str(info.value)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"error: {info.value}"]


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ScenarioError, match="no such file") as info:
        load_scenario(path)
    assert str(path) in str(info.value)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"error: {info.value}"]


def test_unknown_library_name_lists_the_library() -> None:
    with pytest.raises(ScenarioError, match=r"library: .*baseline"):
        load_scenario("no_such_scenario")


def test_circular_extends(tmp_path: Path) -> None:
    path = tmp_path / "loop.toml"
    path.write_text(f'[scenario]\nextends = "{path}"\n')
    with pytest.raises(ScenarioError, match=r"scenario\.extends: circular"):
        load_scenario(path)


# ---------------------------------------------------------------------------------------------
# overrides by dotted path
@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("firms.nvidia.no_such", "unknown parameter; allowed: "),
        ("firms.nosuch.x", "no firm 'nosuch'; known: "),
        ("technology.nope", "unknown parameter; allowed: "),
        ("programs.nosuch.fee", "no program 'nosuch'"),
        ("nonsense.x", "unknown table"),
        ("technology", "at least two parts"),
        ("firms.nvidia", "name a parameter"),
        ("technology.chip_cost_decline.x", "technology.chip_cost_decline is a value, not a table"),
        ("scenario.quarters.x", "scenario.quarters is a value, not a table"),
    ],
)
def test_overrides_reject_a_path_that_does_not_exist(path: str, fragment: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("baseline", overrides={path: 1.0})
    assert f": {path}: " in str(info.value)
    assert fragment in str(info.value)


def test_overrides_check_the_value_too() -> None:
    with pytest.raises(ScenarioError, match=r"technology\.chip_cost_decline: .*out of range"):
        load_scenario("baseline", overrides={"technology.chip_cost_decline": CHIP_HI + 1.0})
    with pytest.raises(ScenarioError, match=r"firms\.tsmc\.lead_quarters: must be an integer"):
        load_scenario("baseline", overrides={"firms.tsmc.lead_quarters": 4.5})


def test_overrides_accept_valid_paths() -> None:
    loaded = load_scenario(
        "baseline",
        overrides={
            "firms.nvidia.list_price_usd": 30000.0,
            "technology.chip_cost_decline": 0.2,
            "programs.tpu.fee": 0.5,
            "scenario.quarters": 8,
        },
    )
    assert loaded.firms["nvidia"].params.list_price_usd == 30000.0
    assert loaded.technology.chip_cost_decline == 0.2
    assert loaded.programs["tpu"].fee == 0.5
    assert loaded.quarters == 8


def test_apply_overrides_leaves_its_input_alone() -> None:
    raw, source = load_raw("baseline")
    before = raw["technology"].get("chip_cost_decline")
    out = apply_overrides(raw, {"technology.chip_cost_decline": 0.11}, source)
    assert out["technology"]["chip_cost_decline"] == 0.11
    assert raw["technology"].get("chip_cost_decline") == before
    with pytest.raises(ScenarioError, match=r"technology\.nope"):
        apply_overrides(raw, {"technology.nope": 1}, source)


def test_an_extending_file_is_named_by_itself_and_finds_its_parent_beside_it(tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "parent.toml").write_text(
        '[scenario]\nextends = "baseline"\ndescription = "parent"\n\n'
        "[firms.nvidia]\nlist_price_usd = 30000.0\n"
    )
    (folder / "child.toml").write_text('[scenario]\nextends = "parent.toml"\n')
    monkeypatch.chdir(tmp_path)  # the parent is not in the working directory
    child = load_scenario(folder / "child.toml")
    assert child.name == "child"
    assert child.description == ""  # descriptions and claims are not inherited
    assert child.raw["firms"]["nvidia"]["list_price_usd"] == 30000.0


@pytest.mark.parametrize(
    ("files", "start", "message"),
    [
        ({"self.toml": '[scenario]\nextends = "self.toml"\n'}, "self.toml", "circular"),
        (
            {
                "a.toml": '[scenario]\nextends = "b.toml"\n',
                "b.toml": '[scenario]\nextends = "a.toml"\n',
            },
            "a.toml",
            "circular",
        ),
        ({"bin.toml": b"\xff\xfe\x00"}, "bin.toml", "not UTF-8"),
        (
            {"new.toml": '[scenario]\nextends = "baseline"\n[firms.nobody]\nname = "x"\n'},
            "new.toml",
            "needs a role",
        ),
    ],
)
def test_more_bad_files_are_one_clear_error(tmp_path, files, start, message):
    for name, body in files.items():
        target = tmp_path / name
        if isinstance(body, bytes):
            target.write_bytes(body)
        else:
            target.write_text(body)
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / start)
    assert message in str(info.value) and start.split(".")[0] in str(info.value)


def test_the_written_scenario_reproduces_the_run(tmp_path):
    from runs import run

    first = run("neocloud-squeeze", quarters=5, seed=4)
    first.write(tmp_path / "one")
    again = run(tmp_path / "one" / "scenario.toml")
    again.write(tmp_path / "two")
    assert again.quarters == 5 and again.seed == 4
    assert len(again.scenario.claims) == len(first.scenario.claims) > 0
    for name in ("firms", "markets", "flows", "models", "events"):
        assert (tmp_path / "one" / f"{name}.parquet").read_bytes() == (
            tmp_path / "two" / f"{name}.parquet"
        ).read_bytes()
    assert first.manifest["scenario_sha256_16"] == again.manifest["scenario_sha256_16"]
