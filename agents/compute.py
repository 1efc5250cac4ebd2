"""Capacity owners: hyperscale clouds and neoclouds build data centres and rent H100e-hours.

The same capacity machinery (cohorts of installed accelerators, a build pipeline, depreciation,
energy) also serves any lab, host or app that owns compute (see :class:`CapacityBook`).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agents.base import Firm, Layer, Market, Order, Side, param
from agents.protocol import DemandSignal, Fill, FundingRequest, Intents, Observation
from agents.supply import curve_orders

if TYPE_CHECKING:
    from agents.technology import Technology
    from agents.world import Program


@dataclass(slots=True)
class Cohort:
    """Accelerators installed in one quarter: how many, their cost, power and depreciation."""

    quarter: int
    h100e: float
    cost_usd: float  # chips plus data-centre shell, capitalised
    life_quarters: int
    kw_per_h100e: float

    def depreciation(self, quarter: int) -> float:
        age = quarter - self.quarter
        return self.cost_usd / self.life_quarters if 0 <= age < self.life_quarters else 0.0

    def alive(self, quarter: int) -> bool:
        return quarter - self.quarter < self.life_quarters


class CapacityBook:
    """Installed accelerators and the pipeline of those being built, for one owner.

    Data-centre construction takes ``build_lag`` quarters from chip delivery to service (a build
    lag, as in time-to-build models, Kydland & Prescott 1982). Capitalised cost is depreciated
    straight-line over ``life_quarters``; energy is paid per hour used.
    """

    def __init__(self, build_lag: int, life_quarters: int) -> None:
        self.cohorts: list[Cohort] = []
        self.pipeline: deque[list[Cohort]] = deque([[] for _ in range(build_lag)])
        self.life_quarters = life_quarters

    def installed(self, quarter: int) -> float:
        return sum(c.h100e for c in self.cohorts if c.alive(quarter))

    def in_pipeline(self) -> float:
        return sum(c.h100e for batch in self.pipeline for c in batch)

    def advance(self, quarter: int) -> None:
        self.cohorts.extend(self.pipeline.popleft() if self.pipeline else [])
        self.pipeline.append([])
        self.cohorts = [c for c in self.cohorts if c.alive(quarter)]

    def add(self, cohort: Cohort, immediately: bool = False) -> None:
        if immediately or not self.pipeline:
            self.cohorts.append(cohort)
        else:
            self.pipeline[-1].append(cohort)

    def depreciation(self, quarter: int) -> float:
        return sum(c.depreciation(quarter) for c in self.cohorts)

    def kw_per_h100e(self, quarter: int) -> float:
        """Average power of the installed fleet, kW per H100e (0 when there is none)."""
        total = self.installed(quarter)
        if total <= 0:
            return 0.0
        return math.fsum(c.h100e * c.kw_per_h100e for c in self.cohorts if c.alive(quarter)) / total

    def energy_usd(self, hours_used: float, quarter: int, usd_per_kwh: float) -> float:
        return hours_used * self.kw_per_h100e(quarter) * usd_per_kwh

    def liquidate(self) -> float:
        """Remove everything (a default); return the H100e removed."""
        n = sum(c.h100e for c in self.cohorts) + self.in_pipeline()
        self.cohorts.clear()
        for batch in self.pipeline:
            batch.clear()
        return n


def chip_value(
    tech: Technology,
    quarter: int,
    price_per_hour: float,
    build_lag: int,
    life_quarters: int,
    utilisation: float,
    dc_capex_usd: float,
    dc_opex_usd: float,
    hurdle_rate: float,
    price_outlook: float = -0.10,
) -> float:
    """Present value of one H100e bought now: rental margin over its life, less the shell.

    The rental price is expected to change by ``price_outlook`` a year (falling as newer chips
    do the same work for less, held up by growing demand and multi-year contracts), and future
    margins are discounted at the hurdle rate (a q-theory investment rule, Tobin 1969).
    """
    hours = tech.hours_per_quarter * utilisation
    energy = tech.energy_usd_per_hour(quarter) * hours
    rent = max(price_per_hour, 0.0) * hours
    terms = (
        (rent * math.pow(1.0 + price_outlook, j / 4.0) - energy - dc_opex_usd)
        * math.pow(1.0 + hurdle_rate, -j / 4.0)
        for j in range(build_lag, build_lag + life_quarters)
    )
    return math.fsum(terms) - dc_capex_usd


def chip_bids(
    firm_id: str, programs: list[Program], want_at, around: float, value: float, tag: str = "capex"
) -> list[Order]:
    """Bids for chips tracing ``want_at(price per effective H100e)``, no bid above ``value``:
    each programme the firm owns takes its ``max_share`` of every step (per physical custom
    chip, each worth its effective H100e), the open chip market the rest."""
    shares = [(p, p.max_share) for p in programs]
    merchant = max(0.0, 1.0 - math.fsum(s for _, s in shares))
    orders = curve_orders(
        Market.CHIPS, firm_id, lambda x: merchant * want_at(x), around, tag, cap=value
    )
    for program, share in shares:
        perf = program.effective_perf
        orders += curve_orders(
            Market.CUSTOM,
            firm_id,
            lambda x, s=share, f=perf: s * want_at(x / f) / f,
            around * perf,
            tag,
            book=program.name,
            factor=perf,
            cap=value * perf,
        )
    return orders


@dataclass(frozen=True, slots=True)
class CloudParams:
    installed_h100e: float = param(1.0e6, 0.0, 1e10, "H100e in service at start")
    installed_cost_usd: float = param(
        38000.0, 0.0, 1e7, "capitalised cost per installed H100e at start (chips + shell)"
    )
    installed_age_quarters: int = param(4, 0, 40, "average age of the opening fleet")
    ask_usd_per_hour: float = param(2.5, 0.01, 1e3, "rental ask per H100e-hour at start")
    service_quality: float = param(
        1.0, 0.1, 5.0, "what buyers value one of its hours at, in plain H100e-hours"
    )
    build_lag: int = param(2, 0, 12, "quarters from chip delivery to service")
    life_quarters: int = param(24, 4, 60, "depreciation life of accelerators and shell")
    dc_capex_usd: float = param(
        12000.0, 0.0, 1e6, "data-centre shell, power and network capex per H100e"
    )
    dc_opex_usd: float = param(
        600.0, 0.0, 1e6, "facility, staff and lease costs per installed H100e a quarter"
    )
    target_utilisation: float = param(0.85, 0.1, 1.0, "utilisation it plans new capacity for")
    hurdle_rate: float = param(0.10, 0.0, 1.0, "yearly discount rate for new capacity")
    price_outlook: float = param(
        -0.10, -0.9, 1.0, "yearly change of the rental price it expects over a chip's life"
    )
    growth_cap: float = param(0.20, 0.0, 5.0, "most the fleet may grow by orders in a quarter")
    invest_speed: float = param(
        0.30,
        0.0,
        5.0,
        "fleet growth a quarter per unit by which a chip's value exceeds its price (Tobin's q − 1)",
    )
    leverage: float = param(0.0, 0.0, 0.95, "share of chip purchases financed by debt")
    interest_rate: float = param(0.10, 0.0, 1.0, "yearly interest rate on debt")
    sga_usd: float = param(3e8, 0.0, 1e12, "SG&A a quarter")
    parent_funded: bool = param(
        True, doc="its parent company covers cash shortfalls (hyperscalers)"
    )
    opening_cash_usd: float = param(2e10, 0.0, 1e13, "cash at start")
    opening_debt_usd: float = param(0.0, 0.0, 1e13, "debt at start")


class Cloud(Firm):
    """A cloud (hyperscale or neocloud): buys accelerators, builds capacity, rents H100e-hours.

    * Ask: its strategy on its own residual demand for hours (the buyers it would win at its
      ask against the other clouds' asks), against the energy an hour costs, its installed
      hours binding. Scarcity beyond that prices through the uniform auction.
    * Chips: at each chip price, the fleet growth that price justifies — capacity planned on
      the hours it sold and the demand it turned away, grown at the recent rate (capacity
      planning with build lags), and, when a chip is worth more installed than it costs
      (Tobin's q above 1), growth in proportion to the excess (Tobin 1969; Hayashi 1982) —
      never more than ``growth_cap`` a quarter and never above the chip's value: the present
      value of its rental margin over the chip's life at a smoothed rental price.
    * Neoclouds borrow ``leverage`` of every chip purchase and pay interest on the debt.
    """

    layer = Layer.CLOUD
    role = "cloud"
    Params = CloudParams

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        p: CloudParams = self.params
        self.capacity = CapacityBook(p.build_lag, p.life_quarters)
        if p.installed_h100e > 0:
            self.capacity.cohorts.append(
                Cohort(
                    -p.installed_age_quarters,
                    p.installed_h100e,
                    p.installed_h100e * p.installed_cost_usd,
                    p.life_quarters,
                    self.tech.kw_per_h100e,
                )
            )
        self.ask = p.ask_usd_per_hour
        self.debt = p.opening_debt_usd
        self.sold_hours = 0.0
        self.demand_growth = 0.1
        self.last_sold = p.installed_h100e * self.tech.hours_per_quarter * p.target_utilisation
        self.planning_price: float | None = None
        self.signal: DemandSignal | None = None
        self.chips_bought = 0.0  # effective H100e this quarter
        self.chip_spend = 0.0

    # -- decisions -------------------------------------------------------------------------------
    def energy_cost_per_hour(self, quarter: int) -> float:
        """Marginal cost of an hour of its fleet: the electricity it draws."""
        kw = self.capacity.kw_per_h100e(quarter) or self.tech.kw(quarter)
        return kw * self.tech.energy_usd_per_kwh

    def decide(self, obs: Observation) -> Intents:
        p: CloudParams = self.params
        self.chips_bought = self.chip_spend = 0.0  # this quarter's purchases, for close and loans
        self.capacity.advance(obs.quarter)
        sq = p.service_quality
        hours = self.capacity.installed(obs.quarter) * self.tech.hours_per_quarter
        cost = self.energy_cost_per_hour(obs.quarter) / sq
        ask = self.strategy.reprice(self.ask / sq, cost, self.signal, hours * sq, floor=cost)
        self.ask = ask * sq
        out = Intents()
        if hours > 0:
            out.orders.append(
                Order(Market.COMPUTE, Side.ASK, self.firm_id, ask, hours * sq, factor=sq)
            )
        out.orders += self.chip_orders(obs)
        return out

    def chip_value(self, obs: Observation) -> float:
        """Present value of one more H100e installed now (USD), at its own rental price.

        The price it plans on is smoothed over the last quarters (adaptive expectations, Nerlove
        1958): one quarter's spike or slump does not start or stop a data-centre build."""
        p: CloudParams = self.params
        if self.planning_price is None:
            self.planning_price = obs.compute_price
        self.planning_price += 0.3 * (obs.compute_price - self.planning_price)
        return chip_value(
            self.tech,
            obs.quarter,
            self.planning_price * p.service_quality,
            p.build_lag,
            p.life_quarters,
            p.target_utilisation,
            p.dc_capex_usd,
            p.dc_opex_usd,
            p.hurdle_rate,
            p.price_outlook,
        )

    def chip_orders(self, obs: Observation) -> list[Order]:
        p: CloudParams = self.params
        installed = self.capacity.installed(obs.quarter)
        pipeline = self.capacity.in_pipeline()
        needed = (
            self.last_sold
            * (1.0 + self.demand_growth) ** (p.build_lag + 1)
            / (self.tech.hours_per_quarter * p.target_utilisation)
        )
        retiring = math.fsum(
            c.h100e for c in self.capacity.cohorts if not c.alive(obs.quarter + p.build_lag + 1)
        )
        base = max(0.0, needed - installed - pipeline + retiring)
        most = p.growth_cap * max(installed, 1.0) + retiring
        value = self.chip_value(obs)
        if value <= 0:
            return []

        def want_at(price: float) -> float:
            q = value / max(price, 1.0)
            invest = p.invest_speed * max(0.0, q - 1.0) * installed + retiring - pipeline
            return min(most, max(base, invest))

        return chip_bids(
            self.firm_id,
            obs.programs_of_owner(self.firm_id),
            want_at,
            max(obs.chip_price, 1.0),
            value,
        )

    # -- results ---------------------------------------------------------------------------------
    def receive(self, fills: list[Fill], obs: Observation) -> None:
        p: CloudParams = self.params
        for fill in fills:
            match fill.market, fill.side:
                case Market.CHIPS | Market.CUSTOM, Side.BID:
                    effective = fill.qty if fill.market is Market.CHIPS else fill.qty * fill.factor
                    shell = effective * p.dc_capex_usd
                    self.chips_bought += effective
                    self.chip_spend += fill.amount
                    self.capacity.add(
                        Cohort(
                            obs.quarter,
                            effective,
                            fill.amount + shell,
                            p.life_quarters,
                            self.tech.kw(obs.quarter),
                        )
                    )
                case Market.COMPUTE, Side.ASK:
                    self.sold_hours += fill.qty / p.service_quality

    def learn(self, signals: list[DemandSignal], obs: Observation) -> None:
        self.signal = next((s for s in signals if s.market is Market.COMPUTE), None)

    def close(self, obs: Observation) -> Intents:
        p: CloudParams = self.params
        out = Intents()
        quarter = obs.quarter
        installed = self.capacity.installed(quarter)
        out.pay("world:suppliers", self.chips_bought * p.dc_capex_usd, "dc_construction", "capex")
        dep = self.capacity.depreciation(quarter)
        out.accrue("depreciation", dep)
        out.accrue("cost_of_revenue", dep)
        energy = self.capacity.energy_usd(self.sold_hours, quarter, self.tech.energy_usd_per_kwh)
        out.pay("world:energy", energy, "energy", "cost_of_revenue")
        out.pay("world:labour", installed * p.dc_opex_usd, "facilities", "cost_of_revenue")
        out.pay("world:labour", p.sga_usd, "sga", "sga")
        if self.debt > 0:
            out.pay("world:lenders", self.debt * p.interest_rate / 4.0, "interest", "interest")
            repay = self.debt / p.life_quarters
            out.pay("world:lenders", repay, "debt_repayment", None)
            self.debt -= repay
        sold = self.sold_hours
        if self.last_sold > 0:
            g = sold / self.last_sold - 1.0
            self.demand_growth = min(0.5, max(-0.3, 0.5 * self.demand_growth + 0.5 * g))
        # buyers it turned away at its ask count as demand it could have served
        unmet = 0.0
        if self.signal is not None:
            unmet = max(0.0, self.signal.wanted - self.signal.sold) / p.service_quality
        self.last_sold = sold + unmet
        self.sold_hours = 0.0
        return out

    def funding_requests(self, obs: Observation) -> list[FundingRequest]:
        p: CloudParams = self.params
        out = []
        if p.leverage > 0 and self.chip_spend > 0:
            out.append(FundingRequest("loan", p.leverage * self.chip_spend))
        reserve = 2.0 * (p.sga_usd + self.capacity.installed(obs.quarter) * p.dc_opex_usd)
        if reserve > self.cash:
            out.append(
                FundingRequest("parent" if p.parent_funded else "equity", reserve - self.cash)
            )
        return out

    def on_default(self) -> float:
        super().on_default()
        return self.capacity.liquidate()


class Neocloud(Cloud):
    """A neocloud: a cloud without a parent's balance sheet, financing chips with debt."""

    layer = Layer.NEOCLOUD
    role = "neocloud"
