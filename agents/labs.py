"""Model labs and inference hosts: rent (or own) compute, train models, sell tokens and apps."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from agents.apps import PlanDesk
from agents.base import Firm, Layer, Market, Order, Side, param
from agents.compute import CapacityBook, CloudParams, Cohort, chip_bids, chip_value
from agents.demand import curve_bids
from agents.protocol import DemandSignal, Fill, FundingRequest, Intents, Observation
from agents.supply import demand_at, demand_growth


@dataclass(frozen=True, slots=True)
class LabParams:
    training_stock: float = param(
        3e9, 1.0, 1e20, "effective training compute behind its best model at start, H100e-h"
    )
    tokens_per_hour: float = param(
        1.5, 0.001, 1e5, "M tokens its models serve per H100e-hour at start"
    )
    training_share: float = param(
        0.20, 0.0, 1.0, "share of its cash it spends on training compute each quarter"
    )
    min_training_usd: float = param(0.0, 0.0, 1e12, "training spend a quarter it keeps anyway")
    training_to_revenue: float = param(
        0.0,
        0.0,
        10.0,
        "training spend a quarter per dollar of last quarter's revenue (the race "
        "to stay at the frontier), while half its cash covers it",
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
    sga_usd: float = param(5e8, 0.0, 1e12, "SG&A a quarter")
    opening_cash_usd: float = param(2e10, 0.0, 1e13, "cash at start")
    runway_quarters: float = param(6.0, 0.0, 40.0, "raise money when cash covers fewer quarters")
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


class Lab(Firm):
    """A model lab (or, with ``serves_open_model``, an inference host).

    * Training: spends a share of its cash on training compute each quarter, or
      ``training_to_revenue`` times last quarter's revenue while half its cash covers it (the race
      for the frontier, financed by rounds); quality follows the logarithm of its effective
      training stock (scaling laws: Kaplan et al. 2020; Hoffmann et al. 2022), which decays as
      older training falls behind.
    * Inference: rents the hours its expected token sales, its own apps and its free users need,
      bidding up to what an hour earns in tokens. Hours it owns serve it first.
    * Tokens: its ask per quality-adjusted token moves by its strategy toward the profit-
      maximising price on its own residual demand (the API buyers it would win at its ask
      against the other sellers'), against the compute cost of a token.
    * Funding: raises a round when cash covers fewer than ``runway_quarters`` of burn.
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
        self.last_burn = 0.0
        self.last_revenue = 0.0
        self.own = (
            CapacityBook(OWNED_DC.build_lag, OWNED_DC.life_quarters)
            if p.own_compute_share > 0
            else None
        )
        self.chips_bought = 0.0

    # -- state read by the recorder -------------------------------------------------------------
    def tokens_per_hour(self, quarter: int) -> float:
        return self.params.tokens_per_hour * self.tech.inference_factor(quarter)

    def serving_quality(self, obs: Observation) -> float:
        return obs.open_quality if self.params.serves_open_model else self.quality

    def token_cost(self, obs: Observation) -> float:
        """Marginal cost of a quality-adjusted M token: the compute it takes at the market."""
        value = self.tech.token_value(self.serving_quality(obs))
        return max(obs.compute_price, 0.01) / (self.tokens_per_hour(obs.quarter) * value)

    # -- decisions -------------------------------------------------------------------------------
    def decide(self, obs: Observation) -> Intents:
        p: LabParams = self.params
        value = self.tech.token_value(self.serving_quality(obs))
        tph = self.tokens_per_hour(obs.quarter)
        pc = max(obs.compute_price, 0.01)
        self.desk.reprice(self.strategy, obs, pc / tph)
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
            expected = demand_at(self.signal, self.token_ask, self.api_sold_q)
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
        if not p.serves_open_model:
            cash = max(self.cash, 0.0)
            budget = max(
                p.min_training_usd,
                p.training_share * cash,
                min(p.training_to_revenue * self.last_revenue, 0.5 * cash),
            )
            need["training"] = budget / pc
        free_m = p.free_users_share * obs.segments.free_tokens_m()
        need["free_tier"] = free_m / tph
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
        # both are budgets: dollars fixed, more hours when cheaper (unit-elastic), so no price
        # rise can make them spend without bound
        for use, elasticity in (("training", 1.0), ("free_tier", 1.0)):
            rest = need[use] - own[use]
            if rest > 0:
                out.orders += budget_bids(self.firm_id, rest * pc, pc, elasticity, use)
        if self.own is not None:
            out.orders += self.own_chip_orders(obs, need["inference"])
        return out

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
        value = chip_value(
            self.tech,
            obs.quarter,
            obs.compute_price,
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
        for fill in fills:
            match fill.market, fill.side:
                case Market.COMPUTE, Side.BID:
                    self.hours[fill.tag] += fill.qty / fill.counter_factor
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
        if p.free_users_share > 0:
            out.ad_users.update(
                {
                    name: p.free_users_share * view.free_users()
                    for name, view in obs.segments.items()
                    if view.ads_usd_per_free_user > 0
                }
            )
        self.desk.close_quarter()
        self.hours = dict.fromkeys(USES, 0.0)
        self.api_revenue_now = self.plan_revenue_now = 0.0
        return out

    def _own_capacity_costs(self, obs: Observation, out: Intents) -> None:
        """Owned capacity is costed like rented hours: the share used for training is R&D."""
        used = math.fsum(self.own_hours.values())
        rnd = self.own_hours["training"] / used if used > 0 else 0.0
        dep = self.own.depreciation(obs.quarter)
        out.accrue("depreciation", dep)
        out.accrue("cost_of_revenue", dep * (1.0 - rnd))
        out.accrue("rnd", dep * rnd)
        energy = self.own.energy_usd(
            self.own_hours_available(obs), obs.quarter, self.tech.energy_usd_per_kwh
        )
        facilities = self.own.installed(obs.quarter) * OWNED_DC.dc_opex_usd
        for share, line in ((1.0 - rnd, "cost_of_revenue"), (rnd, "rnd")):
            if share > 0:
                out.pay("world:energy", energy * share, "energy", line)
                out.pay("world:labour", facilities * share, "facilities", line)
        out.pay(
            "world:suppliers", self.chips_bought * OWNED_DC.dc_capex_usd, "dc_construction", "capex"
        )
        self.chips_bought = 0.0
        self.own_hours = dict.fromkeys(USES, 0.0)

    def closed(self, books, cash_usd: float, obs: Observation) -> None:
        super().closed(books, cash_usd, obs)
        self.last_burn = max(0.0, -books.operating_income)
        self.last_revenue = books.revenue

    def funding_requests(self, obs: Observation) -> list[FundingRequest]:
        p: LabParams = self.params
        # a round tops cash up to twice its runway of burn (sized by runway, not by a multiple
        # of cash, so that spending a share of cash cannot feed on its own funding)
        if self.cash < p.runway_quarters * self.last_burn:
            ask = 2.0 * p.runway_quarters * self.last_burn - self.cash
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
