"""Model labs and inference hosts: rent (or own) compute, train models, sell tokens and apps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agents.apps import Plan, PlanDesk
from agents.base import Firm, Layer, Market, Order, Side, param
from agents.compute import CapacityBook, CloudParams, Cohort, chip_bids, chip_value
from agents.demand import isoelastic_steps

if TYPE_CHECKING:
    from agents.protocol import Observation


@dataclass(frozen=True, slots=True)
class LabParams:
    training_stock: float = param(
        3e9, 1.0, 1e20, "effective training compute behind its best model at start, H100e-h")
    tokens_per_hour: float = param(
        1.5, 0.001, 1e5, "M tokens its models serve per H100e-hour at start")
    training_share: float = param(
        0.20, 0.0, 1.0, "share of its cash it spends on training compute each quarter")
    min_training_usd: float = param(0.0, 0.0, 1e12, "training spend a quarter it keeps anyway")
    training_to_revenue: float = param(
        0.0, 0.0, 10.0, "training spend a quarter per dollar of last quarter's revenue (the race "
        "to stay at the frontier), while half its cash covers it")
    api_tokens_q: float = param(
        5e8, 0.0, 1e15, "quality-adjusted M tokens sold on the API the quarter before start")
    markup: float = param(2.0, 1.0, 20.0, "token ask over its compute cost per token at start")
    markup_speed: float = param(0.08, 0.0, 1.0, "markup response to selling out or not")
    open_weights: bool = param(False, doc="releases its weights: hosts serve it, no API sales")
    sells_api: bool = param(True, doc="sells tokens on the API market")
    api_appeal: float = param(
        1.0, 0.0, 100.0, "API buyers' preference for its platform at equal price per unit of "
        "quality (enterprise agreements, tooling, trust); scales its share of buyers")
    serves_open_model: bool = param(False, doc="serves the best open-weights model (hosts)")
    app_segments: dict[str, float] = field(
        default_factory=dict,
        metadata={"lo": 0.0,
                  "doc": "segments its own apps sell in → starting price per seat a quarter"})
    app_bonus: float = param(1.1, 0.1, 5.0, "users' preference for the lab's own app")
    free_users_share: float = param(
        0.0, 0.0, 1.0, "share of the consumer segment's free users its app serves")
    revenue_share_to: str = field(default="", metadata={"doc": "firm paid a share of revenue"})
    revenue_share: float = param(0.0, 0.0, 0.9, "share of revenue paid to revenue_share_to")
    own_compute_share: float = param(
        0.0, 0.0, 1.0, "share of its compute it aims to own rather than rent")
    sga_usd: float = param(5e8, 0.0, 1e12, "SG&A a quarter")
    opening_cash_usd: float = param(2e10, 0.0, 1e13, "cash at start")
    runway_quarters: float = param(6.0, 0.0, 40.0, "raise money when cash covers fewer quarters")
    parent_funded: bool = param(False, doc="a parent company covers its needs (no rounds)")


def budget_bids(firm_id: str, spend_usd: float, expected_price: float, elasticity: float,
                tag: str) -> list[Order]:
    """Compute bids spending about ``spend_usd`` at the expected price, more hours if cheaper."""
    prices, qty = isoelastic_steps(spend_usd, expected_price, elasticity)
    return [Order(Market.COMPUTE, Side.BID, firm_id, float(pr), float(q), tag=tag)
            for pr, q in zip(prices, qty, strict=True) if q > 0]


#: data-centre economics of compute a lab or host owns: those of a cloud's defaults
OWNED_DC = CloudParams()


class Lab(Firm):
    """A model lab (or, with ``serves_open_model``, an inference host).

    * Training: spends a share of its cash on training compute each quarter, or
      ``training_to_revenue`` times last quarter's revenue while half its cash covers it (the race
      for the frontier, financed by rounds); quality follows the
      logarithm of its effective training stock (scaling laws: Kaplan et al. 2020; Hoffmann et
      al. 2022), which decays as older training falls behind.
    * Inference: rents the hours its forecast token sales, its own apps and its free users need,
      bidding up to what an hour earns in tokens.
    * Tokens: asks its compute cost per quality-adjusted token times a markup that it learns —
      cut when tokens go unsold, otherwise moved the way that raised the API's gross profit last
      quarter (hill-climbing, Cyert & March 1963).
    * Funding: raises a round when cash covers fewer than ``runway_quarters`` of burn.
    """

    layer = Layer.LAB
    role = "lab"
    Params = LabParams

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        p: LabParams = self.params
        self.stock = p.training_stock
        self.quality = self.model.tech.quality(self.stock)
        self.markup = p.markup
        self.api_sold_q = p.api_tokens_q
        self.api_wanted_q = p.api_tokens_q
        self.api_offered_q = 0.0
        self.api_sold_now = 0.0   # quality-adjusted M tokens sold so far this quarter
        self.api_revenue_now = 0.0
        self.api_profit_last = 0.0
        self.markup_direction = 1.0
        self.desk = PlanDesk(dict(p.app_segments), "flat", 0.10, p.app_bonus)
        self.hours = {"training": 0.0, "inference": 0.0, "free_tier": 0.0}
        self.own_hours = dict(self.hours)
        self.reserved_app_tokens_m = 0.0
        self.last_burn = 0.0
        self.last_revenue = 0.0
        self.own = (CapacityBook(OWNED_DC.build_lag, OWNED_DC.life_quarters)
                    if p.own_compute_share > 0 else None)
        self.custom_programs: list = []

    # -- state read by others --------------------------------------------------------------------
    def tokens_per_hour(self, quarter: int) -> float:
        return self.params.tokens_per_hour * self.model.tech.inference_factor(quarter)

    def serving_quality(self, obs: Observation) -> float:
        return obs.open_quality if self.params.serves_open_model else self.quality

    # -- decisions -------------------------------------------------------------------------------
    def decide(self, obs: Observation) -> list[Order]:
        p: LabParams = self.params
        tech = self.model.tech
        quality = self.serving_quality(obs)
        value = tech.token_value(quality)
        tph = self.tokens_per_hour(obs.quarter)
        pc = max(obs.compute_price, 0.01)
        self.desk.forecast(obs)
        self.desk.reprice(obs, pc / tph)
        orders: list[Order] = []
        if self.own is None and p.own_compute_share > 0:  # a scripted move into owning compute
            self.own = CapacityBook(OWNED_DC.build_lag, OWNED_DC.life_quarters)
        if self.own is not None:
            self.own.advance(obs.quarter)
        # training
        # compute bids trace a budget: spending fixed in dollars (unit-elastic demand), on a
        # grid around the price it expects (the reference price falling with hardware cost)
        expect = obs.reference_compute_price * tech.cost_factor(obs.quarter)
        if not p.serves_open_model:
            cash = max(self.cash, 0.0)
            budget = max(p.min_training_usd, p.training_share * cash,
                         min(p.training_to_revenue * self.last_revenue, 0.5 * cash))
            if budget > 0:
                orders += budget_bids(self.firm_id, budget, expect, 1.0, "training")
        # inference: API, own apps, free users
        if p.sells_api and not p.open_weights:
            growth = min(0.6, max(-0.3, obs.token_demand_growth))
            self.api_expected_q = max(self.api_sold_q, 0.5 * (self.api_sold_q + self.api_wanted_q)
                                      ) * (1.0 + growth)
        else:
            self.api_expected_q = 0.0
        app_m = sum(plan.seats_expected * obs.segments[plan.segment].tokens_per_seat
                    for plan in self.desk.plans.values())
        self.reserved_app_tokens_m = app_m
        need_hours = (self.api_expected_q / value + app_m) / tph
        earn = obs.token_price * value * tph
        if need_hours > 0:
            orders.append(Order(Market.COMPUTE, Side.BID, self.firm_id, max(earn, pc * 1.2),
                                need_hours, tag="inference"))
        free_m = p.free_users_share * obs.segments.free_tokens_m()
        if free_m > 0:
            orders += budget_bids(self.firm_id, free_m / tph * expect, expect, 0.5, "free_tier")
        # token ask: compute cost per quality-adjusted M tokens, times the learned markup
        self.token_ask = self.markup * pc / (tph * value)
        if self.own is not None:
            orders.extend(self.own_chip_orders(obs, need_hours))
        return orders

    def own_chip_orders(self, obs: Observation, need_hours: float) -> list[Order]:
        p: LabParams = self.params
        tech = self.model.tech
        dc = OWNED_DC
        target = p.own_compute_share * need_hours * 1.3 / (
            tech.hours_per_quarter * dc.target_utilisation)
        want = max(0.0, target - self.own.installed(obs.quarter) - self.own.in_pipeline())
        # it pays for chips and shells from its cash: at most half of it a quarter
        want = min(want, 0.5 * max(self.cash, 0.0) / (max(obs.chip_price, 1.0)
                                                       + dc.dc_capex_usd))
        value = chip_value(tech, obs.quarter, obs.compute_price, dc.build_lag, dc.life_quarters,
                           dc.target_utilisation, dc.dc_capex_usd, dc.dc_opex_usd,
                           dc.hurdle_rate, dc.price_outlook)
        if want <= 0 or value <= 0:
            return []
        return chip_bids(self.firm_id, self.custom_programs, obs.quarter, want, value)

    def own_hours_available(self, obs: Observation) -> float:
        if self.own is None:
            return 0.0
        return self.own.installed(obs.quarter) * self.model.tech.hours_per_quarter

    # -- fills -----------------------------------------------------------------------------------
    def on_compute(self, hours: float, tag: str) -> None:
        self.hours[tag] += hours

    def on_own_compute(self, hours: float, tag: str) -> None:
        """Hours served from its own capacity (before the market)."""
        self.own_hours[tag] += hours
        self.on_compute(hours, tag)

    def on_chips(self, h100e: float, price_per_h100e: float, obs: Observation) -> None:
        shell = OWNED_DC.dc_capex_usd * h100e
        self.model.settle(self, "world:suppliers", shell, "dc_construction", payer_line="capex")
        self.own.add(Cohort(obs.quarter, h100e, h100e * price_per_h100e + shell,
                            OWNED_DC.life_quarters, self.model.tech.kw(obs.quarter)))

    def token_asks(self, obs: Observation) -> list[Order]:
        """Step 5–6: produce tokens from the inference hours held; offer what apps don't need."""
        p: LabParams = self.params
        if not p.sells_api or p.open_weights:
            self.api_offered_q = 0.0
            return []
        tph = self.tokens_per_hour(obs.quarter)
        produced_m = self.hours["inference"] * tph
        self.reserved_app_tokens_m = min(self.reserved_app_tokens_m, produced_m)
        api_m = produced_m - self.reserved_app_tokens_m
        value = self.model.tech.token_value(self.serving_quality(obs))
        self.api_offered_q = api_m * value
        if self.api_offered_q <= 0:
            return []
        return [Order(Market.TOKENS, Side.ASK, self.firm_id, self.token_ask, self.api_offered_q,
                      factor=value)]

    def plan_asks(self, obs: Observation) -> list[Order]:
        if not self.desk.plans:
            return []
        return self.desk.asks(self.firm_id, self.reserved_app_tokens_m, obs,
                              obs.segments_quality_factor(self.quality))

    def on_tokens_sold(self, qtokens: float, price: float = 0.0) -> None:
        self.api_sold_now += qtokens
        self.api_revenue_now += qtokens * price

    def on_token_demand(self, wanted_q: float) -> None:
        self.api_wanted_q = wanted_q

    def on_plan_demand(self, segment: str, wanted: float) -> None:
        self.desk.plans[segment].seats_wanted = wanted

    def on_seats(self, segment: str, seats: float) -> None:
        self.desk.plans[segment].seats_sold += seats

    def launch_app(self, segment: str, price: float) -> None:
        """Scripted move: open its own app in ``segment`` (competing with its API customers)."""
        if segment not in self.desk.plans:
            self.desk.plans[segment] = Plan(segment, price, 0.0)

    # -- closing ---------------------------------------------------------------------------------
    def end_quarter(self, obs: Observation) -> None:
        p: LabParams = self.params
        tech = self.model.tech
        sold = self.api_sold_now
        if self.api_offered_q > 0:
            fill = sold / self.api_offered_q
            # unit cost of a quality-adjusted M token this quarter, and the API's gross profit
            cost = max(obs.compute_price, 0.01) / (
                self.tokens_per_hour(obs.quarter) * tech.token_value(self.serving_quality(obs)))
            profit = self.api_revenue_now - sold * cost
            if fill < 0.9:          # capacity stood unsold: cut the markup
                step = -p.markup_speed
            else:                   # hill-climb on the API's gross profit (Cyert & March 1963)
                if profit < self.api_profit_last:
                    self.markup_direction = -self.markup_direction
                step = p.markup_speed * self.markup_direction
            self.api_profit_last = profit
            self.markup = self.strategy.adjust_markup(self.markup, step)
        self.api_sold_q = sold
        self.api_sold_now = 0.0
        self.api_revenue_now = 0.0
        if self.own is not None:
            # owned capacity is costed like rented hours: the share used for training is R&D
            used = sum(self.own_hours.values())
            rnd = self.own_hours["training"] / used if used > 0 else 0.0
            dep = self.own.depreciation(obs.quarter)
            self.books.add("depreciation", dep)
            self.books.add("cost_of_revenue", dep * (1.0 - rnd))
            self.books.add("rnd", dep * rnd)
            energy = self.own.energy_usd(self.own_hours_available(obs), obs.quarter,
                                         tech.energy_usd_per_kwh)
            facilities = self.own.installed(obs.quarter) * OWNED_DC.dc_opex_usd
            for share, line in ((1.0 - rnd, "cost_of_revenue"), (rnd, "rnd")):
                if share > 0:
                    self.model.settle(self, "world:energy", energy * share, "energy",
                                      payer_line=line)
                    self.model.settle(self, "world:labour", facilities * share, "facilities",
                                      payer_line=line)
        self.own_hours = {k: 0.0 for k in self.own_hours}
        self.stock = tech.training_stock_retention * self.stock + \
            self.hours["training"] * tech.training_factor(obs.quarter)
        if not p.serves_open_model:  # knowledge spills over from the frontier (catch-up)
            frontier = tech.training_stock_retention * self.model.frontier_stock
            self.stock += tech.knowledge_diffusion * max(0.0, frontier - self.stock)
        self.quality = tech.quality(self.stock)
        if p.revenue_share > 0 and p.revenue_share_to:
            self.model.settle(self, p.revenue_share_to, p.revenue_share * self.books.revenue,
                              "revenue_share", payer_line="cost_of_revenue",
                              payee_line="revenue")
        self.model.settle(self, "world:labour", p.sga_usd, "sga", payer_line="sga")
        self.desk.close_quarter()
        self.hours = {k: 0.0 for k in self.hours}
        self.last_burn = max(0.0, -self.books.operating_income)
        self.last_revenue = self.books.revenue

    def funding_need(self, obs: Observation) -> float:
        p: LabParams = self.params
        if self.cash < p.runway_quarters * self.last_burn:
            return 2.0 * p.runway_quarters * self.last_burn
        return 0.0


class Host(Lab):
    """An inference host (Together, Fireworks): serves open-weights models, trains none."""

    layer = Layer.HOST
    role = "host"
