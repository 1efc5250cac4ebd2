"""The economy: the Mesa model that runs one quarter as a numbered protocol.

Firms decide, the auctioneer clears, settlement books the money, the economy orchestrates. Each
phase of :meth:`Economy.step` is a function of what the phases before it produced; no firm calls
the economy or touches another firm. See ``docs/model.md`` for every rule with its source.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from agents.base import Firm
from agents.demand import ChipBuyers, Investors, Segment
from agents.labs import Lab
from agents.protocol import (
    DemandSignal,
    FundingRequest,
    Intents,
    Observation,
    Order,
    SegmentsView,
    SegmentView,
)
from agents.registry import role_class
from agents.strategies import make_strategy
from agents.supply import ChipDesigner, Foundry
from agents.technology import Technology
from economy.clearing import Clearer, Trades, dollar_weight
from economy.contracts import ContractBook, deliver
from economy.delivery import deliver_fills
from economy.exits import exit_closed, exit_defaulted
from economy.records import Recorder
from economy.settlement import Settlement
from market.calendar import period_of, quarter_of
from market.catalogue import PRODUCING_LAYERS, RULE, Layer, Market, Side
from market.ledger import Ledger

if TYPE_CHECKING:
    from agents.world import Program, World

#: the flow kind of a payment for each market's trades
TRADE_KIND: dict[Market, str] = {
    Market.FOUNDRY: "foundry_slots",
    Market.CHIPS: "chip_sale",
    Market.CUSTOM: "chip_sale",
    Market.COMPUTE: "compute_rental",
    Market.TOKENS: "token_sale",
    Market.PLANS: "subscription",
}


def firm_seed(seed: int, firm_id: str) -> np.random.SeedSequence:
    """A firm's own random stream: the run's seed, keyed by the firm's id (not its place in the
    roster), so that adding or reordering firms leaves every other firm's draws unchanged."""
    key = int.from_bytes(hashlib.sha256(firm_id.encode()).digest()[:8], "big")
    return np.random.SeedSequence(seed, spawn_key=(key,))


class Economy(mesa.Model):
    """The AI value chain: one step is one quarter.

    Args:
        scenario: a validated scenario (:class:`agents.world.World`; made by
            :func:`runs.load_scenario`).
        seed: the run's seed; each firm draws from its own stream spawned from it.
        keep_orders: also record every order (for the app's quarter inspector).
    """

    def __init__(self, scenario: World, seed: int = 0, keep_orders: bool = False) -> None:
        super().__init__(rng=seed)
        self.config = scenario
        self.seed = seed
        self.quarter = 0
        self.tech: Technology = scenario.technology
        self.demand_multiplier = scenario.demand.multiplier
        self.ledger = Ledger()
        self.recorder = Recorder(self, keep_orders=keep_orders)
        self.firms: dict[str, Firm] = {}
        self.programs: list[Program] = [scenario.programs[k] for k in sorted(scenario.programs)]
        self.ended_programs: set[str] = set()
        self.contracts = ContractBook()  # signed take-or-pay compute contracts
        self.investors: Investors | None = None
        self._events_by_quarter: dict[int, list[Any]] = defaultdict(list)
        for event in scenario.events:
            self._events_by_quarter[quarter_of(scenario.start, event.period)].append(event)
        self._build_firms()
        self.settlement = Settlement(
            self.ledger,
            {f: self.account_of(firm) for f, firm in self.firms.items()},
            [f for f, firm in self.firms.items() if firm.layer in PRODUCING_LAYERS],
        )
        m = scenario.markets
        self.clearer = Clearer(RULE, 0.0, m.choice_set, self.recorder.market)  # every rule posted
        self.prices = {
            Market.COMPUTE: m.compute_price_usd,
            Market.TOKENS: m.token_price_usd,
            Market.CHIPS: self._merchant_list_price(),
            Market.FOUNDRY: self._foundry_price(),
        }
        self.last_revenue = 0.0
        self.frontier_value_start: float | None = None
        self.seats_sold: dict[str, float] = {}
        #: per segment, users' weight on a dollar of plan price (a logit in dollars), fixed at
        #: the segment's opening prices
        self.plan_per_usd: dict[str, float] = {}

    @property
    def clearings(self):
        """Every book cleared so far this run, by (market, book): the last clearing of each."""
        return self.clearer.books

    # ---------------------------------------------------------------------------------------------
    # construction
    def _build_firms(self) -> None:
        for firm_id in sorted(self.config.firms):
            spec = self.config.firms[firm_id]
            cls = role_class(spec.role)
            rng = np.random.default_rng(firm_seed(self.seed, firm_id))
            opening = getattr(spec.params, "opening_cash_usd", 0.0)
            firm = cls(
                self,
                firm_id,
                spec.name,
                spec.params,
                make_strategy(spec.strategy),
                spec.parent,
                self.tech,
                rng,
                opening,
            )
            self.firms[firm_id] = firm
            if firm.layer in PRODUCING_LAYERS:
                self.ledger.open_account(firm_id, opening)
                firm.cash = self.ledger.balance_usd(firm_id)
            if isinstance(firm, Investors):
                self.investors = firm
        # which firms read their fills: any whose class overrides the base's no-op receive
        self._listens = {
            f: type(firm).receive is not Firm.receive for f, firm in self.firms.items()
        }

    def _merchant_list_price(self) -> float:
        prices = [
            f.price / f.params.effective_perf
            for f in self.firms.values()
            if isinstance(f, ChipDesigner) and f.params.merchant
        ]
        return min(prices) if prices else 25000.0

    def _foundry_price(self) -> float:
        prices = [f.price for f in self.firms.values() if isinstance(f, Foundry)]
        return prices[0] if prices else 1500.0

    def account_of(self, firm: Firm) -> str:
        match firm.layer:
            case Layer.CUSTOMERS:
                return "world:customers"
            case Layer.CAPITAL:
                return "world:investors"
            case _:
                return firm.firm_id

    def active(self, kind: type | None = None) -> list[Firm]:
        """Firms still in business (of ``kind``), in sorted order of their ids."""
        return [
            f for f in self.firms.values() if not f.gone and (kind is None or isinstance(f, kind))
        ]

    def log_event(self, firm: Firm | None, text: str, kind: str = "decision") -> None:
        self.recorder.event(self.quarter, firm.firm_id if firm else "", kind, text)

    # ---------------------------------------------------------------------------------------------
    # the protocol
    def step(self) -> None:
        """One quarter, in the order of the protocol (docs/model.md §2)."""
        self.settlement.begin_quarter(self.quarter)
        obs = self.publish()  # 1
        decided = self.decide(obs)  # 2
        trades: dict[Market, Trades] = {}
        signals: dict[str, list[DemandSignal]] = defaultdict(list)
        orders = self.orders_by_market(decided)
        self.clear_homogeneous(obs, Market.FOUNDRY, orders, trades, signals)  # 3a
        self.clear_chips(obs, orders, trades, signals)  # 3b
        self.clear_compute(obs, orders, trades, signals)  # 4
        self.clear_tokens(obs, orders, trades, signals)  # 5–6
        self.clear_plans(obs, orders, trades, signals)  # 7
        self.learn(obs, signals)
        closing = {f.firm_id: f.close(obs) for f in self.active()}  # 8
        self.contracts.sign(closing, self.firms, self.log_event)
        self.settle(obs, decided, closing, trades)  # 9
        self.fund(obs)  # 10
        exit_defaulted(self.active(), self.quarter, self.settlement, self.log_event)  # 11
        exit_closed(self.active(), obs, self.log_event)
        self.recorder.record(obs, self.settlement.books)  # 12
        self.quarter += 1

    # 1 -------------------------------------------------------------------------------------------
    def publish(self) -> Observation:
        for event in self._events_by_quarter.get(self.quarter, []):
            self.apply_event(event)
        demand = self.config.demand
        segments = SegmentsView()
        for firm in self.active():
            if isinstance(firm, Segment | ChipBuyers):
                firm.begin_quarter(
                    self.quarter, self.demand_multiplier, demand.growth_half_life_years
                )
            if isinstance(firm, Segment):
                users = firm.users()
                segments[firm.firm_id] = SegmentView(
                    users=users,
                    tokens_per_seat=firm.tokens_per_seat(self.quarter),
                    free_tokens_per_user=firm.free_tokens_per_user(self.quarter),
                    ads_usd_per_free_user=firm.params.ads_usd_per_free_user,
                    user_growth_q=users / max(firm.users_before(), 1.0) - 1.0,
                    seats_sold=self.seats_sold.get(firm.firm_id, 0.0),
                )
        labs = [f for f in self.active(Lab) if f.layer is Layer.LAB]
        api_q = [f.quality for f in labs if f.params.sells_api and not f.params.open_weights]
        open_q = [f.quality for f in labs if f.params.open_weights]
        ref = self.tech.reference_quality
        return Observation(
            quarter=self.quarter,
            period=period_of(self.config.start, self.quarter),
            tech=self.tech,
            foundry_price=self.prices[Market.FOUNDRY],
            chip_price=self.prices[Market.CHIPS],
            compute_price=self.prices[Market.COMPUTE],
            token_price=self.prices[Market.TOKENS],
            reference_compute_price=self.config.markets.compute_price_usd,
            reference_token_price=self.token_reference_price(api_q + open_q),
            best_api_quality=max(api_q) if api_q else ref,
            open_quality=max(open_q) if open_q else ref - 5.0,
            frontier_quality=max(api_q + open_q, default=ref),
            frontier_stock=max((f.stock for f in labs), default=0.0),
            seat_quality_elasticity=demand.seat_quality_elasticity,
            demand_noise=demand.noise,
            segments=segments,
            programs=tuple(self.live_programs()),
            contracts=tuple(self.contracts.live(self.quarter, self.firms, self.log_event)),
        )

    def live_programs(self) -> list[Program]:
        """Programmes running this quarter: started, not ended, with both parties in business."""
        out = []
        for program in self.programs:
            owner, partner = self.firms.get(program.owner), self.firms.get(program.partner)
            if program.name in self.ended_programs or not program.active(self.quarter):
                continue
            if owner is None or partner is None or owner.gone or partner.gone:
                self.ended_programs.add(program.name)
                gone = partner if partner is not None and partner.gone else owner
                why = "has closed" if gone is not None and gone.exited else "has defaulted"
                who = gone.name if gone else "a party"
                self.log_event(
                    owner,
                    f"{program.text or program.name} ends: {who} {why}",
                    "scripted",
                )
                continue
            quote = 0.0  # no chips yet during the design's lead time
            if program.delivering(self.quarter):
                quote = partner.program_quote(program, self.quarter, self.prices[Market.FOUNDRY])
            out.append(replace(program, quote_usd=quote))
        return out

    def token_reference_price(self, qualities: list[float]) -> float:
        """Where API buyers' demand curve is anchored, per M quality-adjusted tokens.

        It starts at ``markets.token_price_usd`` and follows the cost of serving a
        quality-adjusted token at the frontier: down with inference efficiency and with the
        frontier's token value. Buyers budget in dollars for raw tokens of the best model, so
        their curve in quality-adjusted units moves as quality rises.
        """
        value = self.tech.token_value(max(qualities, default=self.tech.reference_quality))
        if self.frontier_value_start is None:
            self.frontier_value_start = value
        return (
            self.config.markets.token_price_usd
            * self.frontier_value_start
            / value
            / self.tech.inference_factor(self.quarter)
        )

    def apply_event(self, event: Any) -> None:
        """Scripted events: data from the scenario, applied at the start of their quarter."""
        firm = self.firms.get(event.firm) if event.firm else None
        match event.kind:
            case "sentiment":
                if self.investors is not None:
                    self.investors.sentiment = event.value
            case "set":
                firm.params = replace(firm.params, **{event.key: event.value})
            case "launch_app":
                firm.launch_app(event.segment, event.value)
            case "demand":
                self.demand_multiplier = event.value
        self.log_event(firm, event.text or f"{event.kind} {event.key} = {event.value}", "scripted")

    # 2 -------------------------------------------------------------------------------------------
    def decide(self, obs: Observation) -> dict[str, Intents]:
        decided = {f.firm_id: f.decide(obs) for f in self.active()}
        for program in obs.programs:
            if program.quarter_started(self.quarter):
                owner = self.firms[program.owner]
                if program.nre_usd > 0:
                    decided[owner.firm_id].pay(
                        program.partner, program.nre_usd, "custom_chip_nre", "other_opex"
                    )
                self.log_event(
                    owner,
                    f"{program.text or program.name} starts: "
                    f"{program.owner} buys custom chips from {program.partner}",
                    "scripted",
                )
        self._collect_notes()
        return decided

    def orders_by_market(self, decided: dict[str, Intents]) -> dict[Market, list[Order]]:
        orders: dict[Market, list[Order]] = {m: [] for m in Market}
        for intents in decided.values():
            for order in intents.orders:
                if order.qty > 0 and math.isfinite(order.price) and order.price >= 0:
                    orders[order.market].append(order)
        return orders

    def _collect_notes(self) -> None:
        for firm in self.firms.values():
            for text in firm.notes:
                self.log_event(firm, text)
            firm.notes.clear()

    # 3–7 -----------------------------------------------------------------------------------------
    def _deliver(self, market: Market, market_trades: Trades, obs: Observation) -> None:
        """Tell every firm its fills in ``market`` (a firm that does not read its fills, the
        base class's no-op ``receive``, is not sent them)."""
        deliver_fills(market, market_trades, self.firms, self._listens, obs)

    def _asks(self, market: Market, obs: Observation) -> list[Order]:
        return [
            o
            for f in self.active()
            for o in f.asks(market, obs)
            if o.qty >= 0 and math.isfinite(o.price)
        ]  # an ask of nothing still learns its demand (a partner before its first chips)

    def clear_homogeneous(
        self,
        obs: Observation,
        market: Market,
        orders: dict[Market, list[Order]],
        trades: dict[Market, Trades],
        signals: dict[str, list[DemandSignal]],
        book: str = "",
    ) -> None:
        bids = [o for o in orders[market] if o.side is Side.BID and o.book == book]
        asks = [o for o in orders[market] if o.side is Side.ASK and o.book == book]
        market_trades, book_signals = self.clearer.homogeneous(market, book, bids, asks)
        trades.setdefault(market, Trades()).extend(market_trades)
        for firm_id, signal in book_signals:
            signals[firm_id].append(signal)
        self._deliver(market, market_trades, obs)
        volume = market_trades.volume()
        if volume > 0 and market in self.prices and not book:
            self.prices[market] = market_trades.value() / volume

    def clear_chips(
        self,
        obs: Observation,
        orders: dict[Market, list[Order]],
        trades: dict[Market, Trades],
        signals: dict[str, list[DemandSignal]],
    ) -> None:
        for market in (Market.CHIPS, Market.CUSTOM):
            orders[market] += self._asks(market, obs)
        self.clear_differentiated(
            obs, Market.CHIPS, orders, trades, signals, self.config.markets.chip_choice_elasticity
        )
        for program in obs.programs:
            self.clear_homogeneous(obs, Market.CUSTOM, orders, trades, signals, program.name)

    def clear_compute(
        self,
        obs: Observation,
        orders: dict[Market, list[Order]],
        trades: dict[Market, Trades],
        signals: dict[str, list[DemandSignal]],
    ) -> None:
        """Rented hours: differentiated clouds (logit shares over their quality-adjusted asks)
        unless ``markets.compute_choice_elasticity`` is 0, when hours are one homogeneous good."""
        contracted = deliver(obs.contracts, orders[Market.COMPUTE])
        volume = contracted.volume()
        if volume > 0:
            price = contracted.value() / volume
            self.recorder.market_total(
                self.quarter, Market.COMPUTE, "contracts", price, volume, [], []
            )
        trades[Market.COMPUTE] = contracted
        self._deliver(Market.COMPUTE, contracted, obs)
        self.clear_differentiated(
            obs,
            Market.COMPUTE,
            orders,
            trades,
            signals,
            self.config.markets.compute_choice_elasticity,
        )

    def clear_differentiated(
        self,
        obs: Observation,
        market: Market,
        orders: dict[Market, list[Order]],
        trades: dict[Market, Trades],
        signals: dict[str, list[DemandSignal]],
        elasticity: float,
    ) -> None:
        """Chips or hours from differentiated sellers (logit shares over their asks per
        effective unit); with ``elasticity`` 0 one homogeneous book."""
        if elasticity <= 0:
            self.clear_homogeneous(obs, market, orders, trades, signals)
            return
        bids = [o for o in orders[market] if o.side is Side.BID and not o.book]
        asks = [o for o in orders[market] if o.side is Side.ASK and not o.book]
        market_trades, book_signals, price, volume = self.clearer.differentiated(
            market, "", bids, asks, [1.0] * len(asks), elasticity, capacity_bound=True
        )
        self.recorder.market_total(self.quarter, market, "", price, volume, bids, asks)
        trades.setdefault(market, Trades()).extend(market_trades)
        for firm_id, signal in book_signals:
            signals[firm_id].append(signal)
        self._deliver(market, market_trades, obs)
        if not math.isnan(price):
            self.prices[market] = price

    def clear_tokens(
        self,
        obs: Observation,
        orders: dict[Market, list[Order]],
        trades: dict[Market, Trades],
        signals: dict[str, list[DemandSignal]],
    ) -> None:
        bids = orders[Market.TOKENS]
        asks = self._asks(Market.TOKENS, obs)
        appeal = [getattr(self.firms[a.firm].params, "api_appeal", 1.0) for a in asks]
        elasticity = self.config.markets.token_choice_elasticity
        market_trades, book_signals, price, volume = self.clearer.differentiated(
            Market.TOKENS, "", bids, asks, appeal, elasticity
        )
        self.recorder.market_total(self.quarter, Market.TOKENS, "", price, volume, bids, asks)
        trades[Market.TOKENS] = market_trades
        for firm_id, signal in book_signals:
            signals[firm_id].append(signal)
        self._deliver(Market.TOKENS, market_trades, obs)
        if not math.isnan(price):
            self.prices[Market.TOKENS] = price

    def clear_plans(
        self,
        obs: Observation,
        orders: dict[Market, list[Order]],
        trades: dict[Market, Trades],
        signals: dict[str, list[DemandSignal]],
    ) -> None:
        asks = self._asks(Market.PLANS, obs)
        m = self.config.markets
        elasticity = m.plan_choice_elasticity
        trades[Market.PLANS] = Trades()
        self.seats_sold = {}
        for segment in obs.segments:
            seg_bids = [b for b in orders[Market.PLANS] if b.book == segment]
            seg_asks = [a for a in asks if a.book == segment]
            if not seg_bids and not seg_asks:
                continue
            market_trades, book_signals, price, volume = self.clearer.differentiated(
                Market.PLANS,
                segment,
                seg_bids,
                seg_asks,
                [1.0] * len(seg_asks),
                elasticity,
                per_usd=dollar_weight(
                    self.plan_per_usd, segment, seg_asks, elasticity, m.plan_choice_in
                ),
            )
            self.recorder.market_total(
                self.quarter, Market.PLANS, segment, price, volume, seg_bids, seg_asks
            )
            trades[Market.PLANS].extend(market_trades)
            for firm_id, signal in book_signals:
                signals[firm_id].append(signal)
            self.seats_sold[segment] = volume
        self._deliver(Market.PLANS, trades[Market.PLANS], obs)

    def learn(self, obs: Observation, signals: dict[str, list[DemandSignal]]) -> None:
        for firm in self.active():
            firm.learn(signals.get(firm.firm_id, []), obs)

    # 8–9 -----------------------------------------------------------------------------------------
    def settle(
        self,
        obs: Observation,
        decided: dict[str, Intents],
        closing: dict[str, Intents],
        trades: dict[Market, Trades],
    ) -> None:
        """The one phase that writes money: trades, then each firm's payments and accruals,
        then advertising; then every firm is told its books and cash."""
        for market in Market:
            self.settlement.trades(trades.get(market, Trades()), TRADE_KIND[market])
        for firm_id in sorted(decided):
            self.settlement.intents(firm_id, decided[firm_id])
            self.settlement.intents(firm_id, closing[firm_id])
            for segment, users in sorted(closing[firm_id].ad_users.items()):
                rate = obs.segments[segment].ads_usd_per_free_user
                self.settlement.advertising(firm_id, users * rate)
        for firm in self.active():
            if firm.layer in PRODUCING_LAYERS:
                books = self.settlement.books[firm.firm_id]
                firm.closed(books, self.settlement.cash_usd(firm.firm_id), obs)
        self._collect_notes()

    # 10 ------------------------------------------------------------------------------------------
    def fund(self, obs: Observation) -> None:
        producing = [f for f in self.active() if f.layer in PRODUCING_LAYERS]
        for firm in producing:
            for request in firm.funding_requests(obs):
                self._grant(firm, request)
        books = self.settlement.books
        revenue = math.fsum(books[f.firm_id].revenue for f in producing)
        burn = math.fsum(max(0.0, -books[f.firm_id].operating_income) for f in producing)
        if self.investors is not None:
            growth = revenue / self.last_revenue - 1.0 if self.last_revenue > 0 else 0.0
            self.investors.update(growth * 4.0 if growth < 0.5 else 2.0, burn / max(revenue, 1.0))
        self.last_revenue = revenue

    def _grant(self, firm: Firm, request: FundingRequest) -> None:
        if not request.amount_usd > 0:
            return
        investors = self.investors
        match request.kind:
            case "parent":
                granted = request.amount_usd
            case "loan":
                granted = investors.lend(request.amount_usd) if investors else request.amount_usd
            case _:
                revenue = self.settlement.books[firm.firm_id].revenue
                granted = (
                    investors.grant(request.amount_usd, revenue)
                    if investors
                    else request.amount_usd
                )
        paid = self.settlement.fund(firm.firm_id, request.kind, granted)
        if paid > 0:
            firm.funded(request.kind, paid, self.settlement.cash_usd(firm.firm_id))
            if request.kind == "equity":
                self.log_event(firm, f"{firm.name} raises ${paid / 1e9:,.1f}B", "funding")

    # 11 ------------------------------------------------------------------------------------------
