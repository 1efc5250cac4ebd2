"""Lessons are data: each opens, validates and runs, and the teaching guide is written from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.base import Market
from viz.lessons import LessonError, lessons, parse, teaching_markdown
from viz.live import LiveEconomy

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
