"""Any scenario file either runs with finite outputs or is one short ``error:`` line, exit 2.

Each example takes the baseline's tables and changes one thing — a value replaced by another of
any type (booleans, integers and floats at their extremes, NaN, infinities, empty, huge and
non-ASCII strings, control characters, lists, tables nested deep), a key added or a key removed —
writes the file and runs ``margins run FILE`` on it for a few quarters. The run must either
finish with finite figures (exit 0) or refuse the file with one short line on stderr (exit 2):
never a traceback, never a multi-line message, never raw control characters.

Run as a script (``python tests/properties/test_scenario_fuzz.py N``) it tries N cases and
prints how many ended each way, without stopping at the first crash.
"""

from __future__ import annotations

import math
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli.main import app
from runs.scenario import load_raw

QUARTERS = 3
#: the longest error line a user should ever see
MAX_LINE = 2000
EXAMPLES = 40

BASE, _ = load_raw("baseline")


def _leaves(node: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(node, dict):
        out = [path] if path else []
        for key, value in node.items():
            out += _leaves(value, (*path, key))
        return out
    if isinstance(node, list):
        out = [path]
        for n, value in enumerate(node):
            out += _leaves(value, (*path, n))
        return out
    return [path]


PATHS = _leaves(BASE)
EXTREMES = [
    0,
    -1,
    1,
    2**63 - 1,
    -(2**63),
    0.0,
    -0.0,
    5e-324,
    1e-300,
    1e300,
    -1e300,
    1.7976931348623157e308,
    math.nan,
    math.inf,
    -math.inf,
    "",
    " ",
    "x" * 100_000,
    "\x1b[31mred\x1b[0m",
    "a\nb\tc",
    "\u202eevil",
    "é🙂中",
    "0000Q1",
    "9999Q3",
    "2025Q5",
    "٢٠٢٥Q1",
    "2²25Q1",
    "2025q1",
    "baseline",
    "/etc/passwd",
    "../../x",
]


def _deep(depth: int) -> Any:
    value: Any = 1.0
    for _ in range(depth):
        value = {"k": value}
    return value


scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(EXTREMES),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=4),
    st.dictionaries(st.text(min_size=1, max_size=12), scalars, max_size=3),
    st.integers(min_value=2, max_value=200).map(_deep),
)
mutations = st.one_of(
    st.tuples(st.just("set"), st.sampled_from(PATHS), values),
    st.tuples(st.just("add"), st.sampled_from(PATHS), st.tuples(st.text(max_size=30), values)),
    st.tuples(st.just("drop"), st.sampled_from(PATHS), st.none()),
    st.tuples(st.just("nest"), st.sampled_from(PATHS), st.integers(min_value=100, max_value=3000)),
)


def _mutated(mutation: tuple) -> tuple[dict, str]:
    """The baseline's tables with one change, and any raw TOML text to append."""
    import copy

    kind, path, arg = mutation
    raw = copy.deepcopy(BASE)
    parent = raw
    for part in path[:-1]:
        parent = parent[part]
    leaf = path[-1]
    extra = ""
    if kind == "set":
        parent[leaf] = arg
    elif kind == "drop":
        del parent[leaf]
    elif kind == "add":
        target = parent[leaf]
        if isinstance(target, dict):
            target[arg[0] or "x"] = arg[1]
        elif isinstance(target, list):
            target.append(arg[1])
        else:
            parent[leaf] = {arg[0] or "x": arg[1]}
    else:  # a value nested deeper than any parser recursion should go
        extra = "\n[deep]\nx = " + "[" * arg + "]" * arg + "\n"
    return raw, extra


def run_case(mutation: tuple, tmp: Path) -> str:
    """``"ran"``, ``"refused"`` or ``"crash: …"`` (what went wrong)."""
    raw, extra = _mutated(mutation)
    try:
        text = tomli_w.dumps(raw) + extra
    except (TypeError, ValueError):  # not representable in TOML: not a file anyone can write
        return "unwritable"
    path = tmp / "fuzz.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp / "out"
    result = CliRunner().invoke(
        app, ["run", str(path), "--quarters", str(QUARTERS), "--out", str(out)]
    )
    err = result.stderr
    if result.exit_code == 0:
        firms = pl.read_parquet(out / "firms.parquet")
        for column, dtype in firms.schema.items():
            if dtype == pl.Float64 and not firms.filter(pl.col(column).is_infinite()).is_empty():
                return f"crash: infinite {column}"
        if not firms.filter(pl.col("revenue_usd").is_nan()).is_empty():
            return "crash: NaN revenue"
        return "ran"
    lines = err.splitlines()
    if result.exit_code != 2:
        kind = type(result.exception).__name__ if result.exception else "exit"
        return f"crash: exit {result.exit_code} ({kind})"
    if len(lines) != 1 or not lines[0].startswith("error: ") or "Traceback" in err:
        return f"crash: {len(lines)} lines on stderr"
    if len(lines[0]) > MAX_LINE:
        return f"crash: a {len(lines[0]):,}-character line"
    if any(ord(c) < 32 or ord(c) == 127 for c in lines[0]):
        return "crash: control characters in the message"
    return "refused"


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutation=mutations)
def test_a_mutated_baseline_runs_or_is_refused_in_one_line(mutation: tuple) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        outcome = run_case(mutation, Path(tmp))
    assert not outcome.startswith("crash"), (outcome, mutation[0], mutation[1])


def _count(n: int) -> Counter:
    counts: Counter = Counter()

    @settings(
        max_examples=n,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(mutation=mutations)
    def tally(mutation: tuple) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            outcome = run_case(mutation, Path(tmp))
        counts["tried"] += 1
        counts[outcome if not outcome.startswith("crash") else "crash"] += 1
        if outcome.startswith("crash"):
            counts[outcome.split(" (")[0]] += 0  # keep the kinds visible
            print(outcome, mutation[0], mutation[1][:4], file=sys.stderr)

    tally()
    return counts


if __name__ == "__main__":
    print(dict(_count(int(sys.argv[1]) if len(sys.argv) > 1 else 200)))
