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
#: the views a lesson's "watch" item may name, as "View[, focus]: what to watch", and what the
#: focus may be: a measure of the margins, a market, or a firm of the lesson's scenario
VIEWS: dict[str, str] = {
    "Network": "",
    "Margins by layer": "measure",
    "Profit pool": "",
    "Markets": "market",
    "Quarter inspector": "market",
    "Firm view": "firm",
    "Event log": "",
}
#: things no view shows, that a lesson must not ask students to read off a view
NOT_SHOWN = ("unmet demand", "utilisation", "utilization", "market share", "debt outstanding")
#: income-statement words a lesson may ask about in the firm view, and the row that shows each
STATEMENT_WORDS = {
    "revenue": "Revenue",
    "cost of revenue": "Cost of revenue",
    "depreciation": "of which depreciation",
    "gross profit": "Gross profit",
    "gross margin": "Gross margin",
    "r&d": "R&D (incl. training)",
    "sg&a": "SG&A",
    "operating income": "Operating income",
    "operating margin": "Operating margin",
    "interest": "Interest",
    "capex": "Capex",
    "funding": "Funding received",
    "cash": "Cash at quarter end",
}


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


def watch_problems(item: Lesson, statement_rows: list[str]) -> list[str]:
    """What in a lesson's "watch" items no view shows (empty when every item can be watched).

    Each item reads "View[, focus]: what" with a view of :data:`VIEWS`; its focus must exist
    (a margin measure, a market, a firm of the scenario by name); it may not ask for a thing of
    :data:`NOT_SHOWN`; the income-statement words of a firm-view item must be rows of
    ``statement_rows`` (the firm view's table).
    """
    firms = {spec.name: f for f, spec in item.setup().opened.scenario.firms.items()}
    problems = []
    for text in item.watch:
        head, colon, what = text.partition(":")
        view, _, focus = (part.strip() for part in head.partition(","))
        if not colon or view not in VIEWS:
            problems.append(f"{text!r}: names no view (one of: {', '.join(VIEWS)})")
            continue
        kind = VIEWS[view]
        if focus and kind == "measure" and focus not in ("gross", "operating"):
            problems.append(f"{text!r}: the margins view shows gross or operating margins")
        if focus and kind == "market" and focus.split()[0] not in MARKET_WORDS:
            problems.append(f"{text!r}: no market {focus!r} ({', '.join(MARKET_WORDS)})")
        if focus and kind == "firm" and focus not in firms:
            problems.append(f"{text!r}: no firm {focus!r} in scenario {item.scenario}")
        if focus and not kind:
            problems.append(f"{text!r}: the {view} view has nothing to focus on")
        lowered = what.lower()
        problems += [f"{text!r}: no view shows {word!r}" for word in NOT_SHOWN if word in lowered]
        if kind == "firm":
            problems += [
                f"{text!r}: the firm view has no row {row!r}"
                for word, row in STATEMENT_WORDS.items()
                if word in lowered and row not in statement_rows
            ]
    return problems


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
- **Run**: ▶ plays quarter after quarter, ❚❚ pauses (at the quarter on the screen), **Step** runs
  one quarter, **Reset** starts again from the first quarter with the settings shown. **Speed**
  sets the pause between quarters. Reset keeps the run it ends: the margins, the profit pool,
  the markets and the firm view draw it thinner (the profit pool as a second row) under the new
  run, so two runs can be compared; **Forget the previous run** drops it.
- **Settings**: the seed, demand growth, funding sentiment, packaging-capacity growth, custom
  silicon and whether labs launch their own apps. Changes apply when you press **Reset**; until
  then the panel says what is waiting. **Scenario's own settings** puts them back.
- **Scenario**: another scenario of the library, or a TOML file of your own (checked like
  `margins validate`; a bad file shows the error and changes nothing).
- **Download**: the run so far (the same Parquet files as `margins run`, zipped) and its scenario
  as TOML, to analyse in a notebook or to run again with `margins run`.

The views, top to bottom: the value-chain **Network** (who paid whom this quarter, the chain left
to right), **Margins by layer** (quarterly, four-quarter rolling or yearly; click a layer in the
legend to hide it), the **Profit pool** (each layer's share of the industry's gross profit, as
`margins compare` reports it), the **Markets** (prices and volumes; tokens per M tokens of the
most-used model), the **Quarter inspector** (supply and demand of one market in one quarter, and
who was served), the **Firm view** (a firm's income statement) and the **Event log**. Every
chart downloads as PNG or SVG from the buttons under it.
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
