"""Claims a scenario makes against the baseline: the figure each claim is about, and verdicts.

A claim (``[[claims]]`` in a scenario) names a metric of a layer, a firm or a market over a window
and the direction it should move compared with the baseline. Both are run on the same seeds; the
claim is judged on the paired differences (scenario − baseline, seed by seed):

* **supported** — the 95% interval of the mean difference lies wholly on the claimed side of zero;
* **contradicted** — it lies wholly on the other side;
* **not supported** — it contains zero (the model shows no difference it can tell from noise);
* **untestable** — the runs do not cover the claim's window (too few quarters).

A ``largest`` claim is about a level, not a change: in each of the scenario's own runs, the
layer's figure less the largest of the other layers'; the same rule reads its interval.

A claim marked ``lever = true`` is a first-stage check that the scenario's move took hold (for
example, that the capacity a lab was told to own is built); levers are judged by the same rule
but not counted in the verdict. They tell the two readings of *not supported* apart
(:func:`reading`): the move took hold and the effect is small, or the move did not take hold.

A scenario's verdict, over its testable claims, is *supported* when every one is, *not
supported* when none is, and *mixed* otherwise (*untestable* when none can be tested).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import polars as pl

from market.calendar import Window
from runs.scenario import CLAIM_LAYERS, Claim


def _window(frame: pl.DataFrame, claim: Claim, start: str) -> pl.DataFrame:
    quarters = int(frame["quarter"].max()) + 1 if frame.height else 0
    first, last = Window.parse(claim.window).bounds(start, quarters)
    return frame.filter(pl.col("quarter").is_between(first, last))


def claim_value(claim: Claim, firms: pl.DataFrame, markets: pl.DataFrame, start: str) -> float:
    """The figure ``claim`` is about, in one run (NaN when the run has nothing to measure); for a
    ``largest`` claim, the layer's lead: its figure less the largest of the other layers'."""
    if claim.direction == "largest":
        own = claim_value(replace(claim, direction="up"), firms, markets, start)
        others = [
            claim_value(replace(claim, layer=layer, direction="up"), firms, markets, start)
            for layer in CLAIM_LAYERS
            if layer != claim.layer
        ]
        others = [v for v in others if np.isfinite(v)]
        return own - max(others) if others and np.isfinite(own) else math.nan
    if claim.metric == "price":
        m = _window(markets, claim, start).filter(
            (pl.col("market") == claim.market) & (pl.col("book") == "")
        )
        prices = m["price_usd"].drop_nulls().drop_nans()
        return float(prices.mean()) if len(prices) else math.nan
    f = _window(firms, claim, start).filter(pl.col("layer").is_in(CLAIM_LAYERS))
    if claim.firm:
        member = pl.col("firm") == claim.firm
        if claim.group:  # with the firms it owns
            member = member | (pl.col("parent") == claim.firm)
        subset = f.filter(member)
        peers = f.filter(pl.col("layer").is_in(subset["layer"].unique().to_list()))
    else:
        subset = f.filter(pl.col("layer") == claim.layer)
        peers = f
    revenue = float(subset["revenue_usd"].sum())
    match claim.metric:
        case "gross_margin":
            return float(subset["gross_profit_usd"].sum()) / revenue if revenue > 0 else math.nan
        case "operating_margin":
            return (
                float(subset["operating_income_usd"].sum()) / revenue if revenue > 0 else math.nan
            )
        case "revenue":
            return revenue
        case "revenue_share":
            total = float(peers["revenue_usd"].sum())
            return revenue / total if total > 0 else math.nan
        case "profit_share":
            total = float(f["gross_profit_usd"].sum())
            return float(subset["gross_profit_usd"].sum()) / total if total > 0 else math.nan
        case "defaults":
            return float(subset.filter(pl.col("defaulted"))["firm"].n_unique())
        case "capacity":
            quarters = subset["quarter"].n_unique()
            capacity = subset["capacity_h100e"].fill_nan(None).sum()
            return float(capacity) / quarters if quarters else math.nan
        case "funding":
            return float(subset["funding_usd"].sum() + subset["borrowing_usd"].sum())
        case "rnd":
            return float(subset["rnd_usd"].sum())
    raise ValueError(f"unknown metric {claim.metric!r}")


def verdict(direction: str, low: float, high: float) -> str:
    """The verdict on one claim from the 95% interval of its paired difference (of its lead
    over the other layers, for ``largest``)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "not supported"
    sign = -1.0 if direction == "down" else 1.0
    lo, hi = sorted((sign * low, sign * high))
    if lo > 0:
        return "supported"
    if hi < 0:
        return "contradicted"
    return "not supported"


def reading(claim_verdict: str, lever_verdicts: list[str]) -> str:
    """What a claim's verdict says about the model, given the verdicts of the scenario's levers
    (first-stage checks that its move took hold): a *not supported* claim either rests on a
    move that took hold and changed the claimed figure too little to tell from noise (*small
    effect*), or on a move the model did not carry through (*mechanism did not respond*)."""
    if claim_verdict != "not supported":
        return ""
    if not lever_verdicts:
        return "no lever checked"
    if all(v == "supported" for v in lever_verdicts):
        return "small effect: the move took hold"
    return "mechanism did not respond: a lever did not move"


def scenario_verdict(verdicts: list[str]) -> str:
    """Over the testable claims: supported when every one is, not supported when none is,
    mixed otherwise; untestable when no claim can be tested."""
    if not verdicts:
        return "no claims"
    verdicts = [v for v in verdicts if v != "untestable"]
    if not verdicts:
        return "untestable"
    hits = sum(v == "supported" for v in verdicts)
    if hits == len(verdicts):
        return "supported"
    return "not supported" if hits == 0 else "mixed"
