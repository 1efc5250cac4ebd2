"""The outside ends of the chain: customer segments, other chip buyers, and investors."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from agents.base import Firm, Layer, Market, Order, Side, param
from agents.protocol import Intents, Observation

#: users' willingness to pay is log-normal; seat bids trace its survival function at these many
#: standard deviations of log WTP, from −WTP_SPAN to +WTP_SPAN (a step of 0.05: a price rise of
#: 5% of a spread moves the conversion rate, not only a rise past one of a few quantiles)
WTP_POINTS = 141
WTP_SPAN = 3.5


def normal_cdf(z: float) -> float:
    """The standard-normal distribution function (the C library's scalar ``erf``)."""
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


@functools.cache
def wtp_grid() -> tuple[tuple[float, float], ...]:
    """``(z, mass)`` of each seat bid: ``z`` evenly spaced, ``mass`` the share of users whose log
    WTP falls in the bin around it (the outer bins open-ended, so the masses sum to one)."""
    step = 2.0 * WTP_SPAN / (WTP_POINTS - 1)
    z = [-WTP_SPAN + i * step for i in range(WTP_POINTS)]
    edges = [-math.inf] + [zi + 0.5 * step for zi in z[:-1]] + [math.inf]
    cdf = [0.0 if e == -math.inf else 1.0 if e == math.inf else normal_cdf(e) for e in edges]
    return tuple((zi, cdf[i + 1] - cdf[i]) for i, zi in enumerate(z))


def conversion_rate(price_per_effective_seat: float, wtp_usd: float, wtp_spread: float) -> float:
    """The share of a segment's users who pay for a plan at ``price_per_effective_seat`` (the
    plan's price over its quality factor): those whose willingness to pay is at least that, as
    the seat bids of :func:`wtp_grid` trace it."""
    if price_per_effective_seat <= 0:
        return 1.0
    return math.fsum(
        mass
        for z, mass in wtp_grid()
        if wtp_usd * math.exp(wtp_spread * z) >= price_per_effective_seat
    )


#: price points of a demand curve, relative to the price it is laid around: 8× down to 1/8×
CURVE_RANGE = 8.0
#: how much closer together the price points lie near the going price than at the ends: the log
#: of a point's ratio is ``ln 8 · sinh(c·t)/sinh(c)`` for ``t`` evenly spaced over [−1, 1]
CURVE_FOCUS = 3.5


#: demand-curve grids kept at most: a run uses one per distinct elasticity (two in the baseline);
#: bounded so that a sweep over elasticities, each sampled value a new key, cannot grow it
GRID_CACHE = 32


@functools.lru_cache(maxsize=GRID_CACHE)
def _grid(n: int, elasticity: float) -> tuple[np.ndarray, np.ndarray]:
    """``n`` price ratios from 8 down to 1/8, densest around 1 (2.8% apart there for 33 points,
    58% at the ends), and each ratio to the power ``−elasticity``; both by exactly rounded
    scalar maths (the same bits on every CPU).

    Buyers bid steps, and a book trades on the steps: between two points the quantity bid at or
    above a price is the quantity at the upper point. Points close together around the going
    price keep what trades there within a few per cent of the curve, where sellers price."""
    span, focus = math.log(CURVE_RANGE), CURVE_FOCUS
    ts = [1.0 - 2.0 * i / (n - 1) for i in range(n)]
    ratios = [math.exp(span * math.sinh(focus * t) / math.sinh(focus)) for t in ts]
    grid = np.array(ratios)
    power = np.array([math.pow(r, -elasticity) for r in ratios])
    grid.flags.writeable = False
    power.flags.writeable = False
    return grid, power


def isoelastic_steps(
    spend_usd: float, anchor_price: float, elasticity: float, around: float, n: int = 33
) -> tuple[np.ndarray, np.ndarray]:
    """Bids tracing the constant-elasticity demand curve ``Q(p) = (spend/p₀)·(p/p₀)^−ε``.

    The curve is fixed by ``spend_usd`` at its anchor price ``p₀``; it is sampled at ``n``
    prices laid around ``around`` (last quarter's price: 8× above it to 8× below), so the bids
    follow the market wherever its price goes. Returns bid prices (high to low) and the quantity
    each step adds: the cumulative quantity at each grid price equals ``Q`` there.
    """
    ratios, power = _grid(n, elasticity)
    grid = around * ratios
    level = (spend_usd / anchor_price) * math.pow(around / anchor_price, -elasticity)
    q = level * power
    steps = np.diff(np.concatenate([[0.0], q]))
    return grid, steps


def demand_shock(rng: np.random.Generator, noise: float) -> float:
    """A mean-one log-normal demand shock ``exp(σ·z − σ²/2)`` from a buyer's own stream."""
    z = float(rng.standard_normal())
    return math.exp(noise * z - 0.5 * noise * noise)


def curve_bids(
    market: Market,
    firm_id: str,
    spend_usd: float,
    anchor_price: float,
    elasticity: float,
    around: float,
    tag: str,
) -> list[Order]:
    """The bids of :func:`isoelastic_steps` as orders on ``market``."""
    prices, qty = isoelastic_steps(spend_usd, anchor_price, elasticity, around)
    return [
        Order(market, Side.BID, firm_id, float(pr), float(q), tag=tag)
        for pr, q in zip(prices, qty, strict=True)
        if q > 0
    ]


class GrowthIndex:
    """A level that grows at ``growth`` a year scaled by the scenario's demand multiplier, the
    growth fading to half every ``half_life_years`` (adoption S-curves: growth slows as a market
    matures; Griliches 1957, Bass 1969). Each quarter's step uses the multiplier in force that
    quarter, so a change of the multiplier changes growth from then on, not the level reached."""

    def __init__(self, growth: float) -> None:
        self.growth = growth
        self.level = 1.0
        self.previous = 1.0
        self.quarter = 0

    def advance(self, quarter: int, multiplier: float, half_life_years: float) -> float:
        fade = 0.5 ** (1.0 / (4.0 * half_life_years))
        while self.quarter < quarter:
            self.previous = self.level
            self.level *= max(0.0, 1.0 + self.growth * multiplier * fade**self.quarter) ** 0.25
            self.quarter += 1
        return self.level


@dataclass(frozen=True, slots=True)
class SegmentParams:
    users: float = param(1e8, 0.0, 1e10, "people or seats who could use AI apps, at start")
    user_growth: float = param(0.30, -0.9, 3.0, "yearly growth of those users")
    wtp_usd: float = param(
        15.0,
        0.0,
        1e6,
        "median willingness to pay per seat a quarter, for a model of the reference quality",
    )
    wtp_spread: float = param(1.5, 0.0, 5.0, "log-normal spread of willingness to pay")
    quality_elasticity: float = param(
        0.5, 0.0, 5.0, "how willingness to pay scales with the token value of the model"
    )
    tokens_per_seat: float = param(2.0, 0.0, 1e5, "M tokens a paying seat uses a quarter")
    usage_growth: float = param(
        2.0,
        0.1,
        10.0,
        "yearly multiple of tokens per seat at start (its growth fades like the "
        "other demand growth rates)",
    )
    free_tokens_per_user: float = param(
        0.0, 0.0, 1e4, "M tokens a free-tier user uses a quarter (0: the segment has no free tier)"
    )
    ads_usd_per_free_user: float = param(0.0, 0.0, 1e4, "ad revenue per free user a quarter")
    api_spend_usd: float = param(
        0.0, 0.0, 1e13, "direct API spend a quarter at start, at the reference token price"
    )
    api_elasticity: float = param(1.2, 0.1, 5.0, "price elasticity of direct API demand")
    api_growth: float = param(1.0, -0.9, 20.0, "yearly growth of direct API spend")
    compute_spend_usd: float = param(
        0.0, 0.0, 1e13, "direct compute spend a quarter at start, at the reference compute price"
    )
    compute_elasticity: float = param(1.0, 0.1, 5.0, "price elasticity of direct compute demand")
    compute_growth: float = param(0.5, -0.9, 20.0, "yearly growth of direct compute spend")


class Segment(Firm):
    """A customer segment (consumer, developer, enterprise): demand, never margins.

    Seat demand: the segment's users have log-normally distributed willingness to pay (median
    ``wtp_usd``) per effective seat (a plan's price over its quality factor); the bids trace the
    distribution's survival function finely (:func:`wtp_grid`), so the share of users who convert
    from the free tier to a paid seat falls with the plan's price and rises with its model's
    quality (:func:`conversion_rate`).
    API and compute demand are constant-elasticity curves whose scale grows each year, laid
    around last quarter's prices. Every growth rate is scaled by the scenario's demand
    multiplier and fades with the scenario's growth half-life. Each quarter's demand is moved by
    a mean-one log-normal shock drawn from the segment's own random stream.
    """

    layer = Layer.CUSTOMERS
    role = "segment"
    Params = SegmentParams

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        p: SegmentParams = self.params
        self.growth = {
            "users": GrowthIndex(p.user_growth),
            "api": GrowthIndex(p.api_growth),
            "compute": GrowthIndex(p.compute_growth),
        }
        self.usage = GrowthIndex(p.usage_growth - 1.0)

    def begin_quarter(self, quarter: int, multiplier: float, half_life_years: float) -> None:
        """Grow the segment to ``quarter`` at the demand multiplier now in force (tokens per
        seat grow at their own rate, faded alike but not scaled by the multiplier)."""
        for index in self.growth.values():
            index.advance(quarter, multiplier, half_life_years)
        self.usage.advance(quarter, 1.0, half_life_years)

    def users(self) -> float:
        return self.params.users * self.growth["users"].level

    def users_before(self) -> float:
        return self.params.users * self.growth["users"].previous

    def _usage(self, quarter: int) -> float:
        # tokens per seat compound (longer reasoning, agents) along an S-curve like every other
        # demand growth rate: the yearly multiple's growth fades with the half-life
        return self.usage.level

    def tokens_per_seat(self, quarter: int) -> float:
        return self.params.tokens_per_seat * self._usage(quarter)

    def free_tokens_per_user(self, quarter: int) -> float:
        return self.params.free_tokens_per_user * self._usage(quarter)

    def decide(self, obs: Observation) -> Intents:
        p: SegmentParams = self.params
        out = Intents()
        shock = demand_shock(self.random_stream, obs.demand_noise)
        if p.users > 0 and p.wtp_usd > 0:
            users = self.users() * shock
            out.orders += [
                Order(
                    Market.PLANS,
                    Side.BID,
                    self.firm_id,
                    p.wtp_usd * math.exp(p.wtp_spread * z),
                    users * mass,
                    book=self.firm_id,
                    tag="plan",
                )
                for z, mass in wtp_grid()
            ]
        if p.api_spend_usd > 0:
            spend = p.api_spend_usd * self.growth["api"].level * shock
            out.orders += curve_bids(
                Market.TOKENS,
                self.firm_id,
                spend,
                obs.reference_token_price,
                p.api_elasticity,
                obs.token_price,
                "api",
            )
        if p.compute_spend_usd > 0:
            spend = p.compute_spend_usd * self.growth["compute"].level * shock
            out.orders += curve_bids(
                Market.COMPUTE,
                self.firm_id,
                spend,
                obs.reference_compute_price,
                p.compute_elasticity,
                obs.compute_price,
                "compute",
            )
        return out


@dataclass(frozen=True, slots=True)
class ChipBuyersParams:
    spend_usd: float = param(
        2.5e10, 0.0, 1e13, "their accelerator spend a quarter at start, at the reference chip price"
    )
    elasticity: float = param(1.5, 0.1, 5.0, "price elasticity of their chip demand")
    growth: float = param(0.5, -0.9, 20.0, "yearly growth of that spend")
    reference_price_usd: float = param(25000.0, 1.0, 1e7, "reference chip price per H100e")


class ChipBuyers(Firm):
    """Accelerator buyers outside the roster (in-house AI builders, sovereigns, enterprises).

    A constant-elasticity demand for merchant chips whose scale grows each year, laid around
    last quarter's chip price; the curve's anchor falls with the cost of hardware (the same
    dollars buy more H100e). They install what they buy for their own use, outside the compute
    market.
    """

    layer = Layer.CUSTOMERS
    role = "chip_buyers"
    Params = ChipBuyersParams

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.index = GrowthIndex(self.params.growth)

    def begin_quarter(self, quarter: int, multiplier: float, half_life_years: float) -> None:
        self.index.advance(quarter, multiplier, half_life_years)

    def decide(self, obs: Observation) -> Intents:
        p: ChipBuyersParams = self.params
        spend = p.spend_usd * self.index.level * demand_shock(self.random_stream, obs.demand_noise)
        anchor = p.reference_price_usd * self.tech.cost_factor(obs.quarter)
        return Intents(
            orders=curve_bids(
                Market.CHIPS,
                self.firm_id,
                spend,
                anchor,
                p.elasticity,
                max(obs.chip_price, 1.0),
                "capex",
            )
        )


@dataclass(frozen=True, slots=True)
class InvestorParams:
    sentiment: float = param(1.0, 0.0, 5.0, "investor sentiment at start (1 = ready to fund)")
    long_run_sentiment: float = param(0.9, 0.0, 5.0, "level sentiment drifts back to")
    reversion: float = param(
        0.1, 0.0, 1.0, "share of the gap to the long-run level closed a quarter"
    )
    growth_weight: float = param(1.0, 0.0, 10.0, "how much industry revenue growth lifts sentiment")
    burn_weight: float = param(
        0.3, 0.0, 10.0, "how much industry burn relative to revenue weighs on sentiment"
    )
    lending_rate: float = param(0.10, 0.0, 1.0, "yearly rate on new debt")
    revenue_multiple: float = param(
        25.0, 0.0, 1000.0, "valuation over annualised revenue at sentiment 1"
    )
    max_stake: float = param(0.2, 0.0, 1.0, "largest share of a firm sold in one round")


class Investors(Firm):
    """Capital: funds rounds and loans according to sentiment.

    Sentiment mean-reverts to a long-run level and is pushed up by the industry's revenue growth
    and down by its burn relative to revenue (an adaptive-expectations rule, after Minsky's
    financial-instability hypothesis: funding follows recent success). A round asked for is
    granted in proportion to sentiment — less than asked when investors are wary, more when rounds
    are oversubscribed — capped at ``max_stake`` of the firm's valuation (``revenue_multiple`` ×
    sentiment × annualised revenue): a firm with little revenue cannot raise more than a stake in
    it is worth. A scripted funding shock sets sentiment directly.
    """

    layer = Layer.CAPITAL
    role = "investors"
    Params = InvestorParams

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sentiment = self.params.sentiment

    def update(self, revenue_growth: float, burn_ratio: float) -> None:
        p: InvestorParams = self.params
        push = p.growth_weight * revenue_growth - p.burn_weight * max(0.0, burn_ratio - 1.0)
        drift = p.reversion * (p.long_run_sentiment - self.sentiment)
        self.sentiment = min(5.0, max(0.0, self.sentiment + drift + 0.1 * math.tanh(push)))

    def lend(self, asked_usd: float) -> float:
        """How much of a loan secured on chips is granted: all of it at sentiment 1 or more."""
        return asked_usd * min(1.0, max(0.0, self.sentiment))

    def grant(self, asked_usd: float, revenue_usd: float) -> float:
        """How much of a round is granted: the amount asked times sentiment (all of it at 1),
        never more than ``max_stake`` of what the firm is valued at on its quarter's revenue."""
        p: InvestorParams = self.params
        mood = max(0.0, self.sentiment)
        valuation = p.revenue_multiple * mood * 4.0 * max(0.0, revenue_usd)
        return min(asked_usd * mood, p.max_stake * valuation)
