"""Selling seats to end users: the plan desk every app and lab app uses, and the apps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agents.base import Firm, Layer, Market, Order, Side, param

if TYPE_CHECKING:
    from agents.protocol import Observation


@dataclass(slots=True)
class Plan:
    """One plan in one customer segment: its price per seat-quarter and what it sold."""

    segment: str
    price: float
    seats_expected: float
    seats_sold: float = 0.0
    last_sold: float = 0.0      # seats sold last quarter (what pricing and forecasts read)
    seats_wanted: float = 0.0   # demand at its price, served or rationed
    last_profit: float = 0.0
    direction: float = 1.0


class PlanDesk:
    """Plans of one seller across segments, priced by tâtonnement or profit hill-climbing.

    Seats expected next quarter follow the demand it saw at its price, but grow at most 50%
    beyond what it served or prepared for (onboarding, support and capacity take time).

    * ``flat`` pricing: the price rises when more users want the plan than it can serve, and
      falls when seats it prepared for go unsold (Walrasian tâtonnement, Walras 1874).
    * ``usage`` pricing: the price passes the seller's token cost per seat (smoothed over
      quarters) through with a markup that is learned by hill-climbing on gross profit (a
      simple learning rule after Cyert & March 1963: keep moving the way that raised profit,
      turn when it fell).
    """

    def __init__(self, segments: dict[str, float], pricing: str, speed: float,
                 quality_bonus: float) -> None:
        self.plans = {s: Plan(s, price, 0.0) for s, price in segments.items()}
        self.pricing = pricing
        self.speed = speed
        self.quality_bonus = quality_bonus
        self.markup = 1.3
        self.max_scaleup = 0.5          # seats it can add beyond last quarter's, as a share
        self.token_cost_per_m = 0.0     # the token cost per M tokens it plans on (smoothed)

    def close_quarter(self) -> None:
        for plan in self.plans.values():
            plan.last_sold, plan.seats_sold = plan.seats_sold, 0.0

    def forecast(self, obs: Observation) -> None:
        for plan in self.plans.values():
            seg = obs.segments[plan.segment]
            wanted = max(plan.seats_wanted, plan.last_sold)
            base = wanted if wanted > 0 else 0.02 * seg.users
            # a seller scales at most ``max_scaleup`` beyond what it served or prepared for
            ceiling = (1.0 + self.max_scaleup) * max(plan.last_sold, plan.seats_expected)
            if ceiling > 0:
                base = min(base, ceiling)
            plan.seats_expected = base * (1.0 + seg.user_growth_q)

    def reprice(self, obs: Observation, token_cost_per_m: float) -> None:
        # the token cost it plans on is smoothed over quarters (adaptive expectations)
        if self.token_cost_per_m <= 0:
            self.token_cost_per_m = token_cost_per_m
        self.token_cost_per_m += 0.3 * (token_cost_per_m - self.token_cost_per_m)
        for plan in self.plans.values():
            seg = obs.segments[plan.segment]
            if self.pricing == "usage":
                plan.price = seg.tokens_per_seat * self.token_cost_per_m * self.markup
                continue
            served = max(plan.last_sold, 1.0)
            excess = (plan.seats_wanted - served) / served
            excess = max(-0.5, min(0.5, excess))
            plan.price = max(1.0, plan.price * (1.0 + self.speed * excess))

    def learn(self, gross_profit: float) -> None:
        if self.pricing != "usage":
            return
        plan = next(iter(self.plans.values()), None)
        if plan is None:
            return
        if gross_profit < plan.last_profit:
            plan.direction = -plan.direction
        plan.last_profit = gross_profit
        self.markup = max(1.0, min(5.0, self.markup * (1.0 + 0.05 * plan.direction)))

    def asks(self, firm_id: str, tokens_m: float, obs: Observation,
             quality_factor: float) -> list[Order]:
        """Offer the seats ``tokens_m`` M tokens can serve, shared across plans by the tokens
        each plan's expected seats need (a coding seat uses far more than a chat seat)."""
        need = {name: plan.seats_expected * obs.segments[plan.segment].tokens_per_seat
                for name, plan in self.plans.items()}
        total = sum(need.values())
        out = []
        for name, plan in self.plans.items():
            per_seat = obs.segments[plan.segment].tokens_per_seat
            share = need[name] / total if total > 0 else 0.0
            seats = tokens_m * share / per_seat if per_seat > 0 else 0.0
            if seats <= 0:
                continue
            factor = quality_factor * self.quality_bonus
            out.append(Order(Market.PLANS, Side.ASK, firm_id, plan.price / factor, seats,
                             book=plan.segment, factor=factor))
        return out


@dataclass(frozen=True, slots=True)
class AppParams:
    segments: dict[str, float] = field(
        default_factory=lambda: {"developer": 60.0},
        metadata={"lo": 0.0, "doc": "segment → starting plan price per seat a quarter (USD)"})
    pricing: str = field(default="flat", metadata={"allowed": ("flat", "usage"),
                                                   "doc": "flat seat price or usage-based"})
    price_speed: float = param(0.10, 0.0, 1.0, "plan-price response to excess demand a quarter")
    product_fit: float = param(1.0, 0.1, 5.0, "how much users value the app beyond its model")
    token_bid_factor: float = param(
        3.0, 1.0, 20.0, "most it pays per token, as a multiple of what a seat earns per token")
    own_model: bool = param(
        True, doc="may train its own model when buying tokens eats its revenue")
    own_model_trigger: float = param(
        0.9, 0.1, 5.0, "token cost per dollar of revenue that triggers its own model")
    own_model_budget_usd: float = param(3e8, 0.0, 1e11, "training spend of its own model")
    own_model_quarters: int = param(3, 1, 12, "quarters of training before the model serves")
    own_model_share: float = param(
        0.5, 0.0, 1.0, "share of its tokens its own model can serve (the simpler requests)")
    own_tokens_per_hour: float = param(
        8.0, 0.01, 1e4, "M tokens per H100e-hour its small model serves, at start")
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
        self.desk = PlanDesk(dict(p.segments), p.pricing, p.price_speed, p.product_fit)
        self.tokens_bought_q = 0.0      # quality-adjusted M tokens bought this quarter
        self.own_hours = 0.0
        self.own_model_state = "none"  # none → training → serving
        self.training_left = 0
        self.quality = 0.0
        self.last_burn = 0.0

    def decide(self, obs: Observation) -> list[Order]:
        p: AppParams = self.params
        self.quality = obs.best_api_quality
        self.desk.forecast(obs)
        self.desk.reprice(obs, self.token_cost_per_m_raw(obs))
        tokens_m = sum(plan.seats_expected * obs.segments[plan.segment].tokens_per_seat
                       for plan in self.desk.plans.values())
        orders = []
        own_m = 0.0
        if self.own_model_state == "serving":
            own_m = tokens_m * p.own_model_share
            hours = own_m / (p.own_tokens_per_hour * self.model.tech.inference_factor(obs.quarter))
            orders.append(Order(Market.COMPUTE, Side.BID, self.firm_id,
                                obs.compute_price * 2.0, hours, tag="inference"))
        elif self.own_model_state == "training":
            hours = p.own_model_budget_usd / p.own_model_quarters / max(obs.compute_price, 0.01)
            orders.append(Order(Market.COMPUTE, Side.BID, self.firm_id,
                                obs.compute_price * 1.3, hours, tag="training"))
        value = self.model.tech.token_value(self.quality)
        qtok = (tokens_m - own_m) * value
        if qtok > 0:
            # it pays up to token_bid_factor times what a seat earns per token it uses
            seats = sum(plan.seats_expected for plan in self.desk.plans.values())
            revenue = sum(plan.seats_expected * plan.price for plan in self.desk.plans.values())
            per_qtoken = revenue / max(tokens_m * value, 1e-12) if seats > 0 else 0.0
            orders.append(Order(Market.TOKENS, Side.BID, self.firm_id,
                                per_qtoken * p.token_bid_factor, qtok, tag="inference"))
        return orders

    def token_cost_per_m_raw(self, obs: Observation) -> float:
        return obs.token_price * self.model.tech.token_value(obs.best_api_quality)

    def on_tokens(self, qtokens: float) -> None:
        self.tokens_bought_q += qtokens

    def on_compute(self, hours: float, tag: str) -> None:
        if tag == "inference":
            self.own_hours += hours

    def plan_asks(self, obs: Observation) -> list[Order]:
        p: AppParams = self.params
        value = self.model.tech.token_value(self.quality)
        tokens_m = self.tokens_bought_q / value if value > 0 else 0.0
        if self.own_model_state == "serving":
            tokens_m += self.own_hours * p.own_tokens_per_hour * \
                self.model.tech.inference_factor(obs.quarter)
        return self.desk.asks(self.firm_id, tokens_m, obs,
                              obs.segments_quality_factor(self.quality))

    def on_plan_demand(self, segment: str, wanted: float) -> None:
        self.desk.plans[segment].seats_wanted = wanted

    def on_seats(self, segment: str, seats: float) -> None:
        self.desk.plans[segment].seats_sold += seats

    def end_quarter(self, obs: Observation) -> None:
        p: AppParams = self.params
        self.model.settle(self, "world:labour", p.sga_usd, "sga", payer_line="sga")
        self.desk.learn(self.books.gross_profit)
        revenue = self.books.revenue
        token_cost = self.books.cost_of_revenue
        if (p.own_model and self.own_model_state == "none" and revenue > 0
                and token_cost / revenue > p.own_model_trigger
                and self.cash > p.own_model_budget_usd):
            self.own_model_state = "training"
            self.training_left = p.own_model_quarters
            self.model.log_event(self, f"{self.name} starts training its own model to cut "
                                 f"its token bill ({token_cost / revenue:.2f} per $ of revenue)")
        elif self.own_model_state == "training":
            self.training_left -= 1
            if self.training_left <= 0:
                self.own_model_state = "serving"
                self.model.log_event(self, f"{self.name}'s own model now serves "
                                     f"{p.own_model_share:.0%} of its requests")
        self.desk.close_quarter()
        self.tokens_bought_q = 0.0
        self.own_hours = 0.0
        self.last_burn = max(0.0, -(self.books.operating_income))

    def funding_need(self, obs: Observation) -> float:
        p: AppParams = self.params
        if self.cash < p.runway_quarters * self.last_burn:
            return 2.0 * p.runway_quarters * self.last_burn
        return 0.0
