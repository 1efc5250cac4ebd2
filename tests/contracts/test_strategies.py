"""Contract tests every registered pricing strategy must pass.

Each test is parametrised over :func:`agents.strategies.strategy_names`, so a newly registered
strategy is checked automatically. A strategy moves a seller's price from its own residual
demand (a :class:`DemandSignal`); the expected directions are written as data, and hypothesis
checks the rules over wide ranges of prices, costs and elasticities.
"""

from __future__ import annotations

import copy
import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.protocol import DemandSignal
from agents.strategies import (
    DEFAULT_STRATEGY,
    Strategy,
    elasticity,
    lerner_price,
    make_strategy,
    strategy_names,
)
from market.catalogue import Market

NAMES = strategy_names()
SETTINGS = settings(max_examples=150, deadline=None)
STEP = 0.02


def isoelastic(
    price: float,
    eps: float,
    scale: float = 1000.0,
    sold: float | None = None,
    offered: float = 1e12,
    sellout: float = 0.0,
) -> DemandSignal:
    """The signal of a seller facing Q(p) = scale·p^−ε."""

    def q(p: float) -> float:
        return scale * p**-eps

    wanted = q(price)
    return DemandSignal(
        Market.COMPUTE,
        "",
        price,
        offered,
        wanted if sold is None else sold,
        wanted,
        q(price * (1 - STEP)),
        q(price * (1 + STEP)),
        STEP,
        sellout=sellout,
    )


def flat(price: float, wanted: float, below: float, above: float) -> DemandSignal:
    return DemandSignal(
        Market.COMPUTE, "", price, 1e12, min(wanted, 1e12), wanted, below, above, STEP
    )


# (price, unit cost, signal, capacity, expected): the relation of the new price to the old
UP, DOWN, SAME = "up", "down", "same"
TABLE = [
    (10.0, 1.0, isoelastic(10.0, 2.0), None, DOWN),  # optimum 2: far above it
    (1.2, 1.0, isoelastic(1.2, 2.0), None, UP),  # below the optimum
    (2.0, 1.0, isoelastic(2.0, 2.0), None, SAME),  # at the optimum (ε/(ε−1) = 2)
    # it did not sell out, and no bid price would take all it offers: supply does not bind
    (2.0, 1.0, isoelastic(2.0, 2.0, sold=90.0, offered=100.0), 100.0, SAME),
    # buyers would take all it offers only below the Lerner price: supply does not bind
    (2.0, 1.0, isoelastic(2.0, 2.0, sold=90.0, offered=100.0, sellout=1.5), 100.0, SAME),
    # above both its Lerner price and the price that sells its supply out: cut
    (4.0, 1.0, isoelastic(4.0, 2.0, sold=60.0, offered=100.0, sellout=3.0), 100.0, DOWN),
    # supply binds above the Lerner price though it did not sell out: raise toward it
    (2.0, 1.0, isoelastic(2.0, 2.0, sold=90.0, offered=100.0, sellout=2.5), 100.0, UP),
    (4.0, 1.0, isoelastic(4.0, 1.25), None, UP),  # ε = 1.25: optimum 5
    (3.0, 1.0, isoelastic(3.0, 0.5), None, UP),  # inelastic: raise
    (3.0, 1.0, flat(3.0, 100.0, 100.0, 100.0), None, UP),  # no response at all: raise
    (3.0, 1.0, flat(3.0, 0.0, 0.0, 0.0), None, DOWN),  # nobody wants any near it: cut
    (3.0, 1.0, flat(3.0, 100.0, 100.0, 0.0), None, DOWN),  # a rival takes all above: → cost
    # at the optimum, but it sold out with buyers left wanting: scarcity lifts it
    (2.0, 1.0, isoelastic(2.0, 2.0, sold=100.0, offered=100.0, sellout=3.0), 100.0, UP),
    # a homogeneous rival asks 3 and takes its buyers; a step below it would sell 100 at a profit
    (
        4.0,
        1.0,
        replace(flat(4.0, 1.0, 1.5, 0.5), undercut=2.94, wanted_at_undercut=100.0),
        None,
        DOWN,
    ),
    # undercutting would earn less than it earns now: it keeps to its own optimum
    (2.0, 1.0, replace(isoelastic(2.0, 2.0), undercut=1.05, wanted_at_undercut=300.0), None, SAME),
    # without a capacity the price that would sell a stock out does not bind
    (2.0, 1.0, isoelastic(2.0, 2.0, sold=100.0, offered=100.0, sellout=3.0), None, SAME),
]


def relation(old: float, new: float) -> str:
    if math.isclose(new, old, rel_tol=1e-6):
        return SAME
    return UP if new > old else DOWN


def test_registry_names_its_strategies_and_the_default() -> None:
    assert NAMES and sorted(set(NAMES)) == NAMES
    assert DEFAULT_STRATEGY in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_make_strategy_returns_a_fresh_instance_of_that_name(name: str) -> None:
    a, b = make_strategy(name), make_strategy(name)
    assert isinstance(a, Strategy) and a.name == name
    assert a is not b and type(a) is type(b)


def test_unknown_strategy_names_the_allowed_ones() -> None:
    with pytest.raises(KeyError, match=rf"allowed:.*{DEFAULT_STRATEGY}"):
        make_strategy("no-such-strategy")


def test_elasticity_and_lerner_price() -> None:
    assert elasticity(isoelastic(3.0, 2.5)) == pytest.approx(2.5, rel=1e-9)
    assert math.isinf(elasticity(flat(1.0, 5.0, 5.0, 0.0)))
    assert math.isnan(elasticity(flat(1.0, 0.0, 0.0, 0.0)))
    assert lerner_price(1.0, 2.0) == 2.0
    assert lerner_price(1.0, math.inf) == 1.0


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("price", "cost", "signal", "capacity", "expected"), TABLE)
def test_direction_table(name, price, cost, signal, capacity, expected) -> None:
    new = make_strategy(name).reprice(price, cost, signal, capacity, floor=cost)
    assert relation(price, new) == expected, (price, new)
    assert new >= cost


@pytest.mark.parametrize("name", NAMES)
def test_without_a_signal_the_price_stands(name: str) -> None:
    s = make_strategy(name)
    assert s.reprice(3.0, 1.0, None) == 3.0
    assert s.reprice(0.5, 1.0, None, floor=1.0) == 1.0


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("eps", [1.5, 2.0, 4.0])
@pytest.mark.parametrize("start", [0.5, 2.0])
def test_converges_to_the_lerner_price_on_constant_elasticity(name, eps, start) -> None:
    s, cost = make_strategy(name), 1.0
    optimum = lerner_price(cost, eps)
    price = start * optimum
    for _ in range(120):
        price = s.reprice(price, cost, isoelastic(price, eps), floor=cost)
    assert price == pytest.approx(optimum, rel=0.02)


PRICE = st.floats(1e-3, 1e6)
COST = st.floats(0.0, 1e5)
EPS = st.floats(0.05, 30.0)
CALL = st.tuples(PRICE, COST, EPS, st.one_of(st.none(), st.floats(1.0, 1e9)))


def call(s: Strategy, c: tuple) -> float:
    price, cost, eps, capacity = c
    return s.reprice(price, cost, isoelastic(price, eps), capacity, floor=cost)


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(c=CALL)
def test_deterministic_finite_above_the_floor_and_bounded(name: str, c: tuple) -> None:
    s = make_strategy(name)
    a, b = call(s, c), call(make_strategy(name), c)
    price, cost = c[0], c[1]
    assert a == b and math.isfinite(a)
    assert a >= cost
    if price >= cost:  # one quarter moves it by at most max_step
        assert price * (1 - s.max_step) * (1 - 1e-12) <= a <= price * (1 + s.max_step) * (1 + 1e-12)


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
@given(price=st.floats(0.1, 1e4), cost=st.floats(0.01, 10.0), eps=st.floats(1.05, 20.0))
def test_moves_toward_the_optimum_never_past_it(name, price, cost, eps) -> None:
    s = make_strategy(name)
    optimum = max(lerner_price(cost, eps), cost)
    new = s.reprice(price, cost, isoelastic(price, eps), floor=cost)
    lo, hi = sorted((price, optimum))
    assert lo * (1 - 1e-9) <= new <= hi * (1 + 1e-9)
