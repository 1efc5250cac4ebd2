"""Lessons: a scenario to open, what to change, what to watch and questions for students.

Lessons are data (``viz/lessons.toml``). The app's lesson picker opens one: it sets the scenario,
the settings, the firm in the firm view and the market in the quarter inspector. The teaching
guide ``docs/teaching.md`` is written from the same file:

    ./dev python -m viz.lessons > docs/teaching.md
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any

from viz.setup import KNOBS, SWITCHES, Setup, defaults, open_library, with_settings

LESSONS_FILE = Path(__file__).with_name("lessons.toml")
MARKET_WORDS = {
    "foundry": "foundry slots",
    "chips": "chips",
    "custom": "custom chips",
    "compute": "compute",
    "tokens": "API tokens",
    "plans": "plans",
}
SETTINGS = ("seed", *KNOBS, *SWITCHES)


class LessonError(ValueError):
    """A lesson file that cannot be used; the message names the lesson and the key."""


@dataclass(frozen=True, slots=True)
class Lesson:
    id: str
    title: str
    scenario: str
    summary: str
    change: str
    firm: str
    market: str
    watch: tuple[str, ...]
    questions: tuple[str, ...]
    settings: tuple[tuple[str, Any], ...] = ()

    def setup(self) -> Setup:
        """The setup the lesson opens: its scenario with its settings applied."""
        base = defaults(open_library(self.scenario))
        return with_settings(base, lesson=self.id, **dict(self.settings))

    def what_changes(self) -> str:
        """The lesson's settings in plain words (against the scenario's own)."""
        changes = self.setup().changes()
        return ", ".join(changes) if changes else "nothing: the scenario as it is"


def _strings(lesson_id: str, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise LessonError(f"lesson {lesson_id}: {key} must be a non-empty list of strings")
    return tuple(value)


def parse(items: Any) -> tuple[Lesson, ...]:
    """Check the ``[[lessons]]`` tables and build the lessons (raises :class:`LessonError`)."""
    if not isinstance(items, list) or not items:
        raise LessonError("lessons: must be a non-empty array of tables ([[lessons]])")
    names = [f.name for f in fields(Lesson)]
    out: list[Lesson] = []
    for n, item in enumerate(items):
        lesson_id = item.get("id", f"#{n + 1}") if isinstance(item, dict) else f"#{n + 1}"
        if not isinstance(item, dict):
            raise LessonError(f"lesson {lesson_id}: must be a table")
        unknown = [k for k in item if k not in names]
        if unknown:
            raise LessonError(
                f"lesson {lesson_id}: unknown key {unknown[0]!r}; allowed: " + ", ".join(names)
            )
        text = {
            k: item.get(k, "")
            for k in ("id", "title", "scenario", "summary", "change", "firm", "market")
        }
        for key in ("id", "title", "scenario", "summary", "change"):
            if not isinstance(text[key], str) or not text[key].strip():
                raise LessonError(f"lesson {lesson_id}: {key} must be a non-empty string")
        settings = item.get("settings", {})
        if not isinstance(settings, dict):
            raise LessonError(f"lesson {lesson_id}: settings must be a table")
        for key in settings:
            if key not in SETTINGS:
                raise LessonError(
                    f"lesson {lesson_id}: settings.{key}: unknown setting; "
                    "allowed: " + ", ".join(SETTINGS)
                )
        out.append(
            Lesson(
                **{k: " ".join(str(v).split()) for k, v in text.items()},
                watch=_strings(lesson_id, "watch", item.get("watch")),
                questions=_strings(lesson_id, "questions", item.get("questions")),
                settings=tuple(settings.items()),
            )
        )
    ids = [lesson.id for lesson in out]
    for lesson_id in ids:
        if ids.count(lesson_id) > 1:
            raise LessonError(f"lesson {lesson_id}: the id is used twice")
    return tuple(out)


@cache
def lessons(path: Path = LESSONS_FILE) -> tuple[Lesson, ...]:
    """The lessons of ``path`` (default: the app's own), in file order."""
    with open(path, "rb") as fh:
        return parse(tomllib.load(fh).get("lessons"))


def lesson(lesson_id: str) -> Lesson | None:
    return next((x for x in lessons() if x.id == lesson_id), None)


# ---------------------------------------------------------------------------------------------
INTRO = """\
# Teaching with the live app

The live app runs the value chain one quarter at a time in the browser. Students watch money
flow between firms, change what firms can do, and see margins move. Each lesson below opens a
scenario with a few settings changed, says what to change next, what to watch, and asks
questions. The lessons are experiments: the answers come from running them, not from this page.

## Starting the app

```bash
./dev margins viz                 # prints the address, e.g. http://127.0.0.1:8765
./dev margins viz --port 8800     # another port
```

Open the address in a browser. In the sidebar:

- **Lesson** opens a lesson: its scenario and settings, the firm in the firm view and the market in
  the quarter inspector. A lesson also opens straight from its address,
  `http://127.0.0.1:8765/?lesson=ID` (the IDs are listed below).
- **Run**: ▶ plays quarter after quarter, ❚❚ pauses, **Step** runs one quarter, **Reset** starts
  again from the first quarter with the settings shown. **Speed** sets the pause between quarters.
- **Settings**: the seed, demand growth, funding sentiment, packaging-capacity growth, custom
  silicon and whether labs launch their own apps. Changes apply when you press **Reset**; until
  then the panel says what is waiting. **Scenario's own settings** puts them back.
- **Scenario**: another scenario of the library, or a TOML file of your own (checked like
  `margins validate`; a bad file shows the error and changes nothing).
- **Download**: the run so far (the same Parquet files as `margins run`, zipped) and its scenario
  as TOML, to analyse in a notebook or to run again with `margins run`.

The views, top to bottom: the value-chain network (who paid whom this quarter), margins by layer,
the profit pool, the markets, the quarter inspector (supply and demand of one market in one
quarter, and who was served), a firm's income statement, and the event log.
"""


def teaching_markdown(items: tuple[Lesson, ...] | None = None) -> str:
    """The teaching guide, ``docs/teaching.md``, written from the lessons."""
    items = lessons() if items is None else items
    parts = [INTRO, "## Lessons\n"]
    for n, item in enumerate(items, start=1):
        parts.append(f"### {n}. {item.title}\n")
        parts.append(
            f"ID `{item.id}` · scenario `{item.scenario}` · settings: {item.what_changes()}.\n"
        )
        parts.append(f"{item.summary}\n")
        firms = item.setup().opened.scenario.firms
        firm = firms[item.firm].name if item.firm in firms else item.firm
        market, *book = item.market.split("/")
        where = ", ".join(
            [MARKET_WORDS.get(market, market), *(firms[p].name if p in firms else p for p in book)]
        )
        focus = [
            f"the firm view shows **{firm}**" if item.firm else "",
            f"the inspector shows **{where}**" if item.market else "",
        ]
        parts.append(
            "**Open**: choose *"
            + item.title
            + "* in the Lesson menu"
            + (" (" + " and ".join(f for f in focus if f) + ")" if any(focus) else "")
            + ", or go to `/?lesson="
            + item.id
            + "`.\n"
        )
        parts.append(f"**Change**: {item.change}\n")
        parts.append("**Watch**:\n\n" + "\n".join(f"- {w}" for w in item.watch) + "\n")
        parts.append(
            "**Questions**:\n\n"
            + "\n".join(f"{k}. {q}" for k, q in enumerate(item.questions, start=1))
            + "\n"
        )
    return "\n".join(parts)


if __name__ == "__main__":
    print(teaching_markdown(), end="")
