"""Upstream firms: the foundry and the chip designers (merchant and custom-ASIC partners).

Both price by their strategy on their own residual demand (:mod:`agents.strategies`) against
their marginal cost; technology lowers the costs (a slot's cost per H100e of output, the parts of
an accelerator), and the prices follow through the rule. No price drifts by a trend.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agents.base import Firm, Layer, Market, Order, Side, param
from agents.protocol import DemandSignal, Fill, FundingRequest, Intents, Observation
from agents.strategies import elasticity

if TYPE_CHECKING:
    from agents.world import Program

#: price points, relative to the last price, at which a buyer lays a derived-demand curve
CURVE_POINTS: tuple[float, ...] = (0.5, 0.65, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0)


def local_elasticity(
    signal: DemandSignal | None, lo: float = 0.3, hi: float = 20.0, default: float = 1.5
) -> float:
    """A seller's demand elasticity for planning quantities: the signal's, kept in [lo, hi]."""
    if signal is None:
        return default
    eps = elasticity(signal)
    if math.isnan(eps):
        return default
    return min(hi, max(lo, eps))


def demand_at(
    signal: DemandSignal | None, price: float, fallback: float, common: bool = False
) -> float:
    """Residual demand expected at ``price``, moved from last quarter's along its elasticity.

    Last quarter's demand is what it sold, unless it sold out: then it is what buyers wanted
    (the sales it missed are read off the curve). ``common``: the move is one its rivals make
    too (every seller's cost falls with technology), so it is read along the market's demand
    elasticity, which leaves the shares where they were, not along its residual demand, which
    assumes its rivals stand still (its own elasticity when the market's is unknown)."""
    if signal is None or signal.price <= 0:
        return fallback
    eps = common_elasticity(signal) if common else local_elasticity(signal)
    return demand_seen(signal) * (price / signal.price) ** -eps


def common_elasticity(signal: DemandSignal) -> float:
    """The elasticity a price move every seller makes meets: the market's demand elasticity
    (the shares stay where they were), within [0, 20]; the seller's own where the market's is
    unknown."""
    eps = signal.market_elasticity
    if not math.isfinite(eps):
        return local_elasticity(signal)
    return min(20.0, max(0.0, eps))


def sold_out(signal: DemandSignal) -> bool:
    """Whether the seller sold (all but 1% of) what it offered (an empty offer counts as sold
    out: what buyers wanted at its price is then its demand)."""
    return signal.sold >= 0.99 * signal.offered


def demand_seen(signal: DemandSignal) -> float:
    """The demand a seller saw at its price: what it sold, or what buyers wanted if it sold
    out."""
    return max(signal.wanted, signal.sold) if sold_out(signal) else signal.sold


def demand_growth(
    previous: DemandSignal | None, current: DemandSignal | None, smoothed: float
) -> float:
    """Growth of a seller's demand at a given price: this quarter's against last quarter's moved
    to this quarter's price along the market's demand elasticity (so a price cut's extra sales
    are not counted as growth); smoothed half-and-half with the previous estimate, within
    [−0.5, 0.5]. Prices move mostly together here (costs fall for every seller), and a move
    every seller makes leaves the shares where they were: the quantity moves along the market's
    demand, not along one seller's residual demand, which is several times as elastic where
    rivals are close substitutes. (Read along the residual elasticity, labs' API demand fell
    at the −50 % floor every quarter while it grew.) Its own elasticity when the market's is
    unknown."""
    if previous is None or current is None or previous.price <= 0:
        return smoothed
    eps = common_elasticity(current)
    before = max(demand_seen(previous), 1e-12) * (current.price / previous.price) ** -eps
    now = max(demand_seen(current), 1e-12)
    return min(0.5, max(-0.5, 0.5 * smoothed + 0.5 * (now / before - 1.0)))


def curve_orders(
    market: Market,
    firm_id: str,
    quantity_at,
    around: float,
    tag: str,
    book: str = "",
    factor: float = 1.0,
    cap: float = math.inf,
) -> list[Order]:
    """Bids tracing a demand curve: ``quantity_at(price)`` at the :data:`CURVE_POINTS` around a
    price (no bid above ``cap``), as steps whose cumulative quantity at each point is the
    curve's."""
    points = sorted((around * r for r in CURVE_POINTS if around * r <= cap), reverse=True)
    orders, total = [], 0.0
    for price in points:
        step = max(0.0, quantity_at(price) - total)
        if step > 0 and price > 0:
            orders.append(
                Order(market, Side.BID, firm_id, price, step, book=book, tag=tag, factor=factor)
            )
            total += step
    return orders


@dataclass(frozen=True, slots=True)
class FoundryParams:
    capacity_h100e: float = param(
        2.2e6, 0.0, 1e10, "advanced-packaging capacity at start, H100e of accelerators a quarter"
    )
    price_usd: float = param(1500.0, 1.0, 1e6, "price per H100e slot at start (then it adjusts)")
    unit_cost_usd: float = param(600.0, 0.0, 1e6, "cost per H100e slot at start (falls with tech)")
    max_growth_per_year: float = param(
        1.0, 0.0, 10.0, "most the capacity can grow in a year (1.0 = doubling)"
    )
    lead_quarters: int = param(4, 1, 16, "quarters from a capacity decision to output")
    capex_usd_per_slot: float = param(
        3000.0, 0.0, 1e6, "capital cost of one H100e-a-quarter of new capacity"
    )
    life_quarters: int = param(24, 4, 80, "depreciation life of packaging capacity")
    cost_decline: float = param(
        0.10,
        0.0,
        0.9,
        "yearly fall in the cost and capex of a slot per H100e of output "
        "(density gains net of dearer wafers)",
    )
    fixed_opex_usd: float = param(1.0e9, 0.0, 1e12, "quarterly opex of the AI-accelerator business")
    opening_cash_usd: float = param(5e10, 0.0, 1e13, "cash at start")


class Foundry(Firm):
    """The foundry: sells packaging slots to chip designers at a posted price.

    * Price: its strategy on its own residual demand (the designers' derived demand for slots),
      against the slot's unit cost, capacity binding.
    * Capacity: planned on the demand it saw at its price with a build lag (the cobweb capacity
      cycle, Ezekiel 1938): it commits new capacity arriving ``lead_quarters`` later, bounded by
      its yearly growth limit.
    """

    layer = Layer.FOUNDRY
    role = "foundry"
    Params = FoundryParams

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        p: FoundryParams = self.params
        self.capacity = p.capacity_h100e
        self.price = p.price_usd
        self.pipeline: deque[float] = deque([0.0] * p.lead_quarters)
        self.cohorts: list[tuple[int, float]] = []  # (quarter built, depreciation a quarter)
        self.signal: DemandSignal | None = None
        self.sold = 0.0

    def cost_factor(self, quarter: int) -> float:
        return (1.0 - self.params.cost_decline) ** (quarter / 4.0)

    def unit_cost(self, quarter: int) -> float:
        return self.params.unit_cost_usd * self.cost_factor(quarter)

    def decide(self, obs: Observation) -> Intents:
        p: FoundryParams = self.params
        out = Intents()
        self.capacity += self.pipeline.popleft()
        cost = self.unit_cost(obs.quarter)
        self.price = self.strategy.reprice(self.price, cost, self.signal, self.capacity, floor=cost)
        wanted = demand_at(self.signal, self.price, self.capacity)
        max_add = self.capacity * ((1.0 + p.max_growth_per_year) ** 0.25 - 1.0)
        planned = self.capacity + sum(self.pipeline)
        add = min(max_add, max(0.0, wanted * 1.1 - planned))
        self.pipeline.append(add)
        if add > 0:
            capex = add * p.capex_usd_per_slot * self.cost_factor(obs.quarter)
            out.pay("world:suppliers", capex, "capex", "capex")
            self.cohorts.append((obs.quarter, capex / p.life_quarters))
        if self.capacity > 0:
            out.orders.append(
                Order(Market.FOUNDRY, Side.ASK, self.firm_id, self.price, self.capacity)
            )
        return out

    def receive(self, fills: list[Fill], obs: Observation) -> None:
        self.sold += math.fsum(f.qty for f in fills if f.side is Side.ASK)

    def learn(self, signals: list[DemandSignal], obs: Observation) -> None:
        self.signal = next((s for s in signals if s.market is Market.FOUNDRY), None)

    def close(self, obs: Observation) -> Intents:
        p: FoundryParams = self.params
        out = Intents()
        out.pay(
            "world:suppliers",
            self.sold * self.unit_cost(obs.quarter),
            "materials",
            "cost_of_revenue",
        )
        life = p.life_quarters
        self.cohorts = [(q, d) for q, d in self.cohorts if obs.quarter - q < life]
        dep = math.fsum(d for _, d in self.cohorts)
        # the opening capacity is depreciated as if built evenly over the previous life
        dep += p.capacity_h100e * p.capex_usd_per_slot / life / life * max(0, life - obs.quarter)
        out.accrue("depreciation", dep)
        out.accrue("cost_of_revenue", dep)
        out.pay("world:labour", p.fixed_opex_usd, "opex", "sga")
        self.sold = 0.0
        return out

    def on_default(self) -> float:
        super().on_default()
        written_off = self.capacity + sum(self.pipeline)
        self.capacity = 0.0
        self.pipeline = deque([0.0] * len(self.pipeline))
        return written_off


@dataclass(frozen=True, slots=True)
class ChipDesignerParams:
    list_price_usd: float = param(
        25000.0, 1.0, 1e7, "list price per accelerator (H100e) at start; then it adjusts"
    )
    component_cost_usd: float = param(
        4000.0, 0.0, 1e6, "memory, substrate, board and system parts per H100e at start"
    )
    effective_perf: float = param(
        1.0, 0.01, 10.0, "useful H100e per H100e of silicon (software ecosystem, networking)"
    )
    sales_h100e: float = param(1.5e6, 0.0, 1e10, "accelerators sold in the quarter before start")
    merchant: bool = param(True, doc="sells on the open chip market (false: custom chips only)")
    max_output_growth: float = param(
        1.0, 0.0, 20.0, "most its output can grow in a year (supply chain, allocation)"
    )
    production_buffer: float = param(
        0.15, 0.0, 2.0, "slots ordered beyond the demand forecast (upside cover)"
    )
    rnd_usd: float = param(3.0e9, 0.0, 1e12, "R&D a quarter at start")
    rnd_share_of_revenue: float = param(0.08, 0.0, 1.0, "R&D grows to this share of revenue")
    sga_usd: float = param(0.6e9, 0.0, 1e12, "SG&A a quarter")
    opening_cash_usd: float = param(4e10, 0.0, 1e13, "cash at start")
    parent_funded: bool = param(
        False,
        doc="a division of a diversified company that covers its cash shortfalls "
        "(AMD, Broadcom, Marvell: their other businesses fund their accelerator lines)",
    )
    parent_budget_usd: float = param(
        5e9, 0.0, 1e12, "most its parent puts in a quarter when it is parent-funded"
    )


class ChipDesigner(Firm):
    """A chip designer: buys foundry slots, builds accelerators, sells them at a list price.

    * Price: its strategy on its own residual demand for chips (the buyers it would win at its
      price against its rivals' prices per effective H100e), against its marginal cost — the
      foundry's slot price plus the parts, which fall with the cost of hardware.
    * Production: the residual demand it expects at its new price (last quarter's, moved along
      its elasticity), grown at the recent rate, plus a buffer, less stock; at most its output
      growth limit. Its bid for slots is its derived demand: at each slot price, the chips it
      would sell at the price that slot cost implies.
    * A custom-ASIC partner (Broadcom) sells each programme's chips to that programme's owner
      only, at its unit cost plus the contract's fee (cost-plus), built to what the owner
      wanted last quarter; the owner decides how much to buy (make or buy, see
      :func:`agents.compute.chip_bids`).

    Unsold chips are held as inventory at average cost; stock over half a quarter's demand
    loses a quarter of its value a quarter (obsolescence).
    """

    layer = Layer.CHIPS
    role = "chip_designer"
    Params = ChipDesignerParams

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        p: ChipDesignerParams = self.params
        self.price = p.list_price_usd
        self.inventory = 0.0
        self.inventory_value = 0.0
        self.custom_price: dict[str, float] = {}
        self.custom_stock: dict[str, float] = {}
        self.slot_orders: dict[str, float] = {}
        self.signals: dict[str, DemandSignal] = {}
        self.last_wanted: float | None = None  # residual demand at its price last quarter
        self.growth = 0.0
        self.merchant_signal: DemandSignal | None = None
        self.last_output = max(p.sales_h100e, 1.0)
        self.cost_of_sales = 0.0
        self.revenue_now = 0.0
        self.parts_now = 0.0
        self.last_rnd = 0.0

    def parts_cost(self, quarter: int) -> float:
        return self.params.component_cost_usd * self.tech.cost_factor(quarter)

    def unit_cost(self, obs: Observation) -> float:
        """Marginal cost of one more H100e of silicon: a slot plus the parts."""
        return obs.foundry_price + self.parts_cost(obs.quarter)

    # -- decisions -------------------------------------------------------------------------------
    def decide(self, obs: Observation) -> Intents:
        p: ChipDesignerParams = self.params
        cost = self.unit_cost(obs)
        self.slot_orders = {}
        if p.merchant:
            self._plan_merchant(obs, cost)
        running = {program.name for program in obs.programs_of_partner(self.firm_id)}
        for program in sorted(obs.programs_of_partner(self.firm_id), key=lambda g: g.name):
            self._plan_program(program)
        # a programme that has ended prices nothing any more
        self.custom_price = {n: pr for n, pr in self.custom_price.items() if n in running}
        self._within_means(cost)
        out = Intents()
        total = math.fsum(self.slot_orders.values())
        if total > 0:
            out.orders += self._slot_bids(obs, total)
        return out

    def fixed_costs(self) -> float:
        """A quarter's R&D (at least last quarter's) and SG&A."""
        p: ChipDesignerParams = self.params
        return max(p.rnd_usd, self.last_rnd) + p.sga_usd

    def _within_means(self, unit_cost: float) -> None:
        """Order no more silicon than it can pay for this quarter: its cash, plus what its parent
        puts in when it is a division, less its fixed costs (a liquidity constraint). Without it
        a custom-chip partner whose owner's orders jumped ordered a quarter's slots worth five
        times its means and defaulted on the foundry's bill."""
        p: ChipDesignerParams = self.params
        total = math.fsum(self.slot_orders.values())
        means = self.cash + (p.parent_budget_usd if p.parent_funded else 0.0)
        means -= self.fixed_costs()
        if total <= 0 or total * unit_cost <= means:
            return
        scale = max(0.0, means) / (total * unit_cost)
        self.slot_orders = {name: qty * scale for name, qty in self.slot_orders.items()}

    def _plan_merchant(self, obs: Observation, cost: float) -> None:
        p: ChipDesignerParams = self.params
        perf = p.effective_perf
        signal = self.signals.get("")
        ask = self.price / perf
        # it builds to demand, so its stock is no capacity to ration by price: a shortfall is
        # rationed by the book while its output catches up (pricing its stock as scarce, a
        # designer that built less raised its price, was asked for less and built less again)
        ask = self.strategy.reprice(ask, cost / perf, signal, None, floor=cost / perf)
        self.price = ask * perf
        wanted = demand_at(signal, ask, p.sales_h100e * perf, common=True) / perf
        want = max(0.0, wanted * (1.0 + self.growth) * (1.0 + p.production_buffer) - self.inventory)
        cap = self.last_output * (1.0 + p.max_output_growth) ** 0.25
        self.slot_orders[""] = min(want, cap)

    def program_quote(self, program: Program, quarter: int, foundry_price: float) -> float:
        """Its price per chip of ``program``: its unit cost (a slot at last quarter's price plus
        the parts) plus the contract's fee (cost-plus, as design-service contracts are)."""
        return (foundry_price + self.parts_cost(quarter)) * (1.0 + program.fee)

    def _plan_program(self, program: Program) -> None:
        """Chips for a programme: priced cost-plus, built to what its owner wanted last quarter
        at that price (and a tenth more), less the stock."""
        price = program.quote_usd
        self.custom_price[program.name] = price
        stock = self.custom_stock.get(program.name, 0.0)
        wanted = demand_at(self.signals.get(program.name), price, 0.0)
        self.slot_orders[program.name] = max(0.0, wanted * 1.1 - stock)

    def _slot_bids(self, obs: Observation, total: float) -> list[Order]:
        """Derived demand for slots: at slot price ``s`` the chips it would sell at the price
        that cost implies (its Lerner price), no bid above what a chip fetches less its parts."""
        parts = self.parts_cost(obs.quarter)
        eps = local_elasticity(self.signals.get(""), lo=1.05)
        base_cost = obs.foundry_price + parts
        top = max(self.price, max(self.custom_price.values(), default=0.0)) - parts

        def quantity(slot_price: float) -> float:
            return total * ((slot_price + parts) / base_cost) ** -eps

        return curve_orders(
            Market.FOUNDRY,
            self.firm_id,
            quantity,
            obs.foundry_price,
            "inventory",
            cap=max(top, 0.0),
        )

    def asks(self, market: Market, obs: Observation) -> list[Order]:
        p: ChipDesignerParams = self.params
        if market is Market.CHIPS and p.merchant and self.inventory > 0:
            return [
                Order(
                    Market.CHIPS,
                    Side.ASK,
                    self.firm_id,
                    self.price / p.effective_perf,
                    self.inventory * p.effective_perf,
                    factor=p.effective_perf,
                )
            ]
        if market is Market.CUSTOM:
            return [
                Order(
                    Market.CUSTOM, Side.ASK, self.firm_id, self.custom_price[name], stock, book=name
                )
                for name, stock in sorted(
                    (n, self.custom_stock.get(n, 0.0)) for n in self.custom_price
                )
            ]  # an empty ask too: it learns what the owner wanted, to build for next quarter
        return []

    # -- results ---------------------------------------------------------------------------------
    def receive(self, fills: list[Fill], obs: Observation) -> None:
        slots = [f for f in fills if f.market is Market.FOUNDRY]
        if slots:
            self._build(math.fsum(f.qty for f in slots), math.fsum(f.amount for f in slots), obs)
        for fill in fills:
            match fill.market:
                case Market.CHIPS | Market.CUSTOM:
                    physical = fill.qty / fill.factor if fill.market is Market.CHIPS else fill.qty
                    self._sell(physical, fill.book)
                    self.revenue_now += fill.amount

    def _build(self, qty: float, paid: float, obs: Observation) -> None:
        """``qty`` slots delivered for ``paid``: build chips, owe the parts, stock them at
        cost."""
        parts = qty * self.parts_cost(obs.quarter)
        self.parts_now += parts
        wanted = math.fsum(self.slot_orders.values())
        self.last_output = max(
            self.last_output * 0.5, self.slot_orders.get("", 0.0) * qty / max(wanted, 1e-12)
        )
        for name, want in self.slot_orders.items():
            share = qty * want / wanted if wanted > 0 else 0.0
            if name == "":
                self.inventory += share
            else:
                self.custom_stock[name] = self.custom_stock.get(name, 0.0) + share
        self.inventory_value += paid + parts

    def _stock_units(self) -> float:
        return self.inventory + math.fsum(self.custom_stock.values())

    def _sell(self, units: float, book: str) -> None:
        """Take ``units`` from stock; its average cost is the cost of the goods sold."""
        stock = self._stock_units()
        cost = self.inventory_value / stock * units if stock > 0 else 0.0
        self.inventory_value -= cost
        self.cost_of_sales += cost
        if book:
            self.custom_stock[book] = max(0.0, self.custom_stock.get(book, 0.0) - units)
        else:
            self.inventory = max(0.0, self.inventory - units)

    def learn(self, signals: list[DemandSignal], obs: Observation) -> None:
        p: ChipDesignerParams = self.params
        self.signals = {s.book: s for s in signals if s.market in (Market.CHIPS, Market.CUSTOM)}
        merchant = self.signals.get("")
        if merchant is not None:
            self.growth = demand_growth(self.merchant_signal, merchant, self.growth)
            self.merchant_signal = merchant
            self.last_wanted = merchant.wanted / p.effective_perf

    def close(self, obs: Observation) -> Intents:
        p: ChipDesignerParams = self.params
        out = Intents()
        out.pay("world:suppliers", self.parts_now, "components", None)  # into inventory
        # stock beyond half a quarter's demand is obsolescent: a quarter of it is written off
        if self.inventory > 0.5 * (self.last_wanted or 0.0) and self.inventory > 0:
            self._sell(0.25 * self.inventory, "")
        out.accrue("cost_of_revenue", self.cost_of_sales)
        rnd = max(p.rnd_usd, p.rnd_share_of_revenue * self.revenue_now)
        self.last_rnd = rnd
        out.pay("world:labour", rnd, "rnd", "rnd")
        out.pay("world:labour", p.sga_usd, "sga", "sga")
        self.cost_of_sales = self.revenue_now = self.parts_now = 0.0
        return out

    def funding_requests(self, obs: Observation) -> list[FundingRequest]:
        """A parent-funded division asks its parent to keep two quarters of its fixed costs."""
        p: ChipDesignerParams = self.params
        reserve = 2.0 * self.fixed_costs()
        if p.parent_funded and self.cash < reserve:
            return [FundingRequest("parent", min(reserve - self.cash, p.parent_budget_usd))]
        return []

    def on_default(self) -> float:
        super().on_default()
        self.inventory = self.inventory_value = 0.0
        self.custom_stock.clear()
        return 0.0
