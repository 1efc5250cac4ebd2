"""Upstream firms: the foundry and the chip designers (merchant and custom-ASIC partners)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agents.base import Firm, Layer, Market, Order, Side, param

if TYPE_CHECKING:
    from agents.protocol import Observation


@dataclass(frozen=True, slots=True)
class FoundryParams:
    capacity_h100e: float = param(
        2.2e6, 0.0, 1e10, "advanced-packaging capacity at start, H100e of accelerators a quarter")
    price_usd: float = param(1500.0, 1.0, 1e6, "price per H100e slot at start (then it adjusts)")
    unit_cost_usd: float = param(600.0, 0.0, 1e6, "cost per H100e slot at start (falls with tech)")
    max_growth_per_year: float = param(
        1.0, 0.0, 10.0, "most the capacity can grow in a year (1.0 = doubling)")
    lead_quarters: int = param(4, 1, 16, "quarters from a capacity decision to output")
    capex_usd_per_slot: float = param(
        3000.0, 0.0, 1e6, "capital cost of one H100e-a-quarter of new capacity")
    life_quarters: int = param(24, 4, 80, "depreciation life of packaging capacity")
    cost_decline: float = param(
        0.10, 0.0, 0.9, "yearly fall in the cost, capex and price of a slot per H100e of output "
        "(density gains net of dearer wafers)")
    price_speed: float = param(
        0.10, 0.0, 1.0, "price response to excess demand per quarter (contract stickiness)")
    fixed_opex_usd: float = param(1.0e9, 0.0, 1e12, "quarterly opex of the AI-accelerator business")
    opening_cash_usd: float = param(5e10, 0.0, 1e13, "cash at start")


class Foundry(Firm):
    """The foundry: sells packaging slots to chip designers at a posted price.

    Capacity planning on order backlog with a build lag (the cobweb capacity cycle, Ezekiel 1938):
    when orders exceed capacity, the foundry commits new capacity arriving ``lead_quarters`` later,
    bounded by its yearly growth limit. Its price moves with excess demand by tâtonnement
    (Walras 1874), slowly, because foundry prices are set in long contracts.
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
        self.cohorts: list[tuple[int, float]] = []  # (quarter built, capex per quarter of dep.)
        self.last_orders = p.capacity_h100e

    def decide(self, obs: Observation) -> list[Order]:
        p: FoundryParams = self.params
        self.capacity += self.pipeline.popleft()
        # a slot is priced per H100e of output, which each node makes cheaper: the price drifts
        # down with the slot's cost before responding to the backlog
        self.price *= (1.0 - p.cost_decline) ** 0.25 if obs.quarter > 0 else 1.0
        excess = (self.last_orders - self.capacity) / max(self.capacity, 1.0)
        self.price = self.strategy.adjust_price(self.price, excess, p.price_speed,
                                                floor=self.unit_cost(obs.quarter))
        # expand towards the backlog, no faster than the yearly growth limit allows
        max_add = self.capacity * ((1.0 + p.max_growth_per_year) ** 0.25 - 1.0)
        planned = self.capacity + sum(self.pipeline)
        add = min(max_add, max(0.0, self.last_orders * 1.1 - planned))
        self.pipeline.append(add)
        if add > 0:
            capex = add * p.capex_usd_per_slot * self.cost_factor(obs.quarter)
            self.model.settle(self, "world:suppliers", capex, "capex", payer_line="capex")
            self.cohorts.append((obs.quarter, capex / p.life_quarters))
        return [Order(Market.FOUNDRY, Side.ASK, self.firm_id, self.price, self.capacity)]

    def cost_factor(self, quarter: int) -> float:
        return (1.0 - self.params.cost_decline) ** (quarter / 4.0)

    def unit_cost(self, quarter: int) -> float:
        return self.params.unit_cost_usd * self.cost_factor(quarter)

    def on_demand(self, wanted: float) -> None:
        self.last_orders = wanted

    def on_sale(self, qty: float, price: float, obs: Observation) -> None:
        self.model.settle(self, "world:suppliers", qty * self.unit_cost(obs.quarter),
                          "materials", payer_line="cost_of_revenue")

    def end_quarter(self, obs: Observation) -> None:
        p: FoundryParams = self.params
        life = p.life_quarters
        dep = sum(d for q, d in self.cohorts if obs.quarter - q < life)
        self.cohorts = [(q, d) for q, d in self.cohorts if obs.quarter - q < life]
        # the opening capacity is depreciated as if built evenly over the previous life
        dep += p.capacity_h100e * p.capex_usd_per_slot / life / life * max(0, life - obs.quarter)
        self.books.add("depreciation", dep)
        self.books.add("cost_of_revenue", dep)
        self.model.settle(self, "world:labour", p.fixed_opex_usd, "opex", payer_line="sga")


@dataclass(frozen=True, slots=True)
class ChipDesignerParams:
    list_price_usd: float = param(
        25000.0, 1.0, 1e7, "list price per accelerator (H100e) at start; then it adjusts")
    component_cost_usd: float = param(
        4000.0, 0.0, 1e6, "memory, substrate, board and system parts per H100e at start")
    effective_perf: float = param(
        1.0, 0.01, 10.0, "useful H100e per H100e of silicon (software ecosystem, networking)")
    sales_h100e: float = param(1.5e6, 0.0, 1e10, "accelerators sold in the quarter before start")
    merchant: bool = param(True, doc="sells on the open chip market (false: custom chips only)")
    price_speed: float = param(0.15, 0.0, 1.0, "list-price response to excess demand a quarter")
    max_output_growth: float = param(
        1.0, 0.0, 20.0, "most its output can grow in a year (supply chain, allocation)")
    production_buffer: float = param(
        0.15, 0.0, 2.0, "slots ordered beyond the demand forecast (upside cover)")
    rnd_usd: float = param(3.0e9, 0.0, 1e12, "R&D a quarter at start")
    rnd_share_of_revenue: float = param(0.08, 0.0, 1.0, "R&D grows to this share of revenue")
    sga_usd: float = param(0.6e9, 0.0, 1e12, "SG&A a quarter")
    custom_price_usd: float = param(
        9000.0, 1.0, 1e7, "price per custom accelerator (H100e) at start, for partner programmes")
    opening_cash_usd: float = param(4e10, 0.0, 1e13, "cash at start")


class ChipDesigner(Firm):
    """A chip designer: buys foundry slots, builds accelerators, sells them at a list price.

    Production is planned on a demand forecast (last quarter's orders at its price, grown at the
    recent growth rate) plus a buffer. The list price per H100e drifts down with the cost of
    performance (newer generations) and moves by tâtonnement on excess demand
    (Walras 1874; Uzawa 1960): raised when buyers ask for more than it can ship, cut when stock is
    left. Unsold chips are held as inventory at average cost. A designer may also be a custom-ASIC
    partner (Broadcom): it then sells each programme's chips to that programme's owner only, at a
    contract price that adjusts the same way.
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
        self.demand_seen = p.sales_h100e if p.merchant else 0.0
        self.demand_prev = self.demand_seen
        self.custom_price: dict[str, float] = {}
        self.custom_demand: dict[str, float] = {}
        self.custom_stock: dict[str, float] = {}
        self.slot_orders: dict[str, float] = {}
        self.last_output = max(p.sales_h100e, 1.0)

    # -- decisions -------------------------------------------------------------------------------
    def decide(self, obs: Observation) -> list[Order]:
        p: ChipDesignerParams = self.params
        orders: list[Order] = []
        floor = self.unit_cost(obs)
        growth = min(0.25, max(-0.5, self.demand_seen / max(self.demand_prev, 1.0) - 1.0))
        # prices are per H100e of performance: each new generation delivers it for less, so list
        # and contract prices drift down with the cost trend before responding to demand
        drift = self.model.tech.cost_factor(obs.quarter) / self.model.tech.cost_factor(
            max(obs.quarter - 1, 0))
        self.price *= drift
        self.custom_price = {name: price * drift for name, price in self.custom_price.items()}
        if p.merchant:
            offered = self.inventory + self.slot_orders.get("", 0.0)
            excess = (self.demand_seen - offered) / max(offered, 1.0) if offered else 0.0
            self.price = self.strategy.adjust_price(self.price, excess, p.price_speed, floor)
            want = max(0.0, self.demand_seen * (1.0 + growth) * (1.0 + p.production_buffer)
                       - self.inventory)
            cap = self.last_output * (1.0 + p.max_output_growth) ** 0.25
            self.slot_orders[""] = min(want, cap)
        for program in obs.programs_of_partner(self.firm_id):
            name = program.name
            price = self.custom_price.setdefault(name, p.custom_price_usd)
            demand = self.custom_demand.get(name, 0.0)
            stock = self.custom_stock.get(name, 0.0)
            offered = stock + self.slot_orders.get(name, 0.0)
            if offered > 0:
                excess = (demand - offered) / offered
                self.custom_price[name] = self.strategy.adjust_price(price, excess,
                                                                     p.price_speed, floor)
            self.slot_orders[name] = max(0.0, demand * 1.1 - stock)
        total_slots = sum(self.slot_orders.values())
        if total_slots > 0:
            # slots are worth paying for up to the chip's price net of the other parts
            orders.append(Order(Market.FOUNDRY, Side.BID, self.firm_id,
                                max(self.price, p.custom_price_usd), total_slots, tag="inventory"))
        return orders

    def unit_cost(self, obs: Observation) -> float:
        p: ChipDesignerParams = self.params
        return obs.foundry_price + p.component_cost_usd * self.model.tech.cost_factor(obs.quarter)

    def asks(self, obs: Observation) -> list[Order]:
        """Step 3: what it offers once this quarter's slots are delivered."""
        p: ChipDesignerParams = self.params
        out = []
        if p.merchant and self.inventory > 0:
            out.append(Order(Market.CHIPS, Side.ASK, self.firm_id,
                             self.price / p.effective_perf, self.inventory * p.effective_perf,
                             factor=p.effective_perf))
        for name, stock in self.custom_stock.items():
            if stock > 0:
                out.append(Order(Market.CUSTOM, Side.ASK, self.firm_id, self.custom_price[name],
                                 stock, book=name))
        return out

    # -- fills -----------------------------------------------------------------------------------
    def on_slots(self, qty: float, price: float, obs: Observation) -> None:
        """Foundry delivered ``qty`` slots: build chips, pay for the other parts, stock them."""
        p: ChipDesignerParams = self.params
        parts = qty * p.component_cost_usd * self.model.tech.cost_factor(obs.quarter)
        self.model.settle(self, "world:suppliers", parts, "components", payer_line=None)
        wanted = sum(self.slot_orders.values())
        self.last_output = max(self.last_output * 0.5, self.slot_orders.get("", 0.0)
                               * qty / max(wanted, 1e-12))
        for name, want in self.slot_orders.items():
            share = qty * want / wanted if wanted > 0 else 0.0
            if name == "":
                self.inventory += share
            else:
                self.custom_stock[name] = self.custom_stock.get(name, 0.0) + share
        self.inventory_value += qty * price + parts

    def stock_units(self) -> float:
        return self.inventory + sum(self.custom_stock.values())

    def on_chip_sale(self, qty_h100e: float, revenue: float, book: str) -> float:
        """Sold ``qty_h100e`` chips; return their cost (average cost of the stock)."""
        units = self.stock_units()
        avg = self.inventory_value / units if units > 0 else 0.0
        cost = avg * qty_h100e
        self.inventory_value -= cost
        if book:
            self.custom_stock[book] -= qty_h100e
        else:
            self.inventory -= qty_h100e
        return cost

    def on_demand(self, book: str, wanted_h100e: float) -> None:
        if book:
            self.custom_demand[book] = wanted_h100e
        else:
            self.demand_prev, self.demand_seen = self.demand_seen, wanted_h100e

    def end_quarter(self, obs: Observation) -> None:
        p: ChipDesignerParams = self.params
        rnd = max(p.rnd_usd, p.rnd_share_of_revenue * self.books.revenue)
        self.model.settle(self, "world:labour", rnd, "rnd", payer_line="rnd")
        self.model.settle(self, "world:labour", p.sga_usd, "sga", payer_line="sga")
        # inventory older than a year is obsolete: written off
        if self.inventory > 0.5 * self.demand_seen and self.inventory > 0:
            scrap = 0.25 * self.inventory
            value = self.on_chip_sale(scrap, 0.0, "")
            self.books.add("cost_of_revenue", value)
