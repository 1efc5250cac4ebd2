"""Pricing strategies and the registry a scenario names them from.

A strategy is the part of a firm's decision that a user may swap: how it moves the price it asks
from what it learned of its own residual demand last quarter. Quantities (capacity, production,
budgets) follow the role's rules in the firm classes. To add a strategy, subclass
:class:`Strategy`, decorate it with :func:`register`, import the module before loading the
scenario, and name it in the scenario's ``strategy`` key. Scenario files only name registered
strategies; they never load code.

Every seller learns, each quarter, the demand it faced at its own price and at prices a step
``δ`` above and below it, with its rivals' prices as they were (:class:`DemandSignal`, computed by
the auctioneer from the quarter's bids). From those it estimates the local (arc) elasticity of
its residual demand,

    ε̂ = ln(Q(p·(1−δ)) / Q(p·(1+δ))) / ln((1+δ)/(1−δ)),

and moves toward the price that maximises profit on that demand: the Lerner (1934) price
``P* = MC · ε̂/(ε̂ − 1)`` (the inverse-elasticity rule), or — when its capacity binds — the highest
price at which its residual demand, on the bids as they trade, still takes all it supplies (the
signal's ``sellout``), whichever is higher: the constrained optimum, whether or not it sold out
last quarter. Where demand
is inelastic (ε̂ ≤ 1) profit rises with the price, so it raises the price by the largest step.
Each quarter it closes a share ``speed`` of the gap in logs, by at most ``max_step``: a damped
fixed-point iteration that converges to the optimum on constant-elasticity demand from any start
(and with many rivals, to Bertrand–Nash prices: marginal cost for a homogeneous good with spare
capacity; the logit markup ``1/(x(1−s))`` for differentiated sellers).
"""

from __future__ import annotations

import math
from typing import ClassVar

from agents.protocol import DemandSignal

_REGISTRY: dict[str, type[Strategy]] = {}
#: the strategy a firm uses when its scenario names none
DEFAULT_STRATEGY = "profit_seeking"


def register[S: type[Strategy]](cls: S) -> S:
    """Class decorator: make a strategy nameable from scenarios under ``cls.name``."""
    if not getattr(cls, "name", ""):
        raise ValueError(f"strategy {cls.__qualname__} needs a class attribute 'name'")
    _REGISTRY[cls.name] = cls
    return cls


def strategy_names() -> list[str]:
    return sorted(_REGISTRY)


def make_strategy(name: str) -> Strategy:
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise KeyError(
            f"unknown strategy {name!r}; allowed: {', '.join(strategy_names())}"
        ) from None


def elasticity(signal: DemandSignal) -> float:
    """The arc elasticity of a seller's residual demand around its price (``inf`` when it would
    sell nothing a step above its price but something a step below; 0 when demand does not
    move within the step; NaN when it would sell nothing either side)."""
    below, above = signal.wanted_below, signal.wanted_above
    if below <= 0.0:
        return math.nan
    if above <= 0.0:
        return math.inf
    return math.log(below / above) / math.log((1.0 + signal.step) / (1.0 - signal.step))


def lerner_price(unit_cost: float, eps: float) -> float:
    """The profit-maximising price on demand of elasticity ``eps`` > 1 (Lerner 1934)."""
    if math.isinf(eps):
        return unit_cost
    return unit_cost * eps / (eps - 1.0)


class Strategy:
    """Base strategy: how a seller moves its price from its own residual demand.

    Attributes:
        speed: share of the gap (in logs) to the target price closed in a quarter.
        max_step: most the price moves in one quarter, as a share of it.
    """

    name: ClassVar[str] = ""
    speed: ClassVar[float] = 0.4
    max_step: ClassVar[float] = 0.25

    def target(
        self, price: float, unit_cost: float, signal: DemandSignal, capacity: float | None = None
    ) -> float:
        """The price it aims for, given last quarter's residual demand at ``price``."""
        eps = elasticity(signal)
        if math.isnan(eps):  # nobody wanted any near its price: cut
            return price * (1.0 - self.max_step)
        # inelastic demand (ε ≤ 1): profit rises with the price, so raise it
        goal = lerner_price(unit_cost, eps) if eps > 1.0 + 1e-9 else price * (1 + self.max_step)
        if capacity is not None and capacity > 0 and signal.sellout > goal:
            # supply binds: on its residual demand profit is highest where buyers just take all
            # it can supply, above the unconstrained optimum (the marginal excluded buyer's value)
            goal = signal.sellout
        if signal.undercut > unit_cost:
            # a homogeneous good: pricing a step below a cheaper rival wins the buyers that rival
            # serves. Local elasticity cannot see that jump (Edgeworth 1925), so compare the
            # profit there with what it earns now and aim there when it pays more
            supply = signal.offered if capacity is not None else math.inf
            there = (signal.undercut - unit_cost) * min(supply, signal.wanted_at_undercut)
            here = (price - unit_cost) * signal.sold
            if there > here * (1.0 + signal.step):
                goal = min(goal, signal.undercut)
        # never aim above a rival's price at which it would lose every buyer (Bertrand 1883:
        # undercut rather than be undercut)
        return min(goal, signal.ceiling * (1.0 - signal.step))

    def reprice(
        self,
        price: float,
        unit_cost: float,
        signal: DemandSignal | None,
        capacity: float | None = None,
        floor: float = 0.0,
    ) -> float:
        """This quarter's price: a damped step toward :meth:`target`, never below ``floor``.

        Without a signal (nothing was offered last quarter) the price stands.
        """
        if signal is None or not price > 0:
            return max(price, floor)
        if math.isnan(elasticity(signal)):  # nobody wanted any near its price: cut at once
            return max(floor, price * (1.0 - self.max_step))
        goal = self.target(price, unit_cost, signal, capacity)
        goal = max(goal, floor, 1e-12)
        step = self.speed * math.log(goal / price)
        step = min(math.log1p(self.max_step), max(math.log1p(-self.max_step), step))
        return max(floor, price * math.exp(step))


@register
class ProfitSeeking(Strategy):
    """The default: toward the Lerner price on its own residual demand, 40% of the gap a quarter
    (Lerner 1934; the damped iteration is a simple adaptive rule in the spirit of Cyert & March
    1963). The damping is set for stability, not for a level: between logit rivals a seller's
    target falls as its own price rises (its share, so its elasticity, moves with it), and
    linearised around the Nash prices the gap between two rivals is multiplied each quarter by
    ``1 − λ + λ·m`` with ``m`` ≈ −3.5 at the default choice elasticity x = 4: −1.23 at λ = 0.5
    (the prices alternate and drift apart), −0.78 at λ = 0.4 (they converge)."""

    name = "profit_seeking"


@register
class Cautious(Strategy):
    """The same target, approached slowly and cut more reluctantly than raised: sticky,
    asymmetric pricing as firms are observed to practise it (Blinder et al. 1998)."""

    name = "cautious"
    speed = 0.25
    max_step = 0.10

    def reprice(self, price, unit_cost, signal, capacity=None, floor=0.0):
        new = super().reprice(price, unit_cost, signal, capacity, floor)
        if new < price:  # cuts at half the pace of rises
            new = max(floor, price * math.sqrt(new / price))
        return new


@register
class Aggressive(Strategy):
    """The same target, approached fast: a firm that reprices hard every quarter."""

    name = "aggressive"
    speed = 0.9
    max_step = 0.5
