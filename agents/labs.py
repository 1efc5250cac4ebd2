"""Model labs and inference hosts: rent (or own) compute, train models, sell tokens and apps."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from agents.apps import PlanDesk
from agents.base import Firm, Layer, Market, Order, Side, param
from agents.compute import CloudParams, chip_bids, chip_value
from agents.demand import curve_bids
from agents.fleet import CapacityBook, Cohort
from agents.protocol import DemandSignal, Fill, FundingRequest, Intents, Observation
from agents.supply import (
    curve_orders,
    demand_at,
    demand_growth,
    local_elasticity,
    sold_out,
)
from agents.training import life_annuity, quality_value, training_hours


@dataclass(frozen=True, slots=True)
class LabParams:
    training_stock: float = param(
        3e9, 1.0, 1e20, "effective training compute behind its best model at start, H100e-h"
    )
    tokens_per_hour: float = param(
        1.5, 0.001, 1e5, "M tokens its models serve per H100e-hour at start"
    )
    min_training_usd: float = param(
        0.0,
        0.0,
        1e12,
        "training spend a quarter it keeps whatever quality earns it (a parent's strategic "
        "budget: an open-weights lab sells no tokens)",
    )
    model_life_quarters: int = param(
        6,
        0,
        40,
        "quarters a model earns on its quality before a newer one replaces it (0: it trains "
        "for no return)",
    )
    discount_rate: float = param(
        0.15, 0.0, 1.0, "yearly rate at which it discounts what a model will earn"
    )
    api_tokens_q: float = param(
        5e8, 0.0, 1e15, "quality-adjusted M tokens sold on the API the quarter before start"
    )
    markup: float = param(
        2.0,
        1.0,
        20.0,
        "token ask over its compute cost per token at start (then the ask moves by its strategy)",
    )
    open_weights: bool = param(False, doc="releases its weights: hosts serve it, no API sales")
    sells_api: bool = param(True, doc="sells tokens on the API market")
    api_appeal: float = param(
        1.0,
        0.0,
        100.0,
        "API buyers' preference for its platform at equal price per unit of "
        "quality (enterprise agreements, tooling, trust); scales its share of buyers",
    )
    serves_open_model: bool = param(False, doc="serves the best open-weights model (hosts)")
    app_segments: dict[str, float] = field(
        default_factory=dict,
        metadata={
            "lo": 0.0,
            "doc": "segments its own apps sell in → starting price per seat a quarter",
        },
    )
    app_bonus: float = param(1.1, 0.1, 5.0, "users' preference for the lab's own app")
    free_users_share: float = param(
        0.0, 0.0, 1.0, "share of the consumer segment's free users its app serves"
    )
    revenue_share_to: str = field(default="", metadata={"doc": "firm paid a share of revenue"})
    revenue_share: float = param(0.0, 0.0, 0.9, "share of revenue paid to revenue_share_to")
    own_compute_share: float = param(
        0.0, 0.0, 1.0, "share of its compute it aims to own rather than rent"
    )
    own_platform_usd: float = param(
        1.0e7,
        0.0,
        1e11,
        "fixed cost a quarter of running compute it owns (cluster operations, networking, "
        "scheduling staff), paid while it owns any",
    )
    sga_usd: float = param(5e8, 0.0, 1e12, "SG&A a quarter")
    opening_cash_usd: float = param(2e10, 0.0, 1e13, "cash at start")
    runway_quarters: float = param(
        6.0,
        0.0,
        40.0,
        "quarters of planned burn it keeps in cash: it raises a round when cash covers fewer, "
        "and trains only as much as its cash covers that long",
    )
    parent_funded: bool = param(False, doc="a parent company covers its needs (no rounds)")
    parent_budget_usd: float = param(
        2.0e10, 0.0, 1e13, "most its parent puts in a quarter (parent-funded labs)"
    )


def budget_bids(
    firm_id: str, spend_usd: float, price: float, elasticity: float, tag: str
) -> list[Order]:
    """Compute bids spending about ``spend_usd`` at the observed price ``price``, more hours if
    cheaper (a constant-elasticity curve laid around that price)."""
    return curve_bids(Market.COMPUTE, firm_id, spend_usd, price, elasticity, price, tag)


#: data-centre economics of compute a lab or host owns: those of a cloud's defaults
OWNED_DC = CloudParams()
#: what a lab does with hours, in the order its own capacity serves them
USES = ("inference", "training", "free_tier")
#: weight of the latest quarter in its expected value of quality (adaptive expectations, Nerlove
#: 1958: the weight clouds give the latest rental price in their planning price)
EXPECTATION_WEIGHT = 0.3


class Lab(Firm):
    """A model lab (or, with ``serves_open_model``, an inference host).

    * Training: on expected returns. A quality point is worth what it adds to its gross profit
      in the token and plan markets through its share of buyers against its rivals' quality
      (:mod:`agents.training`), over the model's life; it bids for the training hours at which
      an hour's value equals its price, bounded by what its cash covers over its runway. Quality
      follows the logarithm of its effective training stock (scaling laws: Kaplan et al. 2020;
      Hoffmann et al. 2022), which decays as older training falls behind.
    * Inference: rents the hours its expected token sales, its own apps and its free users need,
      bidding up to what an hour earns in tokens. Hours it owns serve it first.
    * Tokens: its ask per quality-adjusted token moves by its strategy toward the profit-
      maximising price on its own residual demand (the API buyers it would win at its ask
      against the other sellers'), against the compute cost of a token.
    * Funding: raises a round when cash covers fewer than ``runway_quarters`` of planned burn,
      sized to cover them; investors grant it in proportion to their sentiment.
    * Owned compute: serves its own needs first; idle owned hours are offered on the compute
      market at a price its strategy sets against their energy cost.
    """

    layer = Layer.LAB
    role = "lab"
    Params = LabParams

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        p: LabParams = self.params
        self.stock = p.training_stock
        self.quality = self.tech.quality(self.stock)
        self.token_ask: float | None = None
        self.api_sold_q = p.api_tokens_q
        self.api_expected_q = 0.0
        self.api_offered_q = 0.0
        self.api_revenue_now = 0.0
        self.signal: DemandSignal | None = None
        self.demand_growth = 0.1
        self.api_sold_now_q = 0.0
        self.desk = PlanDesk(dict(p.app_segments), "flat", p.app_bonus)
        self.hours = dict.fromkeys(USES, 0.0)
        self.own_hours = dict.fromkeys(USES, 0.0)
        self.reserved_app_tokens_m = 0.0
        self.plan_revenue_now = 0.0
        self.free_tier_m = 0.0  # M tokens its free users want this quarter
        self.value_of_quality: float | None = None  # expected $ a quarter per quality point
        self.training_wanted_usd = 0.0  # what training is worth buying at this quarter's price
        self.fixed_burn = 0.0  # last quarter's operating loss before R&D (negative: a profit)
        self.compute_ask: float | None = None  # its ask for idle owned hours
        self.compute_signal: DemandSignal | None = None
        self.hours_resold = 0.0
        self.own = (
            CapacityBook(OWNED_DC.build_lag, OWNED_DC.life_quarters)
            if p.own_compute_share > 0
            else None
        )
        self.chips_bought = 0.0
        #: what it paid per hour it rented last quarter (the rent an hour of its own saves)
        self.rent_per_hour = 0.0

    # -- state read by the recorder -------------------------------------------------------------
    def tokens_per_hour(self, quarter: int) -> float:
        return self.params.tokens_per_hour * self.tech.inference_factor(quarter)

    def serving_quality(self, obs: Observation) -> float:
        return obs.open_quality if self.params.serves_open_model else self.quality

    def token_cost(self, obs: Observation) -> float:
        """Marginal cost of a quality-adjusted M token: the compute it takes at the market."""
        value = self.tech.token_value(self.serving_quality(obs))
        return max(obs.compute_price, 0.01) / (self.tokens_per_hour(obs.quarter) * value)

    def app_token_cost(self, obs: Observation) -> float:
        """What a raw M token used in its own apps costs it: the compute it takes, or, when its
        API sold all it offered last quarter, what the token would have fetched there (its
        opportunity cost: the transfer price of an input with an outside market, Hirshleifer
        1956). Pricing its apps at serving cost while its API buyers go unserved would sell
        tokens to its app users for less than its API buyers pay for them."""
        serving = max(obs.compute_price, 0.01) / self.tokens_per_hour(obs.quarter)
        s = self.signal
        if self.token_ask is None or s is None or s.offered <= 0 or not sold_out(s):
            return serving
        value = self.tech.token_value(self.serving_quality(obs))
        return max(serving, self.token_ask * value)

    # -- decisions -------------------------------------------------------------------------------
    def decide(self, obs: Observation) -> Intents:
        p: LabParams = self.params
        value = self.tech.token_value(self.serving_quality(obs))
        tph = self.tokens_per_hour(obs.quarter)
        pc = max(obs.compute_price, 0.01)
        self.desk.reprice(self.strategy, obs, self.app_token_cost(obs))
        out = Intents()
        if self.own is None and p.own_compute_share > 0:  # a scripted move into owning compute
            self.own = CapacityBook(OWNED_DC.build_lag, OWNED_DC.life_quarters)
        if self.own is not None:
            self.own.advance(obs.quarter)
        sells = p.sells_api and not p.open_weights
        cost = self.token_cost(obs)
        if sells:
            if self.token_ask is None:
                self.token_ask = p.markup * cost
            self.token_ask = self.strategy.reprice(self.token_ask, cost, self.signal, floor=cost)
            expected = demand_at(self.signal, self.token_ask, self.api_sold_q, common=True)
            self.api_expected_q = expected * (1.0 + self.demand_growth)
        else:
            self.api_expected_q = 0.0
        app_m = self.desk.tokens_needed_m(obs)
        self.reserved_app_tokens_m = app_m
        need = {
            "inference": (self.api_expected_q / value + app_m) / tph,
            "training": 0.0,
            "free_tier": 0.0,
        }
        training_at = self.training_curve(obs)
        need["training"] = training_at(pc)
        self.free_tier_m = p.free_users_share * obs.segments.free_tokens_m()
        need["free_tier"] = self.free_tier_m / tph
        own = self._serve_own(obs, need)
        if need["inference"] - own["inference"] > 0:
            earn = (self.token_ask or 0.0) * value * tph
            out.orders.append(
                Order(
                    Market.COMPUTE,
                    Side.BID,
                    self.firm_id,
                    max(earn, pc * 1.2),
                    need["inference"] - own["inference"],
                    tag="inference",
                )
            )
        idle = self.own_hours_available(obs) - math.fsum(own.values())
        if need["training"] - own["training"] > 0 and idle <= 0:
            # derived demand for training compute: more hours when they are cheaper
            out.orders += curve_orders(
                Market.COMPUTE,
                self.firm_id,
                lambda price: max(0.0, training_at(price) - own["training"]),
                pc,
                "training",
            )
        # a budget: dollars fixed, more hours when cheaper (unit-elastic), so no price rise can
        # make it spend without bound
        if need["free_tier"] - own["free_tier"] > 0:
            rest = need["free_tier"] - own["free_tier"]
            out.orders += budget_bids(self.firm_id, rest * pc, pc, 1.0, "free_tier")
        if self.own is not None:
            out.orders += self.own_chip_orders(obs, need["inference"])
            out.orders += self.idle_hours_ask(obs, idle)
        return out

    def training_curve(self, obs: Observation):
        """Training hours it buys at a compute price: where an hour's value over the model's life
        equals its price (:func:`agents.training.training_hours`), at least what
        ``min_training_usd`` buys, at most what its cash covers over its runway."""
        p: LabParams = self.params
        tech = self.tech
        if p.serves_open_model:
            self.training_wanted_usd = 0.0
            return lambda price: 0.0
        if self.value_of_quality is None:  # before its first quarter: its opening API sales
            margin = (self.token_ask or 0.0) - self.token_cost(obs)
            self.value_of_quality = quality_value(
                [(self.kept_share() * p.api_tokens_q * margin, local_elasticity(None), 1.0)],
                tech.quality_doubling,
            )
        r = tech.training_stock_retention
        # the stock after the quarter without training: what it keeps, and what diffuses to it
        base = r * self.stock + tech.knowledge_diffusion * max(
            0.0, r * (obs.frontier_stock - self.stock)
        )
        factor = tech.training_factor(obs.quarter)
        annuity = life_annuity(p.model_life_quarters, p.discount_rate, r)

        def optimal(price: float) -> float:
            return training_hours(
                self.value_of_quality, annuity, tech.quality_per_decade, price, base, factor
            )

        pc = max(obs.compute_price, 0.01)
        self.training_wanted_usd = max(p.min_training_usd, pc * optimal(pc))
        runway = max(p.runway_quarters, 1.0)
        afford = max(p.min_training_usd, max(self.cash, 0.0) / runway - self.fixed_burn)
        return lambda price: min(max(optimal(price), p.min_training_usd / price), afford / price)

    def kept_share(self) -> float:
        """The share of its revenue it keeps after any revenue share."""
        p: LabParams = self.params
        return 1.0 - (p.revenue_share if p.revenue_share_to else 0.0)

    def idle_hours_ask(self, obs: Observation, idle: float) -> list[Order]:
        """Its owned hours that its own needs leave idle, offered on the compute market at a price
        its strategy sets against their energy cost."""
        self.hours_resold = 0.0
        if idle <= 0:
            return []
        cost = self.own.kw_per_h100e(obs.quarter) * self.tech.energy_usd_per_kwh
        if self.compute_ask is None:
            self.compute_ask = max(obs.compute_price, cost)
        self.compute_ask = self.strategy.reprice(
            self.compute_ask, cost, self.compute_signal, capacity=idle, floor=cost
        )
        return [Order(Market.COMPUTE, Side.ASK, self.firm_id, self.compute_ask, idle)]

    def _serve_own(self, obs: Observation, need: dict[str, float]) -> dict[str, float]:
        """Hours its own capacity serves, inference first."""
        spare = self.own_hours_available(obs)
        for use in USES:
            self.own_hours[use] = min(spare, need[use])
            spare -= self.own_hours[use]
            self.hours[use] = self.own_hours[use]
        return dict(self.own_hours)

    def own_chip_orders(self, obs: Observation, need_hours: float) -> list[Order]:
        p: LabParams = self.params
        dc = OWNED_DC
        target = (
            p.own_compute_share
            * need_hours
            * 1.3
            / (self.tech.hours_per_quarter * dc.target_utilisation)
        )
        want = max(0.0, target - self.own.installed(obs.quarter) - self.own.in_pipeline())
        # it pays for chips and shells from its cash: at most half of it a quarter
        want = min(want, 0.5 * max(self.cash, 0.0) / (max(obs.chip_price, 1.0) + dc.dc_capex_usd))
        # an owned hour saves the rent it pays per hour, which is above the market's
        # quality-adjusted price when it rents from clouds whose service commands a premium
        value = chip_value(
            self.tech,
            obs.quarter,
            max(obs.compute_price, self.rent_per_hour),
            dc.build_lag,
            dc.life_quarters,
            dc.target_utilisation,
            dc.dc_capex_usd,
            dc.dc_opex_usd,
            dc.hurdle_rate,
            dc.price_outlook,
        )
        if want <= 0 or value <= 0:
            return []
        return chip_bids(
            self.firm_id,
            obs.programs_of_owner(self.firm_id),
            lambda _: want,
            max(obs.chip_price, 1.0),
            value,
        )

    def own_hours_available(self, obs: Observation) -> float:
        if self.own is None:
            return 0.0
        return self.own.installed(obs.quarter) * self.tech.hours_per_quarter

    # -- results ---------------------------------------------------------------------------------
    def receive(self, fills: list[Fill], obs: Observation) -> None:
        rented = [f for f in fills if f.market is Market.COMPUTE and f.side is Side.BID]
        hours = math.fsum(f.qty / f.counter_factor for f in rented)
        if hours > 0:
            self.rent_per_hour = math.fsum(f.amount for f in rented) / hours
        for fill in fills:
            match fill.market, fill.side:
                case Market.COMPUTE, Side.BID:
                    self.hours[fill.tag] += fill.qty / fill.counter_factor
                case Market.COMPUTE, Side.ASK:
                    self.hours_resold += fill.qty
                case Market.CHIPS | Market.CUSTOM, Side.BID:
                    effective = fill.qty if fill.market is Market.CHIPS else fill.qty * fill.factor
                    self.chips_bought += effective
                    shell = OWNED_DC.dc_capex_usd * effective
                    self.own.add(
                        Cohort(
                            obs.quarter,
                            effective,
                            fill.amount + shell,
                            OWNED_DC.life_quarters,
                            self.tech.kw(obs.quarter),
                        )
                    )
                case Market.TOKENS, Side.ASK:
                    self.api_sold_now_q += fill.qty
                    self.api_revenue_now += fill.amount
                case Market.PLANS, Side.ASK:
                    self.desk.receive(fill)
                    self.plan_revenue_now += fill.amount

    def asks(self, market: Market, obs: Observation) -> list[Order]:
        p: LabParams = self.params
        if market is Market.TOKENS:
            if not p.sells_api or p.open_weights:
                self.api_offered_q = 0.0
                return []
            produced_m = self.hours["inference"] * self.tokens_per_hour(obs.quarter)
            self.reserved_app_tokens_m = min(self.reserved_app_tokens_m, produced_m)
            value = self.tech.token_value(self.serving_quality(obs))
            self.api_offered_q = (produced_m - self.reserved_app_tokens_m) * value
            if self.api_offered_q <= 0:
                return []
            return [
                Order(
                    Market.TOKENS,
                    Side.ASK,
                    self.firm_id,
                    self.token_ask,
                    self.api_offered_q,
                    factor=value,
                )
            ]
        if market is Market.PLANS and self.desk.plans:
            return self.desk.asks(
                self.firm_id,
                self.reserved_app_tokens_m,
                obs,
                obs.segments_quality_factor(self.quality),
            )
        return []

    def learn(self, signals: list[DemandSignal], obs: Observation) -> None:
        signal = next((s for s in signals if s.market is Market.TOKENS), None)
        self.compute_signal = next(
            (s for s in signals if s.market is Market.COMPUTE), self.compute_signal
        )
        self.demand_growth = demand_growth(self.signal, signal, self.demand_growth)
        self.signal = signal or self.signal
        self.desk.learn(signals)

    def launch_app(self, segment: str, price: float) -> None:
        """Scripted move: open its own app in ``segment`` (competing with its API customers)."""
        self.desk.open(segment, price)

    # -- closing ---------------------------------------------------------------------------------
    def close(self, obs: Observation) -> Intents:
        p: LabParams = self.params
        tech = self.tech
        out = Intents()
        self._expect_value_of_quality(obs)
        self.api_sold_q, self.api_sold_now_q = self.api_sold_now_q, 0.0
        if self.own is not None:
            self._own_capacity_costs(obs, out)
        self.stock = tech.training_stock_retention * self.stock + self.hours[
            "training"
        ] * tech.training_factor(obs.quarter)
        if not p.serves_open_model:  # knowledge spills over from the frontier (catch-up)
            frontier = tech.training_stock_retention * obs.frontier_stock
            self.stock += tech.knowledge_diffusion * max(0.0, frontier - self.stock)
        self.quality = tech.quality(self.stock)
        revenue = self.api_revenue_now + self.plan_revenue_now
        if p.revenue_share > 0 and p.revenue_share_to:
            out.pay(
                p.revenue_share_to, p.revenue_share * revenue, "revenue_share", "cost_of_revenue"
            )
        out.pay("world:labour", p.sga_usd, "sga", "sga")
        if p.free_users_share > 0 and self.free_tier_m > 0:
            # advertisers pay for the free users it served: the share of its free users that the
            # hours it got for them served
            served_m = self.hours["free_tier"] * self.tokens_per_hour(obs.quarter)
            served = min(1.0, served_m / self.free_tier_m)
            out.ad_users.update(
                {
                    name: served * p.free_users_share * view.free_users()
                    for name, view in obs.segments.items()
                    if view.ads_usd_per_free_user > 0
                }
            )
        self.desk.close_quarter()
        self.hours = dict.fromkeys(USES, 0.0)
        self.api_revenue_now = self.plan_revenue_now = 0.0
        return out

    def _expect_value_of_quality(self, obs: Observation) -> None:
        """Update its expected value of a quality point from this quarter's gross profit in each
        market it sells in and its own demand's elasticity there (adaptive expectations)."""
        if self.params.serves_open_model:
            return
        kept = self.kept_share()
        markets = []
        if self.api_sold_now_q > 0:
            gp = kept * self.api_revenue_now - self.api_sold_now_q * self.token_cost(obs)
            markets.append((gp, local_elasticity(self.signal), 1.0))
        seat_cost = max(obs.compute_price, 0.01) / self.tokens_per_hour(obs.quarter)
        for plan in self.desk.plans.values():
            tokens = plan.seats_sold * obs.segments[plan.segment].tokens_per_seat
            gp = kept * plan.revenue - tokens * seat_cost
            markets.append((gp, local_elasticity(plan.signal), obs.seat_quality_elasticity))
        now = quality_value(markets, self.tech.quality_doubling)
        before = self.value_of_quality
        self.value_of_quality = (
            now if before is None else before + EXPECTATION_WEIGHT * (now - before)
        )

    def _own_capacity_costs(self, obs: Observation, out: Intents) -> None:
        """Owned capacity is costed like rented hours: the share used for training is R&D, the
        rest (its own serving and the hours it resold) cost of revenue. Energy is paid on the
        hours used or resold, not on idle ones; facilities and the fixed platform cost are paid
        on what it owns."""
        p: LabParams = self.params
        used = math.fsum(self.own_hours.values()) + self.hours_resold
        rnd = self.own_hours["training"] / used if used > 0 else 0.0
        dep = self.own.depreciation(obs.quarter)
        out.accrue("depreciation", dep)
        out.accrue("cost_of_revenue", dep * (1.0 - rnd))
        out.accrue("rnd", dep * rnd)
        energy = self.own.energy_usd(used, obs.quarter, self.tech.energy_usd_per_kwh)
        installed = self.own.installed(obs.quarter)
        facilities = installed * OWNED_DC.dc_opex_usd
        for share, line in ((1.0 - rnd, "cost_of_revenue"), (rnd, "rnd")):
            if share > 0:
                out.pay("world:energy", energy * share, "energy", line)
                out.pay("world:labour", facilities * share, "facilities", line)
        if installed + self.own.in_pipeline() > 0:
            out.pay("world:labour", p.own_platform_usd, "platform", "cost_of_revenue")
        self.hours_resold = 0.0
        out.pay(
            "world:suppliers", self.chips_bought * OWNED_DC.dc_capex_usd, "dc_construction", "capex"
        )
        self.chips_bought = 0.0
        self.own_hours = dict.fromkeys(USES, 0.0)

    def closed(self, books, cash_usd: float, obs: Observation) -> None:
        super().closed(books, cash_usd, obs)
        self.fixed_burn = -(books.operating_income + books.rnd)

    def planned_burn(self) -> float:
        """What it plans to burn next quarter: the training its value of quality wants at this
        quarter's compute price, plus last quarter's operating loss before R&D."""
        return max(0.0, self.training_wanted_usd + self.fixed_burn)

    def funding_requests(self, obs: Observation) -> list[FundingRequest]:
        p: LabParams = self.params
        # a round sized by runway: it tops cash up to runway_quarters of planned burn (not a
        # multiple of it, so what investors grant is what it has to spend)
        need = p.runway_quarters * self.planned_burn()
        if self.cash < need:
            ask = need - self.cash
            if p.parent_funded:
                return [FundingRequest("parent", min(ask, p.parent_budget_usd))]
            return [FundingRequest("equity", ask)]
        return []

    def on_default(self) -> float:
        super().on_default()
        return self.own.liquidate() if self.own is not None else 0.0


class Host(Lab):
    """An inference host (Together, Fireworks): serves open-weights models, trains none."""

    layer = Layer.HOST
    role = "host"
