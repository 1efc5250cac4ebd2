"""Contract tests every registered pricing strategy must pass.

Each test is parametrised over :func:`agents.strategies.strategy_names`, so a newly registered
strategy is checked automatically. Expected directions are written as data tables; the
properties (hypothesis) then check the same rules over the ranges the firms actually use:
price speeds in [0, 1], ask speeds in [0, 2], markups in [1, 20] moved by steps in [-1, 1].
"""

from __future__ import annotations

import copy
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.strategies import Strategy, make_strategy, strategy_names

NAMES = strategy_names()
SETTINGS = settings(max_examples=150, deadline=None)

# the relation of the new value to the old one (or to the floor / the markup bounds)
UP, DOWN, SAME, FLOOR, CAP = "up", "down", "same", "floor", "cap"
MARKUP_MIN, MARKUP_MAX = 1.0, 20.0

# (price, excess demand, speed, floor, expected)
PRICE_TABLE = [
    (100.0, 0.2, 0.5, 50.0, UP),
    (100.0, 1e-6, 0.5, 50.0, UP),       # a little excess demand still lifts the price
    (100.0, 3.0, 0.5, 50.0, UP),        # a lot: the step is capped, the direction is not
    (100.0, 0.2, 0.5, 100.0, UP),       # at the floor, excess demand lifts
    (100.0, -0.2, 0.5, 50.0, DOWN),
    (100.0, -1.0, 0.5, 50.0, DOWN),     # nobody wanted any
    (100.0, 0.0, 0.5, 50.0, SAME),      # no excess demand: unchanged
    (100.0, 0.2, 0.0, 50.0, SAME),      # zero speed: unchanged
    (100.0, -0.2, 0.0, 50.0, SAME),
    (100.0, -0.5, 1.0, 90.0, FLOOR),    # the cut would go below the floor
    (100.0, -0.2, 0.5, 100.0, FLOOR),   # at the floor: cannot be cut
    (100.0, 0.0, 0.5, 120.0, FLOOR),    # floor above the price: the price is lifted to it
    (100.0, -0.2, 0.5, 120.0, FLOOR),
]
# (ask, utilisation, target, speed, floor, expected)
ASK_TABLE = [
    (2.0, 1.0, 0.85, 0.3, 0.5, UP),     # sold out
    (2.0, 0.9, 0.85, 0.3, 0.5, UP),     # above target
    (2.0, 0.95, 0.85, 2.0, 0.5, UP),    # fastest speed
    (2.0, 0.5, 0.85, 0.3, 0.5, DOWN),   # below target
    (2.0, 0.0, 0.85, 0.3, 0.5, DOWN),   # idle
    (2.0, 0.85, 0.85, 0.3, 0.5, SAME),  # on target
    (2.0, 1.0, 0.85, 0.0, 0.5, SAME),   # zero speed
    (2.0, 0.0, 0.85, 2.0, 1.9, FLOOR),  # the cut would go below the floor (cash cost)
    (2.0, 0.85, 0.85, 0.3, 3.0, FLOOR),  # floor above the ask: lifted to it
]
# (markup, step, expected)
MARKUP_TABLE = [
    (2.0, 0.08, UP),                    # sold out
    (2.0, -0.08, DOWN),                 # unsold
    (2.0, 0.0, SAME),
    (1.5, 1.0, UP),
    (19.9, 1.0, CAP),                   # capped at 20
    (20.0, 0.08, CAP),
    (1.05, -1.0, FLOOR),                # never below 1 (never sells below cost)
    (1.0, -0.08, FLOOR),
]


def check(expected: str, old: float, new: float, floor: float) -> None:
    assert math.isfinite(new), new
    match expected:
        case "up":
            assert new > old
        case "down":
            assert new < old
        case "same":
            assert new == old
        case "floor":
            assert new == floor
        case "cap":
            assert new == MARKUP_MAX
        case _:
            raise AssertionError(f"unknown expectation {expected!r}")


# --- the registry ---------------------------------------------------------------------------------


def test_registry_is_not_empty_and_names_its_strategies() -> None:
    assert NAMES, "no strategies registered"
    assert sorted(set(NAMES)) == NAMES
    assert "tatonnement" in NAMES  # the default named by scenarios


@pytest.mark.parametrize("name", NAMES)
def test_make_strategy_returns_a_fresh_instance_of_that_name(name: str) -> None:
    a, b = make_strategy(name), make_strategy(name)
    assert isinstance(a, Strategy)
    assert a.name == name
    assert a is not b
    assert type(a) is type(b)


def test_unknown_strategy_names_the_allowed_ones() -> None:
    with pytest.raises(KeyError, match=r"allowed:.*tatonnement"):
        make_strategy("no-such-strategy")


# --- expected directions (tables) -----------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("price", "excess", "speed", "floor", "expected"), PRICE_TABLE)
def test_price_direction_table(name, price, excess, speed, floor, expected) -> None:
    new = make_strategy(name).adjust_price(price, excess, speed, floor)
    check(expected, price, new, floor)
    assert new >= floor


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("ask", "util", "target", "speed", "floor", "expected"), ASK_TABLE)
def test_ask_direction_table(name, ask, util, target, speed, floor, expected) -> None:
    new = make_strategy(name).adjust_ask(ask, util, target, speed, floor)
    check(expected, ask, new, floor)
    assert new >= floor


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("markup", "step", "expected"), MARKUP_TABLE)
def test_markup_direction_table(name, markup, step, expected) -> None:
    new = make_strategy(name).adjust_markup(markup, step)
    check(expected, markup, new, MARKUP_MIN)
    assert MARKUP_MIN <= new <= MARKUP_MAX


# --- properties -----------------------------------------------------------------------------------

POSITIVE = st.floats(1e-3, 1e7, allow_nan=False, allow_infinity=False)
FLOOR_ = st.one_of(st.just(0.0), st.floats(0.0, 1e7, allow_nan=False, allow_infinity=False))
EXCESS = st.one_of(st.just(0.0), st.floats(-1.0, 50.0, allow_nan=False))
PRICE_SPEED = st.one_of(st.just(0.0), st.floats(0.0, 1.0))
ASK_SPEED = st.one_of(st.just(0.0), st.floats(0.0, 2.0))
UTIL = st.floats(0.0, 1.2)
TARGET = st.floats(0.1, 1.0)
MARKUP = st.floats(MARKUP_MIN, MARKUP_MAX)
STEP = st.one_of(st.just(0.0), st.floats(-1.0, 1.0))

PRICE_CALL = st.tuples(st.just("adjust_price"), POSITIVE, EXCESS, PRICE_SPEED, FLOOR_)
ASK_CALL = st.tuples(st.just("adjust_ask"), POSITIVE, UTIL, TARGET, ASK_SPEED, FLOOR_)
MARKUP_CALL = st.tuples(st.just("adjust_markup"), MARKUP, STEP)
CALL = st.one_of(PRICE_CALL, ASK_CALL, MARKUP_CALL)


def call(strategy: Strategy, c: tuple) -> float:
    return getattr(strategy, c[0])(*c[1:])


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(c=CALL)
def test_deterministic(name: str, c: tuple) -> None:
    a, b = call(make_strategy(name), c), call(make_strategy(name), c)
    assert isinstance(a, float)
    assert a == b or (math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(calls=st.lists(CALL, min_size=1, max_size=30))
def test_a_reused_instance_behaves_like_a_fresh_one(name: str, calls: list[tuple]) -> None:
    """No hidden state: a long-lived instance (as a firm holds it) answers like a new one."""
    reused = make_strategy(name)
    state = copy.deepcopy(getattr(reused, "__dict__", {}))
    for c in calls:
        assert call(reused, c) == call(make_strategy(name), c), c
    assert getattr(reused, "__dict__", {}) == state


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(price=POSITIVE, excess=EXCESS, speed=PRICE_SPEED, floor=FLOOR_)
def test_price_never_below_floor_and_moves_with_excess_demand(name, price, excess, speed, floor):
    s = make_strategy(name)
    new = s.adjust_price(price, excess, speed, floor)
    assert math.isfinite(new)
    assert new >= floor
    if excess > 0:
        assert new >= price
    elif excess < 0:
        assert new <= price or new == floor
    else:
        assert new == max(price, floor)
    # weakly monotone: more excess demand never gives a lower price
    assert s.adjust_price(price, excess + 0.1, speed, floor) >= new


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(ask=POSITIVE, util=UTIL, target=TARGET, speed=ASK_SPEED, floor=FLOOR_)
def test_ask_never_below_floor_and_follows_utilisation(name, ask, util, target, speed, floor):
    s = make_strategy(name)
    new = s.adjust_ask(ask, util, target, speed, floor)
    assert math.isfinite(new)
    assert new >= floor
    if util > target:
        assert new >= ask
    elif util < target:
        assert new <= ask or new == floor
    else:
        assert new == max(ask, floor)
    # weakly monotone: higher utilisation never gives a lower ask
    assert s.adjust_ask(ask, util + 0.05, target, speed, floor) >= new


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(markup=MARKUP, step=STEP)
def test_markup_stays_within_bounds_and_follows_step(name, markup, step):
    s = make_strategy(name)
    new = s.adjust_markup(markup, step)
    assert MARKUP_MIN <= new <= MARKUP_MAX
    if step > 0:
        assert new >= markup
    elif step < 0:
        assert new <= markup
    else:
        assert new == markup
