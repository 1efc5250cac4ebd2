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

if TYPE_CHECKING:
    from agents.protocol import Observation


@dataclass(slots=True)
class Cohort:
    """Accelerators installed in one quarter: how many, their cost, power and depreciation."""

    quarter: int
    h100e: float
    cost_usd: float          # chips plus data-centre shell, capitalised
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

    def energy_usd(self, hours_used: float, quarter: int, usd_per_kwh: float) -> float:
        total = self.installed(quarter)
        if total <= 0:
            return 0.0
        kw = sum(c.h100e * c.kw_per_h100e for c in self.cohorts) / total
        return hours_used * kw * usd_per_kwh

    def liquidate(self) -> float:
        """Remove everything (a default); return the H100e removed."""
        n = sum(c.h100e for c in self.cohorts) + self.in_pipeline()
        self.cohorts.clear()
        for batch in self.pipeline:
            batch.clear()
        return n


def chip_value(tech, quarter: int, price_per_hour: float, build_lag: int, life_quarters: int,
               utilisation: float, dc_capex_usd: float, dc_opex_usd: float,
               hurdle_rate: float, price_outlook: float = -0.10) -> float:
    """Present value of one H100e bought now: rental margin over its life, less the shell.

    The rental price is expected to change by ``price_outlook`` a year (falling as newer chips
    do the same work for less, held up by growing demand and multi-year contracts), and future
    margins are discounted at the hurdle rate (a q-theory investment rule, Tobin 1969).
    """
    hours = tech.hours_per_quarter * utilisation
    energy = tech.energy_usd_per_hour(quarter) * hours
    rent = max(price_per_hour, 0.0) * hours
    terms = ((rent * math.pow(1.0 + price_outlook, j / 4.0) - energy - dc_opex_usd)
             * math.pow(1.0 + hurdle_rate, -j / 4.0)
             for j in range(build_lag, build_lag + life_quarters))
    return math.fsum(terms) - dc_capex_usd


def chip_bids(firm_id: str, programs: list, quarter: int, want: float,
              value: float) -> list[Order]:
    """Bids for ``want`` effective H100e worth ``value`` each: each active custom programme
    takes its ``max_share`` of what is left (per physical chip, each worth its effective
    H100e), the open chip market the rest."""
    orders = []
    for program in programs:
        if program.active(quarter):
            custom = want * program.max_share
            want -= custom
            orders.append(Order(Market.CUSTOM, Side.BID, firm_id, value * program.effective_perf,
                                custom / program.effective_perf, book=program.name, tag="capex",
                                factor=program.effective_perf))
    orders.append(Order(Market.CHIPS, Side.BID, firm_id, value, want, tag="capex"))
    return orders


@dataclass(frozen=True, slots=True)
class CloudParams:
    installed_h100e: float = param(1.0e6, 0.0, 1e10, "H100e in service at start")
    installed_cost_usd: float = param(
        38000.0, 0.0, 1e7, "capitalised cost per installed H100e at start (chips + shell)")
    installed_age_quarters: int = param(4, 0, 40, "average age of the opening fleet")
    ask_usd_per_hour: float = param(2.5, 0.0, 1e3, "rental ask per H100e-hour at start")
    service_quality: float = param(
        1.0, 0.1, 5.0, "what buyers value one of its hours at, in plain H100e-hours")
    build_lag: int = param(2, 0, 12, "quarters from chip delivery to service")
    life_quarters: int = param(24, 4, 60, "depreciation life of accelerators and shell")
    dc_capex_usd: float = param(
        12000.0, 0.0, 1e6, "data-centre shell, power and network capex per H100e")
    dc_opex_usd: float = param(
        600.0, 0.0, 1e6, "facility, staff and lease costs per installed H100e a quarter")
    target_utilisation: float = param(0.85, 0.1, 1.0, "utilisation the ask is steered to")
    ask_speed: float = param(0.3, 0.0, 2.0, "ask response to utilisation gap a quarter")
    reservation_share: float = param(
        0.3, 0.0, 1.0, "share of its steered ask below which it keeps hours idle")
    hurdle_rate: float = param(0.10, 0.0, 1.0, "yearly discount rate for new capacity")
    price_outlook: float = param(
        -0.10, -0.9, 1.0, "yearly change of the rental price it expects over a chip's life")
    growth_cap: float = param(0.20, 0.0, 5.0, "most the fleet may grow by orders in a quarter")
    invest_speed: float = param(
        0.30, 0.0, 5.0, "fleet growth a quarter per unit by which a chip's value exceeds its "
        "price (Tobin's q − 1)")
    leverage: float = param(0.0, 0.0, 0.95, "share of chip purchases financed by debt")
    interest_rate: float = param(0.10, 0.0, 1.0, "yearly interest rate on debt")
    sga_usd: float = param(3e8, 0.0, 1e12, "SG&A a quarter")
    parent_funded: bool = param(
        True, doc="its parent company covers cash shortfalls (hyperscalers)")
    opening_cash_usd: float = param(2e10, 0.0, 1e13, "cash at start")
    opening_debt_usd: float = param(0.0, 0.0, 1e13, "debt at start")


class Cloud(Firm):
    """A cloud (hyperscale or neocloud): buys accelerators, builds capacity, rents H100e-hours.

    * Capacity: orders chips so that capacity ``build_lag`` quarters ahead meets forecast demand
      at the target utilisation (capacity planning on utilisation and forecast with build lags),
      and, when a chip is worth more installed than it costs (Tobin's q above 1), grows the
      fleet by ``invest_speed`` × (q − 1) a quarter, never more than ``growth_cap``.
    * Willingness to pay for a chip: the present value of the rental margin it will earn over
      its life, expecting rental prices to fall with the cost of new hardware, less the shell
      capex (a q-theory investment rule, Tobin 1969).
    * Ask: tâtonnement on its own utilisation (Walras 1874): raised when it sells out, cut when
      capacity stands idle, never below the cash cost of an hour.
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
            self.capacity.cohorts.append(Cohort(
                -p.installed_age_quarters, p.installed_h100e,
                p.installed_h100e * p.installed_cost_usd, p.life_quarters,
                self.model.tech.kw_per_h100e))
        self.ask = p.ask_usd_per_hour
        self.reserve = p.ask_usd_per_hour
        self.debt = p.opening_debt_usd
        self.sold_hours = 0.0
        self.offered_hours = 0.0
        self.utilisation = p.target_utilisation
        self.demand_growth = 0.1
        self.last_sold = p.installed_h100e * self.model.tech.hours_per_quarter \
            * p.target_utilisation
        self.custom_programs: list = []
        self.planning_price = self.model.config.markets.compute_price_usd
        self.price_seen_quarter = -1

    # -- decisions -------------------------------------------------------------------------------
    def decide(self, obs: Observation) -> list[Order]:
        p: CloudParams = self.params
        self.capacity.advance(obs.quarter)
        floor = self.cash_cost_per_hour(obs)
        self.ask = self.strategy.adjust_ask(self.ask, self.utilisation, p.target_utilisation,
                                            p.ask_speed, floor)
        # idle hours earn nothing: an hour is worth selling above its cash cost, so the
        # reservation ask is a fraction of the steered ask (Vickrey 1961: near-truthful
        # offers in a uniform-price auction), never below cash cost
        self.reserve = max(floor, p.reservation_share * self.ask)
        return self.chip_orders(obs)

    def cash_cost_per_hour(self, obs: Observation) -> float:
        return self.model.tech.energy_usd_per_hour(obs.quarter)

    def chip_value(self, obs: Observation) -> float:
        """Present value of one more H100e installed now (USD), at its own rental price.

        The price it plans on is smoothed over the last quarters (adaptive expectations, Nerlove
        1958): one quarter's spike or slump does not start or stop a data-centre build."""
        p: CloudParams = self.params
        if obs.quarter != self.price_seen_quarter:
            self.price_seen_quarter = obs.quarter
            self.planning_price += 0.3 * (obs.compute_price - self.planning_price)
        return chip_value(self.model.tech, obs.quarter, self.planning_price * p.service_quality,
                          p.build_lag, p.life_quarters, p.target_utilisation, p.dc_capex_usd,
                          p.dc_opex_usd, p.hurdle_rate, p.price_outlook)

    def chip_orders(self, obs: Observation) -> list[Order]:
        p: CloudParams = self.params
        installed = self.capacity.installed(obs.quarter)
        ahead = installed + self.capacity.in_pipeline()
        growth = self.demand_growth
        needed = self.last_sold * (1.0 + growth) ** (p.build_lag + 1) / (
            self.model.tech.hours_per_quarter * p.target_utilisation)
        retiring = sum(c.h100e for c in self.capacity.cohorts
                       if not c.alive(obs.quarter + p.build_lag + 1))
        want = max(0.0, needed - ahead + retiring)
        value = self.chip_value(obs)
        # q-theory: when an installed chip is worth more than it costs, grow the fleet in
        # proportion to the excess (Tobin 1969; Hayashi 1982) — at full utilisation the rental
        # price, not the volume sold, is what signals unmet demand
        q = value / max(obs.chip_price, 1.0)
        want = max(want, p.invest_speed * max(0.0, q - 1.0) * installed + retiring
                   - self.capacity.in_pipeline())
        want = min(want, p.growth_cap * max(installed, 1.0) + retiring)
        if want <= 0 or value <= 0:
            return []
        return chip_bids(self.firm_id, self.custom_programs, obs.quarter, want, value)

    def compute_ask(self, obs: Observation, own_use_hours: float = 0.0) -> list[Order]:
        """Step 4: offer every hour not used by the owner itself, in quality-adjusted hours."""
        p: CloudParams = self.params
        hours = self.capacity.installed(obs.quarter) * self.model.tech.hours_per_quarter
        self.offered_hours = max(0.0, hours - own_use_hours)
        if self.offered_hours <= 0:
            return []
        return [Order(Market.COMPUTE, Side.ASK, self.firm_id, self.reserve / p.service_quality,
                      self.offered_hours * p.service_quality, factor=p.service_quality)]

    # -- fills -----------------------------------------------------------------------------------
    def on_chips(self, h100e: float, price_per_h100e: float, obs: Observation) -> None:
        p: CloudParams = self.params
        shell = h100e * p.dc_capex_usd
        self.model.settle(self, "world:suppliers", shell, "dc_construction", payer_line="capex")
        cost = h100e * price_per_h100e + shell
        if p.leverage > 0:
            borrowed = p.leverage * h100e * price_per_h100e
            granted = self.model.lend(self, borrowed)
            self.debt += granted
        self.capacity.add(Cohort(obs.quarter, h100e, cost, p.life_quarters,
                                 self.model.tech.kw(obs.quarter)))

    def on_compute_sold(self, hours: float) -> None:
        self.sold_hours += hours

    def end_quarter(self, obs: Observation) -> None:
        p: CloudParams = self.params
        tech = self.model.tech
        quarter = obs.quarter
        installed = self.capacity.installed(quarter)
        dep = self.capacity.depreciation(quarter)
        energy = self.capacity.energy_usd(self.sold_hours + self.own_hours(), quarter,
                                          tech.energy_usd_per_kwh)
        self.books.add("depreciation", dep)
        self.books.add("cost_of_revenue", dep)
        self.model.settle(self, "world:energy", energy, "energy", payer_line="cost_of_revenue")
        self.model.settle(self, "world:labour", installed * p.dc_opex_usd, "facilities",
                          payer_line="cost_of_revenue")
        self.model.settle(self, "world:labour", p.sga_usd, "sga", payer_line="sga")
        if self.debt > 0:
            self.model.settle(self, "world:lenders", self.debt * p.interest_rate / 4.0,
                              "interest", payer_line="interest")
            repay = self.debt / p.life_quarters
            self.model.settle(self, "world:lenders", repay, "debt_repayment", payer_line=None)
            self.debt -= repay
        offered = max(self.offered_hours, 1.0)
        self.utilisation = self.sold_hours / offered
        sold = self.sold_hours
        if self.last_sold > 0:
            g = sold / self.last_sold - 1.0
            self.demand_growth = min(0.5, max(-0.3, 0.5 * self.demand_growth + 0.5 * g))
        # seeing buyers left unserved at the market price counts as demand it could have served
        share = sold / max(obs.compute_volume_now, 1.0)
        self.last_sold = sold + share * obs.compute_unmet_now
        self.sold_hours = 0.0

    def own_hours(self) -> float:
        return 0.0

    def funding_need(self, obs: Observation) -> float:
        p: CloudParams = self.params
        reserve = 2.0 * (p.sga_usd + self.capacity.installed(obs.quarter) * p.dc_opex_usd)
        return max(0.0, reserve - self.cash)


class Neocloud(Cloud):
    """A neocloud: a cloud without a parent's balance sheet, financing chips with debt."""

    layer = Layer.NEOCLOUD
    role = "neocloud"
