"""Selling seats to end users: the plan desk every app and lab app uses, and the apps."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from agents.base import Firm, Layer, Market, Order, Side, param
from agents.protocol import DemandSignal, Fill, FundingRequest, Intents, Observation
from agents.supply import demand_at, local_elasticity


@dataclass(slots=True)
class Plan:
    """One plan in one customer segment: its price per seat-quarter and what it sold."""

    segment: str
    price: float
    seats_expected: float
    seats_sold: float = 0.0
    revenue: float = 0.0  # this quarter's
    last_sold: float = 0.0  # seats sold last quarter
    signal: DemandSignal | None = None  # its own residual demand last quarter
    factor: float = 1.0  # effective seats per seat at its last ask


class PlanDesk:
    """Plans of one seller across segments, each priced on its own residual demand.

    * ``flat`` pricing: each plan's price per seat moves by the seller's strategy toward the
      profit-maximising price on the demand it faced in its segment, against the token cost of
      a seat (its marginal cost).
    * ``usage`` pricing: the price follows the token cost of a seat every quarter, at the markup
      that maximises profit on the same demand (``ε/(ε−1)``, Lerner 1934), so a change in cost
      passes through at once.

    Seats expected next quarter are the demand it expects at its new price, grown with the
    segment, but at most 50% beyond what it served or prepared for (onboarding, support and
    capacity take time).
    """

    def __init__(self, segments: dict[str, float], pricing: str, quality_bonus: float) -> None:
        self.plans = {s: Plan(s, price, 0.0) for s, price in sorted(segments.items())}
        self.pricing = pricing
        self.quality_bonus = quality_bonus
        self.max_scaleup = 0.5  # seats it can add beyond last quarter's, as a share

    def open(self, segment: str, price: float) -> None:
        if segment not in self.plans:
            self.plans[segment] = Plan(segment, price, 0.0)

    def close_quarter(self) -> None:
        for plan in self.plans.values():
            plan.last_sold, plan.seats_sold, plan.revenue = plan.seats_sold, 0.0, 0.0

    def reprice(self, strategy, obs: Observation, token_cost_per_m: float) -> None:
        """Move each plan's price, then expect the seats its segment wants at that price."""
        for plan in self.plans.values():
            seg = obs.segments[plan.segment]
            cost = seg.tokens_per_seat * token_cost_per_m
            f = plan.factor
            # a seat sold at ask ``price / f`` (per effective seat) costs ``cost`` in tokens
            if self.pricing == "usage":
                eps = local_elasticity(plan.signal, lo=1.1)
                plan.price = f * max(cost * eps / (eps - 1.0), 1e-6)
            else:
                plan.price = f * strategy.reprice(plan.price / f, cost, plan.signal, floor=cost)
            # prices fall with token costs for every plan at once: read along the market's demand
            wanted = demand_at(plan.signal, plan.price / f, 0.0, common=True)  # seats
            base = wanted if wanted > 0 else max(plan.last_sold, 0.02 * seg.users)
            ceiling = (1.0 + self.max_scaleup) * max(plan.last_sold, plan.seats_expected)
            if ceiling > 0:
                base = min(base, ceiling)
            plan.seats_expected = base * (1.0 + seg.user_growth_q)

    def tokens_needed_m(self, obs: Observation) -> float:
        return math.fsum(
            plan.seats_expected * obs.segments[plan.segment].tokens_per_seat
            for plan in self.plans.values()
        )

    def asks(
        self, firm_id: str, tokens_m: float, obs: Observation, quality_factor: float
    ) -> list[Order]:
        """Offer the seats ``tokens_m`` M tokens can serve, shared across plans by the tokens
        each plan's expected seats need (a coding seat uses far more than a chat seat)."""
        need = {
            name: plan.seats_expected * obs.segments[plan.segment].tokens_per_seat
            for name, plan in self.plans.items()
        }
        total = math.fsum(need.values())
        out = []
        factor = quality_factor * self.quality_bonus
        for name, plan in self.plans.items():
            plan.factor = factor
            per_seat = obs.segments[plan.segment].tokens_per_seat
            share = need[name] / total if total > 0 else 0.0
            seats = tokens_m * share / per_seat if per_seat > 0 else 0.0
            if seats <= 0:
                continue
            out.append(
                Order(
                    Market.PLANS,
                    Side.ASK,
                    firm_id,
                    plan.price / factor,
                    seats,
                    book=plan.segment,
                    factor=factor,
                )
            )
        return out

    def receive(self, fill: Fill) -> None:
        self.plans[fill.book].seats_sold += fill.qty
        self.plans[fill.book].revenue += fill.amount

    def learn(self, signals: list[DemandSignal]) -> None:
        for plan in self.plans.values():
            plan.signal = next(
                (s for s in signals if s.market is Market.PLANS and s.book == plan.segment),
                plan.signal,
            )


@dataclass(frozen=True, slots=True)
class AppParams:
    segments: dict[str, float] = field(
        default_factory=lambda: {"developer": 60.0},
        metadata={"lo": 0.0, "doc": "segment → starting plan price per seat a quarter (USD)"},
    )
    pricing: str = field(
        default="flat",
        metadata={"allowed": ("flat", "usage"), "doc": "flat seat price or usage-based"},
    )
    product_fit: float = param(1.0, 0.1, 5.0, "how much users value the app beyond its model")
    token_bid_factor: float = param(
        3.0, 1.0, 20.0, "most it pays per token, as a multiple of what a seat earns per token"
    )
    own_model: bool = param(True, doc="may train its own model when buying tokens eats its revenue")
    own_model_trigger: float = param(
        0.9, 0.1, 5.0, "token cost per dollar of revenue that triggers its own model"
    )
    own_model_budget_usd: float = param(3e8, 0.0, 1e11, "training spend of its own model")
    own_model_quarters: int = param(3, 1, 12, "quarters of training before the model serves")
    own_model_share: float = param(
        0.5, 0.0, 1.0, "share of its tokens its own model can serve (the simpler requests)"
    )
    own_tokens_per_hour: float = param(
        8.0, 0.01, 1e4, "M tokens per H100e-hour its small model serves, at start"
    )
    sga_usd: float = param(3e7, 0.0, 1e11, "SG&A a quarter")
    opening_cash_usd: float = param(1e9, 0.0, 1e12, "cash at start")
    runway_quarters: float = param(6.0, 0.0, 40.0, "raise money when cash covers fewer quarters")


class App(Firm):
    """An app (Cursor, Replit, Copilot): buys API tokens, sells seats to end users.

    It buys quality-adjusted tokens for the seats it expects to sell, sells plans, and — when
    buying tokens eats most of its revenue — makes rather than buys: it trains a small model of
    its own (paying training compute as R&D) and then serves part of its requests with it on
    rented compute (a make-or-buy rule on unit cost against a one-off cost, Coase 1937;
    Williamson 1975).
    """

    layer = Layer.APP
    role = "app"
    Params = AppParams

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        p: AppParams = self.params
        self.desk = PlanDesk(dict(p.segments), p.pricing, p.product_fit)
        self.tokens_bought_q = 0.0  # quality-adjusted M tokens bought this quarter
        self.own_hours = 0.0
        self.own_model_state = "none"  # none → training → serving
        self.training_left = 0
        self.quality = 0.0
        self.last_burn = 0.0

    def decide(self, obs: Observation) -> Intents:
        p: AppParams = self.params
        self.quality = obs.best_api_quality
        value = self.tech.token_value(self.quality)
        self.desk.reprice(self.strategy, obs, obs.token_price * value)
        tokens_m = self.desk.tokens_needed_m(obs)
        out = Intents()
        own_m = 0.0
        if self.own_model_state == "serving":
            own_m = tokens_m * p.own_model_share
            hours = own_m / (p.own_tokens_per_hour * self.tech.inference_factor(obs.quarter))
            out.orders.append(
                Order(
                    Market.COMPUTE,
                    Side.BID,
                    self.firm_id,
                    obs.compute_price * 2.0,
                    hours,
                    tag="inference",
                )
            )
        elif self.own_model_state == "training":
            hours = p.own_model_budget_usd / p.own_model_quarters / max(obs.compute_price, 0.01)
            out.orders.append(
                Order(
                    Market.COMPUTE,
                    Side.BID,
                    self.firm_id,
                    obs.compute_price * 1.3,
                    hours,
                    tag="training",
                )
            )
        qtok = (tokens_m - own_m) * value
        if qtok > 0:
            # it pays up to token_bid_factor times what a seat earns per token it uses
            revenue = math.fsum(
                plan.seats_expected * plan.price for plan in self.desk.plans.values()
            )
            per_qtoken = revenue / max(tokens_m * value, 1e-12)
            out.orders.append(
                Order(
                    Market.TOKENS,
                    Side.BID,
                    self.firm_id,
                    per_qtoken * p.token_bid_factor,
                    qtok,
                    tag="inference",
                    factor=value,
                )
            )
        return out

    def receive(self, fills: list[Fill], obs: Observation) -> None:
        for fill in fills:
            match fill.market, fill.side:
                case Market.TOKENS, Side.BID:
                    self.tokens_bought_q += fill.qty
                case Market.COMPUTE, Side.BID if fill.tag == "inference":
                    self.own_hours += fill.qty / fill.counter_factor
                case Market.PLANS, Side.ASK:
                    self.desk.receive(fill)

    def asks(self, market: Market, obs: Observation) -> list[Order]:
        if market is not Market.PLANS:
            return []
        p: AppParams = self.params
        value = self.tech.token_value(self.quality)
        tokens_m = self.tokens_bought_q / value if value > 0 else 0.0
        if self.own_model_state == "serving":
            tokens_m += (
                self.own_hours * p.own_tokens_per_hour * self.tech.inference_factor(obs.quarter)
            )
        return self.desk.asks(
            self.firm_id, tokens_m, obs, obs.segments_quality_factor(self.quality)
        )

    def learn(self, signals: list[DemandSignal], obs: Observation) -> None:
        self.desk.learn(signals)

    def close(self, obs: Observation) -> Intents:
        p: AppParams = self.params
        out = Intents()
        out.pay("world:labour", p.sga_usd, "sga", "sga")
        self.desk.close_quarter()
        self.tokens_bought_q = 0.0
        self.own_hours = 0.0
        return out

    def closed(self, books, cash_usd: float, obs: Observation) -> None:
        super().closed(books, cash_usd, obs)
        p: AppParams = self.params
        revenue, token_cost = books.revenue, books.cost_of_revenue
        self.last_burn = max(0.0, -books.operating_income)
        if (
            p.own_model
            and self.own_model_state == "none"
            and revenue > 0
            and token_cost / revenue > p.own_model_trigger
            and self.cash > p.own_model_budget_usd
        ):
            self.own_model_state = "training"
            self.training_left = p.own_model_quarters
            self.notes.append(
                f"{self.name} starts training its own model to cut its token "
                f"bill ({token_cost / revenue:.2f} per $ of revenue)"
            )
        elif self.own_model_state == "training":
            self.training_left -= 1
            if self.training_left <= 0:
                self.own_model_state = "serving"
                self.notes.append(
                    f"{self.name}'s own model now serves {p.own_model_share:.0%} of its requests"
                )

    def funding_requests(self, obs: Observation) -> list[FundingRequest]:
        p: AppParams = self.params
        if self.cash < p.runway_quarters * self.last_burn:
            top_up = 2.0 * p.runway_quarters * self.last_burn - self.cash
            return [FundingRequest("equity", top_up)]
        return []
