"""The economy: the Mesa model that runs one quarter as a numbered protocol.

Firms decide, the auctioneer clears, the ledger settles, the economy orchestrates. See
``docs/model.md`` for every rule with its source.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from agents.apps import App
from agents.base import Firm, Order
from agents.compute import Cloud
from agents.demand import Investors, Segment
from agents.labs import Lab
from agents.protocol import Observation, SegmentsView, SegmentView
from agents.registry import role_class
from agents.strategies import make_strategy
from agents.supply import ChipDesigner, Foundry
from agents.technology import Technology
from economy.records import Recorder
from market.auction import Clearing, clear
from market.calendar import period_of, quarter_of
from market.catalogue import PRODUCING_LAYERS, RULE, Layer, Market, Side
from market.ledger import Ledger

if TYPE_CHECKING:
    from agents.world import Program, World

#: income-statement line each kind of purchase is booked to, by the order's tag
TAG_LINE: dict[str, str | None] = {
    "capex": "capex", "inventory": None, "training": "rnd", "inference": "cost_of_revenue",
    "free_tier": "cost_of_revenue", "api": None, "compute": None, "plan": None,
}


class Economy(mesa.Model):
    """The AI value chain: one step is one quarter.

    Args:
        scenario: a validated scenario (:class:`agents.world.World`; made by
            :func:`runs.load_scenario`).
        seed: the run's seed; every random draw comes from ``self.rng``.
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
        self.programs: list[Program] = list(scenario.programs.values())
        self.investors: Investors | None = None
        self._events_by_quarter: dict[int, list[Any]] = defaultdict(list)
        for event in scenario.events:
            self._events_by_quarter[quarter_of(scenario.start, event.period)].append(event)
        self._build_firms()
        m = scenario.markets
        self.prices = {Market.COMPUTE: m.compute_price_usd, Market.TOKENS: m.token_price_usd,
                       Market.CHIPS: self._merchant_list_price(),
                       Market.FOUNDRY: self._foundry_price()}
        self.token_demand_growth = 0.1
        self.last_token_volume = 0.0
        self.last_revenue = 0.0
        self.clearings: dict[tuple[str, str], Clearing] = {}
        self.frontier_value_start: float | None = None

    # ---------------------------------------------------------------------------------------------
    # construction
    def _build_firms(self) -> None:
        for firm_id, spec in self.config.firms.items():
            cls = role_class(spec.role)
            firm = cls(self, firm_id, spec.name, spec.params, make_strategy(spec.strategy),
                       spec.parent)
            self.firms[firm_id] = firm
            if firm.layer in PRODUCING_LAYERS:
                opening = getattr(spec.params, "opening_cash_usd", 0.0)
                self.ledger.open_account(firm_id, opening)
            if isinstance(firm, Investors):
                self.investors = firm
        for program in self.programs:
            owner = self.firms.get(program.owner)
            if owner is not None and hasattr(owner, "custom_programs"):
                owner.custom_programs.append(program)

    def _merchant_list_price(self) -> float:
        prices = [f.price / f.params.effective_perf for f in self.firms.values()
                  if isinstance(f, ChipDesigner) and f.params.merchant]
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
        return [f for f in self.firms.values()
                if not f.defaulted and (kind is None or isinstance(f, kind))]

    # ---------------------------------------------------------------------------------------------
    # money
    def settle(self, payer: Firm | str, payee: Firm | str, amount_usd: float, kind: str,
               payer_line: str | None = None, payee_line: str | None = None) -> int:
        """Step 8: book one payment in the ledger and on both income statements."""
        if not amount_usd > 0:
            return 0
        payer_firm = payer if isinstance(payer, Firm) else self.firms.get(payer)
        payee_firm = payee if isinstance(payee, Firm) else self.firms.get(payee)
        src = self.account_of(payer_firm) if payer_firm else payer
        dst = self.account_of(payee_firm) if payee_firm else payee
        cents = self.ledger.transfer(src, dst, amount_usd, kind)
        usd = cents / 100.0
        if payer_firm is not None and payer_line and payer_firm.layer in PRODUCING_LAYERS:
            payer_firm.books.add(payer_line, usd)
        if payee_firm is not None and payee_line and payee_firm.layer in PRODUCING_LAYERS:
            payee_firm.books.add(payee_line, usd)
        return cents

    def lend(self, firm: Firm, amount_usd: float) -> float:
        """Debt financing secured on the chips it buys: lenders lend in proportion to investor
        sentiment (not capped by revenue, as equity rounds are)."""
        granted = self.investors.lend(amount_usd) if self.investors else amount_usd
        cents = self.settle("world:lenders", firm, granted, "loan", payee_line="borrowing")
        return cents / 100.0

    def demand_shock(self) -> float:
        """A mean-one log-normal demand shock drawn from the run's generator (the only chance)."""
        sigma = self.config.demand.noise
        return math.exp(sigma * float(self.rng.standard_normal()) - 0.5 * sigma * sigma)

    def log_event(self, firm: Firm | None, text: str, kind: str = "decision") -> None:
        self.recorder.event(self.quarter, firm.firm_id if firm else "", kind, text)

    # ---------------------------------------------------------------------------------------------
    # the protocol
    def step(self) -> None:
        """One quarter, in the order of the protocol (docs/model.md §2)."""
        self.ledger.begin_quarter(self.quarter)
        obs = self.publish()                                   # 1
        orders = self.collect_decisions(obs)                   # 2
        self.clear_foundry(obs, orders[Market.FOUNDRY])        # 3a
        self.clear_chips(obs, orders)                          # 3b
        self.clear_compute(obs, orders[Market.COMPUTE])        # 4
        token_asks = self.produce_tokens(obs)                  # 5
        self.clear_tokens(obs, orders[Market.TOKENS], token_asks)  # 6
        self.clear_plans(obs, orders[Market.PLANS])            # 7
        # 8: every payment above was settled through self.settle as it cleared
        self.account(obs)                                      # 9
        self.exit_defaulted(obs)                               # 10 (before recording, so the
        self.recorder.record(obs)                              # 11  default shows this quarter)
        self.quarter += 1

    # 1 -------------------------------------------------------------------------------------------
    def publish(self) -> Observation:
        for event in self._events_by_quarter.get(self.quarter, []):
            self.apply_event(event)
        period = period_of(self.config.start, self.quarter)
        segments = SegmentsView()
        for seg in self.active(Segment):
            users = seg.users(self.quarter)
            segments[seg.firm_id] = SegmentView(
                users=users,
                tokens_per_seat=seg.tokens_per_seat(self.quarter),
                free_tokens_per_user=seg.free_tokens_per_user(self.quarter),
                ads_usd_per_free_user=seg.params.ads_usd_per_free_user,
                user_growth_q=users / max(seg.users(self.quarter - 1), 1.0) - 1.0,
                seats_sold=self.recorder.seats_last.get(seg.firm_id, 0.0),
            )
        labs = [f for f in self.active(Lab) if f.layer is Layer.LAB]
        self.frontier_stock = max((f.stock for f in labs), default=0.0)
        api_q = [f.quality for f in labs if f.params.sells_api and not f.params.open_weights]
        open_q = [f.quality for f in labs if f.params.open_weights]
        return Observation(
            quarter=self.quarter, period=period,
            foundry_price=self.prices[Market.FOUNDRY], chip_price=self.prices[Market.CHIPS],
            compute_price=self.prices[Market.COMPUTE], token_price=self.prices[Market.TOKENS],
            reference_compute_price=self.config.markets.compute_price_usd,
            reference_token_price=self.token_reference_price(api_q + open_q),
            token_demand_growth=self.token_demand_growth,
            best_api_quality=max(api_q) if api_q else self.tech.reference_quality,
            open_quality=max(open_q) if open_q else self.tech.reference_quality - 5.0,
            frontier_quality=max(api_q + open_q, default=self.tech.reference_quality),
            seat_quality_elasticity=self.config.demand.seat_quality_elasticity,
            reference_quality=self.tech.reference_quality,
            quality_doubling=self.tech.quality_doubling,
            segments=segments, programs=self.programs,
        )

    def token_reference_price(self, qualities: list[float]) -> float:
        """Where API buyers' demand curve is centred, per M quality-adjusted tokens.

        It starts at ``markets.token_price_usd`` and follows the cost of serving a
        quality-adjusted token at the frontier: down with inference efficiency and with the
        frontier's token value. Buyers budget in dollars for raw tokens of the best model, so
        their curve in quality-adjusted units moves as quality rises (a fixed curve would leave
        every ask below its lowest step within a few years).
        """
        value = self.tech.token_value(max(qualities, default=self.tech.reference_quality))
        if self.frontier_value_start is None:
            self.frontier_value_start = value
        return (self.config.markets.token_price_usd * self.frontier_value_start / value
                / self.tech.inference_factor(self.quarter))

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
    def collect_decisions(self, obs: Observation) -> dict[Market, list[Order]]:
        orders: dict[Market, list[Order]] = {m: [] for m in Market}
        for firm in self.active():
            for order in firm.decide(obs):
                if order.qty > 0 and np.isfinite(order.price):
                    orders[order.market].append(order)
        for program in self.programs:
            if program.quarter_started(self.quarter):
                owner = self.firms.get(program.owner)
                if owner is not None and program.nre_usd > 0:
                    self.settle(owner, program.partner, program.nre_usd, "custom_chip_nre",
                                payer_line="other_opex", payee_line="revenue")
                self.log_event(owner, f"{program.text or program.name} starts: "
                               f"{program.owner} buys custom chips from {program.partner}",
                               "scripted")
        return orders

    # 3 -------------------------------------------------------------------------------------------
    def _clear(self, market: Market, book: str, bids: list[Order], asks: list[Order],
               bid_qty=None, ask_qty=None) -> Clearing:
        """Clear one book; ``bid_qty``/``ask_qty`` replace the orders' quantities (sub-books)."""
        bid_qty = [o.qty for o in bids] if bid_qty is None else bid_qty
        ask_qty = [o.qty for o in asks] if ask_qty is None else ask_qty
        res = clear([o.price for o in bids], bid_qty, [o.price for o in asks], ask_qty,
                    rule=RULE[market], k=self.config.markets.uniform_k)
        self.clearings[(market.value, book)] = res
        self.recorder.market(self.quarter, market, book, res, bids, asks, bid_qty, ask_qty)
        return res

    def _clear_differentiated(self, market: Market, book: str, bids: list[Order],
                              asks: list[Order], elasticity: float
                              ) -> tuple[list[tuple[Order, Order, float, float]], float, float]:
        """Clear a market of differentiated sellers; return the trades (bid, ask, qty, price)
        and the market's volume-weighted price and total volume.

        Buyers spread over sellers by shares ∝ (ask per unit of value)^−elasticity — the
        demand of a logit / CES discrete choice with taste dispersion (Anderson, de Palma &
        Thisse 1992) — and each seller's share clears against its ask in its own sub-book.
        What is left unserved (a seller sold out, or priced above some buyers) clears once more
        in a spillover book against every seller's remaining supply. One ``total`` row
        (volume-weighted price) sums the market.
        """
        trades: list[tuple[Order, Order, float, float]] = []
        bid_qty = np.array([b.qty for b in bids], dtype=float)
        left_bid = bid_qty.copy()
        left_ask = [a.qty for a in asks]
        live = [j for j, a in enumerate(asks) if a.qty > 0 and a.price > 0]
        if live and bids:
            weight = self.choice_weights([asks[j].firm for j in live],
                                         [asks[j].price for j in live], market, elasticity)
            # buyers consider the ``choice_set`` most attractive sellers (a consideration set,
            # Hauser & Wernerfelt 1990); the others sell only in the spillover book
            keep = np.argsort(-weight, kind="stable")[:self.config.markets.choice_set]
            keep.sort()
            live = [live[i] for i in keep]
            weight = weight[keep]
            shares = weight / math.fsum(weight.tolist())
            for j, share in zip(live, shares, strict=True):
                name = f"{book}/{asks[j].firm}" if book else asks[j].firm
                res = self._clear(market, name, bids, [asks[j]], bid_qty=bid_qty * share)
                for i, _, q, price in zip(res.trade_bid, res.trade_ask, res.trade_qty,
                                          res.trade_price, strict=True):
                    trades.append((bids[i], asks[j], q, price))
                    left_bid[i] -= q
                    left_ask[j] -= q
        spill_bids = [i for i, q in enumerate(left_bid) if q > 1e-9]
        spill_asks = [j for j, q in enumerate(left_ask) if q > 1e-9]
        if spill_bids and spill_asks:
            res = self._clear(market, f"{book}/spillover" if book else "spillover",
                              [bids[i] for i in spill_bids], [asks[j] for j in spill_asks],
                              bid_qty=[left_bid[i] for i in spill_bids],
                              ask_qty=[left_ask[j] for j in spill_asks])
            for i, j, q, price in zip(res.trade_bid, res.trade_ask, res.trade_qty,
                                      res.trade_price, strict=True):
                trades.append((bids[spill_bids[i]], asks[spill_asks[j]], q, price))
        volume = sum(t[2] for t in trades)
        price = sum(t[2] * t[3] for t in trades) / volume if volume > 0 else math.nan
        demand = sum(b.qty for b in bids if math.isnan(price) or b.price >= price)
        supply = sum(a.qty for a in asks if math.isnan(price) or a.price <= price)
        self.recorder.market_total(self.quarter, market, book, price, volume, demand, supply,
                                   len(bids), len(asks))
        return trades, price, volume

    def appeal(self, firm_id: str, market: Market) -> float:
        """A seller's appeal to buyers at equal price per unit of value (API platforms)."""
        if market is Market.TOKENS:
            return getattr(self.firms[firm_id].params, "api_appeal", 1.0)
        return 1.0

    def choice_weights(self, sellers: list[str], asks: list[float], market: Market,
                       elasticity: float) -> np.ndarray:
        """Buyers' logit / CES weights ``appeal · ask^−elasticity`` (0 for a seller asking 0)."""
        # relative to the cheapest ask, so that a steep elasticity underflows to 0 rather than
        # overflowing (the shares are the same)
        cheapest = min((a for a in asks if a > 0), default=1.0)
        return np.array([self.appeal(f, market) * math.pow(a / cheapest, -elasticity)
                         if a > 0 else 0.0 for f, a in zip(sellers, asks, strict=True)])

    def choice_shares(self, sellers: list[str], asks: list[float], market: Market,
                      elasticity: float) -> np.ndarray:
        """Buyers' shares over ``sellers`` asking ``asks`` per unit of value (all sellers)."""
        weight = self.choice_weights(sellers, asks, market, elasticity)
        total = math.fsum(weight.tolist())
        return weight / total if total > 0 else weight

    def clear_foundry(self, obs: Observation, orders: list[Order]) -> None:
        bids = [o for o in orders if o.side is Side.BID]
        asks = [o for o in orders if o.side is Side.ASK]
        res = self._clear(Market.FOUNDRY, "", bids, asks)
        for foundry in self.active(Foundry):
            foundry.on_demand(sum(o.qty for o in bids))
        for i, j, q, price in zip(res.trade_bid, res.trade_ask, res.trade_qty, res.trade_price,
                                  strict=True):
            designer: ChipDesigner = self.firms[bids[i].firm]
            foundry: Foundry = self.firms[asks[j].firm]
            self.settle(designer, foundry, q * price, "foundry_slots", payee_line="revenue")
            foundry.on_sale(q, price, obs)
            designer.on_slots(q, price, obs)
        if not np.isnan(res.price):
            self.prices[Market.FOUNDRY] = res.price

    def clear_chips(self, obs: Observation, orders: dict[Market, list[Order]]) -> None:
        asks = [a for d in self.active(ChipDesigner) for a in d.asks(obs)]
        merchant = [a for a in asks if a.market is Market.CHIPS]
        self._settle_chips(obs, Market.CHIPS, "", orders[Market.CHIPS], merchant)
        for program in self.programs:
            bids = [b for b in orders[Market.CUSTOM] if b.book == program.name]
            sells = [a for a in asks if a.market is Market.CUSTOM and a.book == program.name]
            if bids or sells:
                self._settle_chips(obs, Market.CUSTOM, program.name, bids, sells)

    def _settle_chips(self, obs, market, book, bids, asks) -> None:
        res = self._clear(market, book, bids, asks)
        # tell each seller what buyers wanted at its price, served or not (its demand signal)
        if market is Market.CHIPS:
            for d in self.active(ChipDesigner):
                if d.params.merchant:
                    ask_price = d.price / d.params.effective_perf
                    wanted = sum(b.qty for b in bids if b.price >= ask_price)
                    d.on_demand("", wanted / d.params.effective_perf)
        else:
            partner = next(p.partner for p in self.programs if p.name == book)
            self.firms[partner].on_demand(book, sum(b.qty for b in bids))
        for i, j, q, price in zip(res.trade_bid, res.trade_ask, res.trade_qty, res.trade_price,
                                  strict=True):
            bid, ask = bids[i], asks[j]
            buyer, seller = self.firms[bid.firm], self.firms[ask.firm]
            amount = q * price
            physical = q / ask.factor if market is Market.CHIPS else q
            effective = q if market is Market.CHIPS else q * bid.factor
            self.settle(buyer, seller, amount, "chip_sale", payer_line=TAG_LINE[bid.tag],
                        payee_line="revenue")
            cost = seller.on_chip_sale(physical, amount, book)
            seller.books.add("cost_of_revenue", cost)
            if hasattr(buyer, "on_chips"):
                buyer.on_chips(effective, amount / max(effective, 1e-12), obs)
        if market is Market.CHIPS and not np.isnan(res.price):
            self.prices[Market.CHIPS] = res.price

    # 4 -------------------------------------------------------------------------------------------
    def clear_compute(self, obs: Observation, bids: list[Order]) -> None:
        asks = [a for c in self.active(Cloud) for a in c.compute_ask(obs)]
        bids = self._use_own_compute(obs, bids)
        res = self._clear(Market.COMPUTE, "", bids, asks)
        # one payment per buyer, seller and purpose
        paid: dict[tuple[str, str, str], list[float]] = {}
        for i, j, q, price in zip(res.trade_bid, res.trade_ask, res.trade_qty, res.trade_price,
                                  strict=True):
            bid, ask = bids[i], asks[j]
            cell = paid.setdefault((bid.firm, ask.firm, bid.tag), [0.0, 0.0])
            cell[0] += q * price
            cell[1] += q / ask.factor
        for (buyer_id, seller_id, tag), (amount, hours) in paid.items():
            buyer, seller = self.firms[buyer_id], self.firms[seller_id]
            self.settle(buyer, seller, amount, "compute_rental", payer_line=TAG_LINE[tag],
                        payee_line="revenue")
            seller.on_compute_sold(hours)
            if hasattr(buyer, "on_compute"):
                buyer.on_compute(hours, tag)
        if not np.isnan(res.price):
            self.prices[Market.COMPUTE] = res.price
        obs.compute_volume_now = res.volume
        obs.compute_unmet_now = max(0.0, res.demand_at_price - res.volume)

    def _use_own_compute(self, obs: Observation, bids: list[Order]) -> list[Order]:
        """Firms that own capacity serve themselves first and bid only for the rest."""
        out = []
        own = {f.firm_id: f.own_hours_available(obs) for f in self.active(Lab)}
        for bid in bids:
            spare = own.get(bid.firm, 0.0)
            if spare > 0 and bid.tag in ("inference", "training", "free_tier"):
                used = min(spare, bid.qty)
                own[bid.firm] = spare - used
                self.firms[bid.firm].on_own_compute(used, bid.tag)
                if bid.qty - used > 0:
                    out.append(replace(bid, qty=bid.qty - used))
            else:
                out.append(bid)
        return out

    # 5 -------------------------------------------------------------------------------------------
    def produce_tokens(self, obs: Observation) -> list[Order]:
        return [a for lab in self.active(Lab) for a in lab.token_asks(obs)]

    # 6 -------------------------------------------------------------------------------------------
    def clear_tokens(self, obs: Observation, bids: list[Order], asks: list[Order]) -> None:
        elasticity = self.config.markets.token_choice_elasticity
        trades, price, volume = self._clear_differentiated(Market.TOKENS, "", bids, asks,
                                                           elasticity)
        # every API seller — also one that offered nothing this quarter — learns the demand its
        # share of buyers has at its ask (its demand curve under differentiated choice)
        sellers = [lab for lab in self.active(Lab) if lab.params.sells_api
                   and not lab.params.open_weights]
        shares = self.choice_shares([lab.firm_id for lab in sellers],
                                    [lab.token_ask for lab in sellers], Market.TOKENS, elasticity)
        for lab, share in zip(sellers, shares, strict=True):
            lab.on_token_demand(share * sum(b.qty for b in bids if b.price >= lab.token_ask))
        paid: dict[tuple[str, str, str], list[float]] = {}
        for bid, ask, q, unit_price in trades:
            cell = paid.setdefault((bid.firm, ask.firm, bid.tag), [0.0, 0.0])
            cell[0] += q * unit_price
            cell[1] += q
        for (buyer_id, seller_id, tag), (amount, q) in paid.items():
            buyer, seller = self.firms[buyer_id], self.firms[seller_id]
            self.settle(buyer, seller, amount, "token_sale", payer_line=TAG_LINE[tag],
                        payee_line="revenue")
            seller.on_tokens_sold(q, amount / q if q > 0 else 0.0)
            if hasattr(buyer, "on_tokens"):
                buyer.on_tokens(q)
        if not np.isnan(price):
            self.prices[Market.TOKENS] = price
        if self.last_token_volume > 0:
            g = volume / self.last_token_volume - 1.0
            self.token_demand_growth = 0.5 * self.token_demand_growth + 0.5 * g
        self.last_token_volume = volume

    # 7 -------------------------------------------------------------------------------------------
    def clear_plans(self, obs: Observation, bids: list[Order]) -> None:
        sellers = [f for f in self.active() if isinstance(f, App | Lab)]
        asks = [a for f in sellers for a in f.plan_asks(obs)]
        seats: dict[str, float] = defaultdict(float)
        for segment in obs.segments:
            seg_bids = [b for b in bids if b.book == segment]
            seg_asks = [a for a in asks if a.book == segment]
            if not seg_bids and not seg_asks:
                continue
            elasticity = self.config.markets.plan_choice_elasticity
            trades, _, _ = self._clear_differentiated(Market.PLANS, segment, seg_bids,
                                                      seg_asks, elasticity)
            # each seller learns the demand its share of users has at its price
            shares = self.choice_shares([a.firm for a in seg_asks], [a.price for a in seg_asks],
                                        Market.PLANS, elasticity)
            for ask, share in zip(seg_asks, shares, strict=True):
                willing = sum(b.qty for b in seg_bids if b.price >= ask.price)
                self.firms[ask.firm].on_plan_demand(segment, share * willing)
            sold: dict[str, list[float]] = {}
            for _, ask, q, price in trades:
                cell = sold.setdefault(ask.firm, [0.0, 0.0])
                cell[0] += q * price
                cell[1] += q
            for seller_id, (amount, q) in sold.items():
                seller = self.firms[seller_id]
                self.settle("world:customers", seller, amount, "subscription",
                            payee_line="revenue")
                seller.on_seats(segment, q)
                seats[segment] += q
        self.recorder.seats_now = dict(seats)
        # free-tier users of labs' apps: ad revenue where a segment is monetised by advertising
        ads = sum(view.free_users(seats.get(name, 0.0)) * view.ads_usd_per_free_user
                  for name, view in obs.segments.items())
        if ads > 0:
            for lab in self.active(Lab):
                self.settle("world:customers", lab, ads * lab.params.free_users_share,
                            "advertising", payee_line="revenue")

    # 9 -------------------------------------------------------------------------------------------
    def account(self, obs: Observation) -> None:
        producing = [f for f in self.active() if f.layer in PRODUCING_LAYERS]
        for firm in producing:
            firm.end_quarter(obs)
        for firm in producing:
            self.fund(firm, obs)
        revenue = sum(f.books.revenue for f in producing)
        burn = sum(max(0.0, -f.books.operating_income) for f in producing)
        if self.investors is not None:
            growth = revenue / self.last_revenue - 1.0 if self.last_revenue > 0 else 0.0
            self.investors.update(growth * 4.0 if growth < 0.5 else 2.0,
                                  burn / max(revenue, 1.0))
        self.last_revenue = revenue

    def fund(self, firm: Firm, obs: Observation) -> None:
        need = firm.funding_need(obs)
        if need <= 0:
            return
        if getattr(firm.params, "parent_funded", False):
            self.settle("world:investors", firm, need, "parent_funding", payee_line="funding")
            return
        granted = self.investors.grant(need, firm) if self.investors else need
        if granted > 0:
            self.settle("world:investors", firm, granted, "equity_funding", payee_line="funding")
            self.log_event(firm, f"{firm.name} raises ${granted / 1e9:,.1f}B", "funding")

    # 10 ------------------------------------------------------------------------------------------
    def exit_defaulted(self, obs: Observation) -> None:
        for firm in self.active():
            if firm.layer not in PRODUCING_LAYERS or firm.cash >= 0:
                continue
            firm.defaulted = True
            firm.default_quarter = self.quarter
            deficit = -self.ledger.balance_cents(firm.firm_id)
            self.ledger.transfer_cents("world:lenders", firm.firm_id, deficit, "default_write_off")
            sold = 0.0
            for book in (getattr(firm, "capacity", None), getattr(firm, "own", None)):
                if book is not None:
                    sold += book.liquidate()
            self.log_event(firm, f"{firm.name} cannot pay and cannot raise funding: it defaults"
                           + (f"; {sold:,.0f} H100e of capacity is written off" if sold else ""),
                           "default")
