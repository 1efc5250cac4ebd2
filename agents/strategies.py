"""Pricing strategies and the registry a scenario names them from.

A strategy is the part of a firm's decision that a user may swap: how it moves its price, ask or
markup from what it observed. Quantities (capacity, production, budgets) follow the role's rules
in the firm classes. To add a strategy, subclass :class:`Strategy`, decorate it with
:func:`register`, import the module before loading the scenario, and name it in the scenario's
``strategy`` key. Scenario files only name registered strategies; they never load code.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

_REGISTRY: dict[str, type[Strategy]] = {}


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
        raise KeyError(f"unknown strategy {name!r}; allowed: {', '.join(strategy_names())}") \
            from None


class Strategy:
    """Base strategy: how a firm moves its price, its rental ask and its token markup."""

    name: ClassVar[str] = ""
    #: cap on how far excess demand moves a price in one quarter (relative)
    max_step: ClassVar[float] = 0.5

    def adjust_price(self, price: float, excess_demand: float, speed: float,
                     floor: float) -> float:
        """New list price given relative excess demand ((wanted − offered) / offered)."""
        raise NotImplementedError

    def adjust_ask(self, ask: float, utilisation: float, target: float, speed: float,
                   floor: float) -> float:
        """New rental ask given last quarter's utilisation and the target."""
        raise NotImplementedError

    def adjust_markup(self, markup: float, step: float) -> float:
        """New markup over cost, moved by ``step`` (positive after selling out)."""
        raise NotImplementedError


@register
class Tatonnement(Strategy):
    """Walrasian tâtonnement (Walras 1874; Samuelson 1941 for the adjustment rule).

    The price moves in proportion to excess demand, ``p' = p·(1 + speed·clip(z))``, never below
    the seller's unit cash cost (a firm does not sell below what the unit costs it to supply).
    Rental asks move with the gap between utilisation and its target; markups by a fixed step.
    """

    name = "tatonnement"

    def adjust_price(self, price, excess_demand, speed, floor):
        z = float(np.clip(excess_demand, -self.max_step, self.max_step))
        return max(floor, price * (1.0 + speed * z))

    def adjust_ask(self, ask, utilisation, target, speed, floor):
        gap = float(np.clip(utilisation - target, -self.max_step, self.max_step))
        return max(floor, ask * (1.0 + speed * gap))

    def adjust_markup(self, markup, step):
        return float(np.clip(markup * (1.0 + step), 1.0, 20.0))


@register
class Cautious(Tatonnement):
    """Tâtonnement at half the speed, with price cuts twice as slow as rises.

    Sticky, asymmetric pricing as firms are observed to practise it (Blinder et al. 1998:
    prices are cut more reluctantly than raised).
    """

    name = "cautious"

    def adjust_price(self, price, excess_demand, speed, floor):
        slow = 0.5 * speed if excess_demand >= 0 else 0.25 * speed
        return super().adjust_price(price, excess_demand, slow, floor)

    def adjust_ask(self, ask, utilisation, target, speed, floor):
        slow = 0.5 * speed if utilisation >= target else 0.25 * speed
        return super().adjust_ask(ask, utilisation, target, slow, floor)

    def adjust_markup(self, markup, step):
        return super().adjust_markup(markup, 0.5 * step if step > 0 else 0.25 * step)


@register
class Aggressive(Tatonnement):
    """Tâtonnement at double speed: a firm that chases share and scarcity hard."""

    name = "aggressive"

    def adjust_price(self, price, excess_demand, speed, floor):
        return super().adjust_price(price, excess_demand, min(1.0, 2.0 * speed), floor)

    def adjust_ask(self, ask, utilisation, target, speed, floor):
        return super().adjust_ask(ask, utilisation, target, min(2.0, 2.0 * speed), floor)

    def adjust_markup(self, markup, step):
        return super().adjust_markup(markup, 2.0 * step)
