"""Lessons are data: each opens, validates and runs, and the teaching guide is written from them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from agents.base import Market
from viz.lessons import LessonError, lessons, parse, teaching_markdown, watch_problems
from viz.live import LiveEconomy
from viz.views import STATEMENT

ROOT = Path(__file__).resolve().parents[2]
IDS = [item.id for item in lessons()]


def test_there_are_at_least_four_lessons() -> None:
    assert len(IDS) >= 4
    assert len(set(IDS)) == len(IDS)


@pytest.mark.parametrize("lesson_id", IDS)
def test_each_lesson_opens_validates_and_runs(lesson_id: str) -> None:
    item = next(x for x in lessons() if x.id == lesson_id)
    setup = item.setup()
    assert setup.lesson == lesson_id
    assert setup.changes(), "a lesson changes something, or it would be the scenario itself"
    scenario = setup.build()  # validated like any scenario
    producing = {
        f
        for f, s in scenario.firms.items()
        if s.role not in ("segment", "chip_buyers", "investors")
    }
    assert item.firm in producing, f"{item.firm} is not a firm with an income statement"
    assert item.market.split("/")[0] in {m.value for m in Market}
    assert item.watch and item.questions and item.summary and item.change
    model = LiveEconomy(setup)
    model.step()
    assert model.snapshot.quarters == 1


def test_the_teaching_guide_is_written_from_the_lessons() -> None:
    guide = (ROOT / "docs" / "teaching.md").read_text()
    assert guide == teaching_markdown(), (
        "docs/teaching.md is out of date: ./dev python -m viz.lessons > docs/teaching.md"
    )
    for item in lessons():
        assert item.title in guide and f"?lesson={item.id}" in guide
        for question in item.questions:
            assert question in guide


GOOD = {
    "id": "x",
    "title": "X",
    "scenario": "baseline",
    "summary": "s",
    "change": "c",
    "watch": ["w"],
    "questions": ["q"],
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"settings": {"speed": 2}}, "settings.speed: unknown setting"),
        ({"watch": []}, "watch must be a non-empty list"),
        ({"title": ""}, "title must be a non-empty string"),
    ],
)
def test_bad_lessons_are_named(change: dict, message: str) -> None:
    with pytest.raises(LessonError, match=message):
        parse([{**GOOD, **change}])


def test_lesson_ids_are_unique() -> None:
    with pytest.raises(LessonError, match="used twice"):
        parse([GOOD, GOOD])


@pytest.mark.parametrize("lesson_id", IDS)
def test_each_lesson_asks_only_for_what_a_view_shows(lesson_id: str) -> None:
    """Every "watch" item names a view of the page, a focus that exists (a firm of the
    scenario, a market, a margin measure) and only rows that view draws."""
    item = next(x for x in lessons() if x.id == lesson_id)
    assert watch_problems(item, [label for _, label in STATEMENT]) == []


def test_a_lesson_asking_for_what_no_view_shows_is_caught() -> None:
    item = next(x for x in lessons() if x.id == "capacity-floods-in")
    bad = replace(
        item,
        watch=(
            "Markets: the compute price, and the foundry's volume against its unmet demand.",
            "Firm view, CoreWeave: revenue against depreciation and interest.",
            "Firm view, Oracle: revenue.",
            "The dashboard: everything.",
        ),
    )
    without_depreciation = [label for _, label in STATEMENT if "depreciation" not in label]
    problems = watch_problems(bad, without_depreciation)
    assert any("unmet demand" in p for p in problems)
    assert any("of which depreciation" in p for p in problems)
    assert any("no firm 'Oracle'" in p for p in problems)
    assert any("names no view" in p for p in problems)
