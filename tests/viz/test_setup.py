"""The app's settings map onto scenario data, and an opened file is checked as the CLI checks it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from runs.scenario import ScenarioError, load_scenario, validate
from viz.setup import (
    KNOBS,
    MAX_UPLOAD_BYTES,
    SWITCHES,
    default_setup,
    defaults,
    open_file,
    open_library,
    with_settings,
)


def test_an_untouched_setup_runs_the_scenario_as_the_cli_does() -> None:
    setup = default_setup()
    assert setup.overrides() == {}
    assert setup.build().digest() == load_scenario("baseline").digest()
    assert setup.changes() == []
    assert "as the scenario defines it" in setup.describe()


@pytest.mark.parametrize(
    ("setting", "value", "path"),
    [
        ("demand_growth", 1.5, "demand.multiplier"),
        ("packaging_growth", 2.5, "max_growth_per_year"),
        ("sentiment", 0.4, "sentiment"),
        ("seed", 7, "scenario.seed"),
    ],
)
def test_each_setting_changes_its_scenario_value(setting: str, value: float, path: str) -> None:
    setup = with_settings(default_setup(), **{setting: value})
    changed = setup.overrides()
    assert any(key.endswith(path) for key in changed), changed
    scenario = setup.build()
    match setting:
        case "demand_growth":
            assert scenario.demand.multiplier == value
        case "packaging_growth":
            foundries = [s for s in scenario.firms.values() if s.role == "foundry"]
            assert foundries and all(s.params.max_growth_per_year == value for s in foundries)
        case "sentiment":
            own = default_setup().opened.scenario
            investors = [f for f, s in own.firms.items() if s.role == "investors"]
            for firm in investors:
                before, after = own.firms[firm].params, scenario.firms[firm].params
                assert after.sentiment == value
                assert after.long_run_sentiment == pytest.approx(
                    before.long_run_sentiment * value / before.sentiment
                )
        case "seed":
            assert scenario.seed == value
            assert load_scenario_from_toml(scenario.to_toml()).seed == value


def load_scenario_from_toml(text: str):
    import tomllib

    return validate(tomllib.loads(text), "scenario.toml")


def test_switches_drop_programmes_and_launches_and_nothing_else() -> None:
    base = default_setup()
    own = base.opened.scenario
    assert own.programs, "the baseline has custom-chip programmes"
    assert any(e.kind == "launch_app" for e in own.events), "the baseline launches lab apps"
    scenario = with_settings(base, custom_silicon=False, lab_apps=False).build()
    assert scenario.programs == {}
    assert [e for e in scenario.events if e.kind == "launch_app"] == []
    assert len(scenario.events) == len([e for e in own.events if e.kind != "launch_app"])
    assert scenario.firms.keys() == own.firms.keys()
    words = with_settings(base, custom_silicon=False, lab_apps=False).changes()
    assert words == ["no custom silicon", "labs do not launch apps"]


def test_settings_are_snapped_into_their_ranges() -> None:
    base = default_setup()
    for key, knob in KNOBS.items():
        assert getattr(with_settings(base, **{key: knob.hi * 10}), key) == knob.hi
        assert getattr(with_settings(base, **{key: -5}), key) == knob.lo
        with_settings(base, **{key: knob.hi}).build()  # the whole range validates
    assert with_settings(base, seed=-3).seed == 0
    with pytest.raises(KeyError, match="unknown setting"):
        with_settings(base, speed=2)
    assert set(SWITCHES) == {"custom_silicon", "lab_apps"}


def test_a_scenario_without_what_a_setting_acts_on_disables_it(tmp_path: Path) -> None:
    programs = list(load_scenario("baseline").programs)
    text = (
        f'remove_programs = {programs!r}\n[scenario]\nextends = "baseline"\nname = "bare"\n'
    ).replace("'", '"')
    opened = open_file("bare.toml", text.encode())
    available = defaults(opened).available()
    assert available["custom_silicon"] is False
    assert available["demand_growth"] is True


def test_opening_a_good_file(tmp_path: Path) -> None:
    text = b'[scenario]\nextends = "baseline"\nname = "dear-chips"\n\n[demand]\nmultiplier = 1.3\n'
    opened = open_file("dear.toml", text)
    assert (opened.name, opened.from_file, opened.scenario.name) == (
        "dear.toml",
        True,
        "dear-chips",
    )
    setup = defaults(opened)
    assert setup.demand_growth == 1.3
    assert setup.build().digest() == opened.scenario.digest()


BAD_FILES = {
    "unknown key": '[scenario]\nextends = "baseline"\n\n[firms.nvidia]\nfoo = 1\n',
    "not toml": "[scenario\nname = 1\n",
    "out of range": '[scenario]\nextends = "baseline"\n\n[demand]\nmultiplier = 99.0\n',
    "wrong type": '[scenario]\nextends = "baseline"\n\n[markets]\nchoice_set = "half"\n',
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_gives_the_clis_message(tmp_path: Path, case: str) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(BAD_FILES[case])
    cli = CliRunner().invoke(app, ["validate", str(path)])
    assert cli.exit_code == 2
    expected = cli.stderr.strip().removeprefix("error: ").replace(str(path), "mine.toml")
    with pytest.raises(ScenarioError) as raised:
        open_file("mine.toml", BAD_FILES[case].encode())
    assert " ".join(str(raised.value).split()) == expected


SECRET = '[scenario]\nname = "hunter2"\n[firms.x]\nrole = "lab"\npassword = "hunter2"\n'


@pytest.mark.parametrize(
    "extends",
    [
        "ABSOLUTE",  # a scenario-shaped file elsewhere on the server
        "SECRET",  # any other file: its keys and values must not show
        "../../secret.toml",
        "../secret.toml",
        "secret.toml",
        "/etc/passwd",
        "/no/such/file.toml",
        "no_such_scenario",
    ],
)
def test_an_opened_file_may_extend_only_the_library(tmp_path: Path, extends: str) -> None:
    """The server reads no file a user's scenario names: any extends but a library name is the
    same one line, whether or not the file exists and whatever it holds."""
    good = tmp_path / "server.toml"
    good.write_text('[scenario]\nextends = "baseline"\nname = "server-side"\n')
    secret = tmp_path / "secret.toml"
    secret.write_text(SECRET)
    target = {"ABSOLUTE": str(good), "SECRET": str(secret)}.get(extends, extends)
    text = f"[scenario]\nextends = {json.dumps(target)}\n"
    with pytest.raises(ScenarioError) as raised:
        open_file("mine.toml", text)
    message = str(raised.value)
    assert message.startswith("mine.toml: scenario.extends: "), message
    assert "is not a scenario of the library; a file opened here may extend only these: " in (
        message
    )
    assert "hunter2" not in message and "server-side" not in message
    assert "no such" not in message and "password" not in message
    shown = message.split(": ", 2)[2]
    for other in ("../../secret.toml", "/etc/passwd", str(good)):
        if other != target:
            assert other not in shown


def test_an_opened_file_may_extend_a_library_scenario_by_name() -> None:
    opened = open_file("mine.toml", '[scenario]\nextends = "theory/monopoly"\n')
    assert opened.scenario.name == "mine"


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("..", "not a file name"),
        (".", "not a file name"),
        ("a" * 252 + ".toml", "at most 255 bytes"),
        ("é" * 130 + ".toml", "at most 255 bytes"),
        ("bad\x00name.toml", "control characters"),
        ("bad\nname.toml", "control characters"),
    ],
)
def test_an_odd_file_name_is_one_clear_message(name: str, fragment: str) -> None:
    with pytest.raises(ScenarioError) as raised:
        open_file(name, '[scenario]\nextends = "baseline"\n')
    message = str(raised.value)
    assert fragment in message and "\n" not in message and "\x00" not in message, message
    assert len(message) < 500


def test_a_file_name_with_folders_is_read_as_its_last_part() -> None:
    opened = open_file("../../etc/dear.toml", '[scenario]\nextends = "baseline"\n')
    assert opened.name == "dear.toml"


@pytest.mark.parametrize("kind", [str, bytes])
def test_the_server_refuses_a_file_over_the_size_limit(kind: type) -> None:
    """The page refuses a large file, but the server must not rely on it."""
    text = '[scenario]\nextends = "baseline"\n#' + "x" * MAX_UPLOAD_BYTES + "\n"
    with pytest.raises(ScenarioError) as raised:
        open_file("big.toml", text if kind is str else text.encode())
    assert str(raised.value) == "big.toml: larger than 1 MB: not a scenario file"


def test_library_scenarios_open() -> None:
    opened = open_library("baseline")
    assert opened.from_file is False
    assert defaults(opened) == default_setup("baseline")
    assert default_setup("no_such_scenario").opened.name  # falls back to the library
