"""What training is worth to a lab, and the training compute that value buys.

A lab's quality moves its share of the token and plan markets through the logit choice those
markets use (Anderson, de Palma & Thisse 1992): at a given price per raw token (per seat), a
better model is cheaper per unit of value, so buyers move to it. Its own residual demand has
elasticity ``ε`` in the price per unit of value (``x(1 − s) + s·ε_D`` for logit shares, measured
by the lab from its own demand signal), so a quality point raises what it sells in market ``m`` by
``ε_m · e_m · ln 2 / quality_doubling`` (``e_m``: how value per unit scales with token value — 1
for tokens, ``seat_quality_elasticity`` for seats) and its gross profit by as much at given prices.
Quality is the logarithm of the effective training stock (Kaplan et al. 2020; Hoffmann et al.
2022), so an hour of training is worth the most to a lab with a small stock. The lab trains until
an hour's value over the model's life, discounted, equals its price.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

LN2 = math.log(2.0)
LN10 = math.log(10.0)


def quality_value(markets: Iterable[tuple[float, float, float]], quality_doubling: float) -> float:
    """Dollars a quarter one more quality point earns at the lab's prices:
    ``Σ_m GP_m · ε_m · e_m · ln 2 / quality_doubling`` over ``(GP_m, ε_m, e_m)``; a market that
    earns no gross profit adds nothing."""
    return math.fsum(max(0.0, gp) * eps * e for gp, eps, e in markets) * LN2 / quality_doubling


def life_annuity(life_quarters: int, yearly_rate: float, retention: float) -> float:
    """Quarters of value a quality gain brings over a model's life of ``N`` quarters: the
    training's share of the stock fades by ``retention`` a quarter as newer work overtakes it, and
    what it earns is discounted at the yearly rate ``ρ``:
    ``Σ_{k=1}^{N} retention^(k−1) · (1 + ρ)^(−k/4)``."""
    return math.fsum(
        math.pow(retention, k - 1) * math.pow(1.0 + yearly_rate, -k / 4.0)
        for k in range(1, life_quarters + 1)
    )


def training_hours(
    value_per_point: float,
    annuity: float,
    quality_per_decade: float,
    price: float,
    base_stock: float,
    training_factor: float,
) -> float:
    """Hours of training compute that maximise the value of quality less their cost, at ``price``.

    With quality ``q = quality_per_decade · log10(S')`` and ``S' = base_stock + training_factor·h``
    the stock after the quarter, an hour's value is ``K · training_factor / S'`` with
    ``K = value_per_point · annuity · quality_per_decade / ln 10``; it equals ``price`` at

        h* = max(0, K / price − base_stock / training_factor)

    — a demand curve for training compute, falling in its price.
    """
    if price <= 0 or training_factor <= 0:
        return 0.0
    k = value_per_point * annuity * quality_per_decade / LN10
    return max(0.0, k / price - base_stock / training_factor)
