"""Shared helpers of the theory tier: textbook results checked on the real economy.

Every test here runs a scenario of ``runs/scenarios/theory/`` through :func:`runs.run` (with
overrides) and compares what the markets did with what the textbook says they should do.
"""

from __future__ import annotations

import polars as pl

#: marginal cost of a compute hour in the theory scenarios: 1.3 kW × $0.08 per kWh
MC = 1.3 * 0.08


def lerner(price: float, cost: float = MC) -> float:
    """The Lerner index (p − MC)/p."""
    return (price - cost) / price


def compute_prices(markets: pl.DataFrame) -> list[float]:
    """The compute market's clearing price, quarter by quarter."""
    return markets.filter(market="compute", book="").sort("quarter")["price_usd"].to_list()


def tail_mean(values: list[float], n: int = 4) -> float:
    return sum(values[-n:]) / n
