"""Bad input the fuzzing of the CLI found: each is one short ``error:`` line, exit status 2,
naming the file (and the index) where the fault is — never a traceback, never a run that
silently ignores what the file says."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from runs.scenario import ScenarioError, load_scenario

HEADER = '[scenario]\nextends = "baseline"\n'


def validate(path: Path):
    return CliRunner().invoke(app, ["validate", str(path)])


def one_line(result) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize("start", ["٢٠٢٥Q1", "2²25Q1", "２０２５Q1", "0000Q1", "9999Q3", "1899Q4"])
def test_a_period_is_four_ascii_digits_within_the_calendar(tmp_path: Path, start: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(HEADER + f'start = "{start}"\n')
    line = one_line(validate(path))
    assert f"{path}: scenario.start: " in line and "years 1900 to 2200" in line


@pytest.mark.parametrize("depth", [40, 900, 5000])
def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(HEADER + "[demand]\nx = " + "[" * depth + "]" * depth + "\n")
    assert "nested more than 12 deep" in one_line(validate(path))


def test_deep_tables_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(HEADER + "[firms.nvidia." + ".".join(["t"] * 30) + "]\nx = 1\n")
    assert "nested more than 12 deep" in one_line(validate(path))


EVENT = '[[events]]\nperiod = "{period}"\nkind = "sentiment"\nvalue = 0.5\n'


@pytest.mark.parametrize(
    ("period", "words"),
    [("2024Q4", "before the run's first quarter 2025Q1"), ("2035Q1", "after the run's last")],
)
def test_an_event_outside_the_run_is_refused(tmp_path: Path, period: str, words: str) -> None:
    path = tmp_path / "e.toml"
    path.write_text(HEADER + EVENT.format(period="2026Q1") + EVENT.format(period=period))
    line = one_line(validate(path))
    # named in the file that has it, counted among its own events (the baseline's come first)
    assert f"{path}: events[1].period: {period} is " in line and words in line


def test_a_shorter_run_may_inherit_later_events(tmp_path: Path) -> None:
    path = tmp_path / "short.toml"
    path.write_text(HEADER + "quarters = 2\n")
    assert load_scenario(path).quarters == 2


PROGRAM = '[programs.chip]\nowner = "aws"\npartner = "marvell"\nstart = "{start}"\nend = "{end}"\n'


@pytest.mark.parametrize(
    ("start", "end", "key", "words"),
    [
        ("2028Q1", "2027Q1", "end", "not after the programme's start 2028Q1"),
        ("2028Q1", "2028Q1", "end", "not after the programme's start"),
        ("2020Q1", "2024Q1", "end", "not after the run's first quarter 2025Q1"),
        ("2040Q1", "2041Q1", "start", "after the run's last quarter"),
    ],
)
def test_a_programme_that_would_never_run_is_refused(
    tmp_path: Path, start: str, end: str, key: str, words: str
) -> None:
    path = tmp_path / "prog.toml"
    path.write_text(HEADER + PROGRAM.format(start=start, end=end))
    line = one_line(validate(path))
    assert f"programs.chip.{key}: " in line and words in line


@pytest.mark.parametrize("price", [1e300, 1e7])
def test_segment_prices_have_a_ceiling(tmp_path: Path, price: float) -> None:
    path = tmp_path / "seg.toml"
    path.write_text(HEADER + f"[firms.openai.app_segments]\ndeveloper = {price!r}\n")
    line = one_line(validate(path))
    assert "firms.openai.app_segments" in line and "<= 1e+06" in line


def test_every_numeric_key_has_an_upper_bound() -> None:
    from agents.registry import ROLES
    from agents.technology import Technology
    from agents.world import Demand, Event, FirmSpec, Markets, Program
    from runs.scenario.fields import keys
    from runs.scenario.schema import Header

    classes = [Technology, Markets, Demand, Program, Event, FirmSpec, Header]
    for cls in [*classes, *(role.Params for role in ROLES.values())]:
        for key in keys(cls).values():
            numeric = key.type in (int, float) or str(key.type).startswith("dict")
            if numeric:
                assert key.hi is not None, (cls.__name__, key.name)


def test_a_huge_key_is_a_short_message(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    path.write_text(HEADER + f"[firms.nvidia]\n{'k' * 1_000_000} = 1\n")
    line = one_line(validate(path))
    assert len(line) < 1500 and "unknown key" in line and "…" in line


def test_a_huge_value_is_a_short_message(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    path.write_text(HEADER + f'[firms.nvidia]\nrole = "{"r" * 1_000_000}"\n')
    line = one_line(validate(path))
    assert len(line) < 1000 and "is not a role; allowed: " in line


def test_control_characters_are_escaped(tmp_path: Path) -> None:
    path = tmp_path / "esc.toml"
    path.write_text(HEADER + '[firms."\\u001b[2J\\u001b[31mevil"]\nrole = "nosuch"\n')
    line = one_line(validate(path))
    assert "\x1b" not in line and "\\x1b[2J" in line


def test_control_characters_in_a_file_name_are_escaped(tmp_path: Path) -> None:
    path = tmp_path / "bad\x1b[31m.toml"
    path.write_text("[scenario\n")
    line = one_line(validate(path))
    assert "\x1b" not in line and "\\x1b[31m" in line


def chain(tmp_path: Path, parent: str, child: str) -> tuple[Path, Path]:
    (tmp_path / "parent.toml").write_text(HEADER + parent)
    (tmp_path / "child.toml").write_text('[scenario]\nextends = "parent.toml"\n' + child)
    return tmp_path / "parent.toml", tmp_path / "child.toml"


def test_a_fault_in_the_extending_file_names_it_and_its_own_event_index(tmp_path: Path) -> None:
    event = '[[events]]\nperiod = "2026Q1"\nkind = "sentiment"\nvalue = {value}\n'
    _, child = chain(tmp_path, event.format(value=0.5), event.format(value=-3.0))
    with pytest.raises(ScenarioError) as raised:
        load_scenario(child)
    assert raised.value.source == str(child)
    assert raised.value.key == "events[0].value"


def test_a_fault_in_the_file_extended_names_that_file(tmp_path: Path) -> None:
    parent, child = chain(
        tmp_path,
        "[firms.nvidia]\nlist_price_usd = -5.0\n",
        "[demand]\nmultiplier = 1.1\n",
    )
    with pytest.raises(ScenarioError) as raised:
        load_scenario(child)
    assert (raised.value.source, raised.value.key) == (str(parent), "firms.nvidia.list_price_usd")


def test_a_value_the_extending_file_sets_names_it_not_the_parent(tmp_path: Path) -> None:
    _, child = chain(
        tmp_path,
        "[firms.nvidia]\nlist_price_usd = 30000.0\n",
        "[firms.nvidia]\nlist_price_usd = -5.0\n",
    )
    with pytest.raises(ScenarioError) as raised:
        load_scenario(child)
    assert (raised.value.source, raised.value.key) == (str(child), "firms.nvidia.list_price_usd")


def test_an_event_of_the_extended_file_is_counted_in_it(tmp_path: Path) -> None:
    event = '[[events]]\nperiod = "2026Q1"\nkind = "{kind}"\nvalue = 0.5\n'
    parent, child = chain(
        tmp_path,
        event.format(kind="sentiment") + event.format(kind="no_such_kind"),
        event.format(kind="sentiment"),
    )
    with pytest.raises(ScenarioError) as raised:
        load_scenario(child)
    assert (raised.value.source, raised.value.key) == (str(parent), "events[1].kind")
