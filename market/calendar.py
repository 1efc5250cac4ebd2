"""The calendar: quarters, periods and windows, with one grammar for all of them.

A run counts quarters from 0 (its ``start``, e.g. ``2025Q1``). A *period* is a calendar quarter
written ``YYYYQn``; periods lie within :data:`FIRST_YEAR`..:data:`LAST_YEAR`. A *window* is a span
of periods, written one of:

* ``all`` — every quarter of the run;
* a year, ``2026`` (2026Q1–2026Q4), or a quarter, ``2026Q3``;
* a range of either, ``2025-2027`` or ``2025Q1-2026Q4`` (ends included; they may mix).

Every part of the project that reads a window (claims, sweeps, comparisons, the CLI) parses it
here, so a window that one accepts the others accept too.

    >>> period_of("2025Q1", 5)
    '2026Q2'
    >>> quarter_of("2025Q1", "2026Q2")
    5
    >>> Window.parse("2026-2027").bounds("2025Q1")
    (4, 11)
"""

from __future__ import annotations

from dataclasses import dataclass

#: the earliest and latest calendar years a period may name
FIRST_YEAR = 1900
LAST_YEAR = 2200
#: most quarters one run may have, and the largest seed (a non-negative int64)
MAX_QUARTERS = 400
MAX_SEED = 2**63 - 1
#: the largest scale factor of a run (``--scale``, runs.scenario.scale): 1,000 clones of each
#: app, host and segment, about 8,000 firms
MAX_SCALE = 1000
PERIOD_HELP = f"a period like 2025Q1 (years {FIRST_YEAR} to {LAST_YEAR})"
WINDOW_HELP = (
    "a window: all, a year (2026), a quarter (2026Q3) or a range (2025-2027, 2025Q1-2026Q4)"
)


def is_period(text: object) -> bool:
    """True for a string ``YYYYQn`` (ASCII digits, the year written with four) with a year in
    range and ``n`` in 1..4."""
    return (
        isinstance(text, str)
        and len(text) == 6
        and text.isascii()
        and text[:4].isdigit()
        and text[4] == "Q"
        and text[5] in "1234"
        and FIRST_YEAR <= int(text[:4]) <= LAST_YEAR
    )


def period_index(period: str) -> int:
    """Quarters since year 0: ``2025Q1`` → 8100. Orders periods and measures spans."""
    return int(period[:4]) * 4 + int(period[5]) - 1


def period_label(index: int) -> str:
    """The period of a :func:`period_index`."""
    return f"{index // 4:04d}Q{index % 4 + 1}"


def period_of(start: str, quarter: int) -> str:
    """The period of quarter ``quarter`` of a run that starts at ``start``."""
    return period_label(period_index(start) + quarter)


def quarter_of(start: str, period: str) -> int:
    """The quarter (0-based, may be negative) of ``period`` in a run that starts at ``start``."""
    return period_index(period) - period_index(start)


def last_period(start: str, quarters: int) -> str:
    """The last period of a run of ``quarters`` quarters from ``start``."""
    return period_of(start, quarters - 1)


def year_of(period: str) -> int:
    return int(period[:4])


@dataclass(frozen=True, slots=True)
class Window:
    """Periods ``first``..``last`` inclusive, or the whole run (``first is None``)."""

    label: str
    first: str | None = None
    last: str | None = None

    @classmethod
    def parse(cls, text: str) -> Window:
        """Read a window in the grammar above. Raises ``ValueError`` naming what is allowed."""
        if not isinstance(text, str):
            raise ValueError(f"{text!r} is not {WINDOW_HELP}")
        text = text.strip()
        if text == "all":
            return cls("all")
        first, _, last = text.partition("-")
        last = last or first
        bounds = []
        for n, part in enumerate((first, last)):
            if (
                len(part) == 4
                and part.isascii()
                and part.isdigit()
                and FIRST_YEAR <= int(part) <= LAST_YEAR
            ):
                bounds.append(f"{part}Q1" if n == 0 else f"{part}Q4")
            elif is_period(part):
                bounds.append(part)
            else:
                raise ValueError(f"{text!r} is not {WINDOW_HELP}")
        if period_index(bounds[0]) > period_index(bounds[1]):
            raise ValueError(f"{text!r} is an empty window: it ends before it starts")
        return cls(text, bounds[0], bounds[1])

    @property
    def whole_run(self) -> bool:
        return self.first is None or self.last is None

    def bounds(self, start: str, quarters: int | None = None) -> tuple[int, int]:
        """First and last quarter (0-based, inclusive) of the window in a run from ``start``;
        ``all`` needs the run's length."""
        if self.first is None or self.last is None:
            if quarters is None:
                raise ValueError("the window 'all' needs the run's length")
            return 0, quarters - 1
        return quarter_of(start, self.first), quarter_of(start, self.last)

    def contains(self, period: str) -> bool:
        if self.first is None or self.last is None:
            return True
        return period_index(self.first) <= period_index(period) <= period_index(self.last)

    def overlaps(self, first: str, last: str) -> bool:
        if self.first is None or self.last is None:
            return True
        return period_index(self.first) <= period_index(last) and period_index(
            first
        ) <= period_index(self.last)

    def within(self, first: str, last: str) -> bool:
        """True when the whole window lies inside ``first``..``last``."""
        if self.first is None or self.last is None:
            return True
        return period_index(first) <= period_index(self.first) and period_index(
            self.last
        ) <= period_index(last)


ALL = Window("all")
