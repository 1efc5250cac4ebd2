"""Capacity owners: hyperscale clouds and neoclouds build data centres and rent H100e-hours.

The capacity machinery (cohorts, pipeline, depreciation, energy) is :mod:`agents.fleet`'s, shared
with any lab, host or app that owns compute.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agents.base import Books, Firm, Layer, Market, Order, Side, param
from agents.fleet import CapacityBook, Cohort, opening_cohorts
from agents.protocol import Contract, DemandSignal, Fill, FundingRequest, Intents, Observation
from agents.supply import curve_orders

if TYPE_CHECKING:
    from agents.technology import Technology
    from agents.world import Program

#: quarters in a row the fleet a cloud without a parent will run must fall short of its SG&A before
#: its owners close it (one bad quarter is no reason to close)
EXIT_AFTER = 2
#: an old cohort retires only when its cash cost an hour exceeds the price it expects by more than
#: this (the 2% step at which sellers read their demand): at a price equal to its cost it is
#: indifferent, and the theory tier's clouds price exactly at it
RETIRE_TOLERANCE = 0.02


def per_kw(tech: Technology, quarter: int) -> float:
    """A data-centre cost per H100e bought in ``quarter``, relative to the start: shells, power
    and cooling are built per megawatt, so their cost per H100e falls with the power it draws."""
    return tech.kw(quarter) / tech.kw_per_h100e


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


def make_or_buy(programs: list[Program], merchant_price: float) -> list[tuple[Program, float]]:
    """The share of its chip demand an owner moves to each of its programmes.

    Workloads differ in how well they port to a custom chip: the first (the owner's own
    models, written for it) use all of its ``effective_perf``; the last (a renter's code tied to
    the merchant software stack) none of it. With the share ``s`` already moved, the next
    workload gets ``effective_perf · (1 − s)`` useful H100e per custom chip, so the owner moves
    workloads while a custom chip's quote per useful H100e stays below the merchant price per
    H100e: ``s* = 1 − (quote / effective_perf) / merchant_price`` (0 when the programme costs
    more). With several programmes the best one's ``s*`` is moved in all, shared among them in
    proportion to their own ``s*``. A cheaper merchant chip, or a dearer partner, moves demand
    back: no parameter sets the share.
    """
    if merchant_price <= 0:
        return []
    gains = [
        (program, max(0.0, 1.0 - program.quote_usd / program.effective_perf / merchant_price))
        for program in programs
        if program.quote_usd > 0
    ]
    total = math.fsum(g for _, g in gains)
    if total <= 0:
        return []
    moved = max(g for _, g in gains)
    return [(program, moved * g / total) for program, g in gains if g > 0]


def chip_bids(
    firm_id: str, programs: list[Program], want_at, around: float, value: float, tag: str = "capex"
) -> list[Order]:
    """Bids for chips tracing ``want_at(price per effective H100e)``, no bid above ``value``:
    each programme the firm owns takes the share :func:`make_or_buy` moves to it (per physical
    custom chip, each worth its effective H100e), the open chip market the rest."""
    shares = make_or_buy(programs, around)
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
            program.quote_usd,
            tag,
            book=program.name,
            factor=perf,
            cap=value * perf,
        )
    return orders


@dataclass(frozen=True, slots=True)
class CloudParams:
    """A cloud's inputs. Data-centre costs are stated per H100e at the start and scale with the
    power an H100e draws: a shell, its power and cooling are built and run per megawatt."""

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
        12000.0,
        0.0,
        1e6,
        "data-centre shell, power and network capex per H100e at start (then per kW it draws)",
    )
    dc_opex_usd: float = param(
        600.0,
        0.0,
        1e6,
        "facility, staff and lease costs per installed H100e a quarter at start (then per kW)",
    )
    target_utilisation: float = param(
        0.85, 0.1, 1.0, "utilisation it plans new capacity for (capacity planning)"
    )
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
    contract_share: float = param(
        0.0,
        0.0,
        1.0,
        "share of the hours of the chips it buys sold forward to its largest customer on a "
        "take-or-pay contract (the lenders' security for its debt)",
    )
    contract_quarters: int = param(16, 1, 40, "term of its take-or-pay contracts, quarters")
    opening_contract_buyer: str = field(
        default="",
        metadata={
            "doc": "the customer its opening backlog is with: ``contract_share`` of its opening "
            "fleet's hours under a take-or-pay contract at the lower of its opening ask and the "
            "spot price, for what remains of the term (``contract_quarters`` less the fleet's "
            "average age); empty: none"
        },
    )
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
        self.capacity.cohorts += opening_cohorts(
            p.installed_h100e,
            p.installed_cost_usd,
            p.installed_age_quarters,
            p.life_quarters,
            self.tech,
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
        self.customers: dict[str, float] = {}  # hours each buyer took from it this quarter
        self.contracted_usd = 0.0  # value of the contracts it proposed this quarter
        self.written_off = 0.0  # book value of the cohorts it retired early this quarter
        self.losing_quarters = 0  # quarters in a row it would close on (see exit_reason)

    # -- decisions -------------------------------------------------------------------------------
    def energy_cost_per_hour(self, quarter: int) -> float:
        """Marginal cost of an hour of its fleet: the electricity it draws."""
        kw = self.capacity.kw_per_h100e(quarter) or self.tech.kw(quarter)
        return kw * self.tech.energy_usd_per_kwh

    def decide(self, obs: Observation) -> Intents:
        p: CloudParams = self.params
        self.chips_bought = self.chip_spend = 0.0  # this quarter's purchases, for close and loans
        self.capacity.advance(obs.quarter)
        self.retire_obsolete(obs)
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

    def retire_obsolete(self, obs: Observation) -> None:
        """Retire the cohorts that cost more to keep running than the rental price it expects
        would pay even at full use: older chips draw more power per H100e (energy per unit of
        compute falls every year), and once an hour's energy and the cohort's share of the
        facilities exceed the price, every quarter it keeps them loses cash. Their remaining
        book value is written off (an impairment, below gross profit)."""
        p: CloudParams = self.params
        if self.planning_price is None:
            return
        price = self.planning_price * p.service_quality
        hours = self.tech.hours_per_quarter
        per_kw_hour = self.tech.energy_usd_per_kwh + p.dc_opex_usd / (
            self.tech.kw_per_h100e * hours
        )
        retired, book = self.capacity.retire(
            obs.quarter, lambda c: c.kw_per_h100e * per_kw_hour <= price * (1 + RETIRE_TOLERANCE)
        )
        if retired > 0:
            self.written_off += book
            self.notes.append(
                f"{self.name} retires {retired:,.0f} H100e of old chips: their energy and "
                f"facilities cost more than the ${price:,.2f} an hour they would rent for"
            )

    def chip_value(self, obs: Observation) -> float:
        """Present value of one more H100e installed now (USD), at its own rental price.

        The price it plans on is smoothed over the last quarters (adaptive expectations, Nerlove
        1958): one quarter's spike or slump does not start or stop a data-centre build."""
        p: CloudParams = self.params
        if self.planning_price is None:
            self.planning_price = obs.compute_price
        self.planning_price += 0.3 * (obs.compute_price - self.planning_price)
        scale = per_kw(self.tech, obs.quarter)
        return chip_value(
            self.tech,
            obs.quarter,
            self.planning_price * p.service_quality,
            p.build_lag,
            p.life_quarters,
            self.expected_utilisation(obs.quarter),
            p.dc_capex_usd * scale,
            p.dc_opex_usd * scale,
            p.hurdle_rate,
            p.price_outlook,
        )

    def expected_utilisation(self, quarter: int) -> float:
        """The use it expects of its fleet when a chip bought now comes into service: the hours
        it expects to be asked for then (what it sold and turned away last quarter, grown at the
        recent rate over the build lag) over the hours of the fleet it will have (installed and
        being built, less what retires), at most 1. An idle fleet makes a new chip worth less."""
        p: CloudParams = self.params
        ahead = p.build_lag + 1
        fleet = (
            self.capacity.installed(quarter)
            + self.capacity.in_pipeline()
            - math.fsum(c.h100e for c in self.capacity.cohorts if not c.alive(quarter + ahead))
        )
        if fleet <= 0:
            return 1.0
        demand = self.last_sold * (1.0 + self.demand_growth) ** ahead
        return min(1.0, demand / (fleet * self.tech.hours_per_quarter))

    def hour_cost(self, obs: Observation, chip_price: float) -> float:
        """What an hour of a chip bought now at ``chip_price`` costs over its life: the chip and
        its shell recovered over its hours at the expected use (at the hurdle rate), plus the
        energy and facilities of an hour. Its rental price moves with this cost."""
        p: CloudParams = self.params
        scale = per_kw(self.tech, obs.quarter)
        annuity = math.fsum(
            math.pow(1.0 + p.hurdle_rate, -j / 4.0)
            for j in range(p.build_lag, p.build_lag + p.life_quarters)
        )
        hours = self.tech.hours_per_quarter * max(self.expected_utilisation(obs.quarter), 0.05)
        capital = (chip_price + p.dc_capex_usd * scale) / annuity
        return (capital + p.dc_opex_usd * scale) / hours + self.tech.energy_usd_per_hour(
            obs.quarter
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
        most = p.growth_cap * max(installed, 1.0) + retiring
        value = self.chip_value(obs)
        if value <= 0:
            return []
        # derived demand (Marshall): a dearer chip means a dearer hour, and fewer hours wanted
        cost_now = self.hour_cost(obs, max(obs.chip_price, 1.0))
        eps = 1.0
        if self.signal is not None and math.isfinite(self.signal.market_elasticity):
            eps = min(5.0, max(0.3, self.signal.market_elasticity))

        def want_at(price: float) -> float:
            scale = (self.hour_cost(obs, max(price, 1.0)) / cost_now) ** -eps
            base = max(0.0, needed * scale - installed - pipeline + retiring)
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
                    shell = effective * p.dc_capex_usd * per_kw(self.tech, obs.quarter)
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
                    who = fill.counterparty
                    self.customers[who] = self.customers.get(who, 0.0) + fill.qty

    def learn(self, signals: list[DemandSignal], obs: Observation) -> None:
        self.signal = next((s for s in signals if s.market is Market.COMPUTE), None)

    def close(self, obs: Observation) -> Intents:
        p: CloudParams = self.params
        out = Intents()
        quarter = obs.quarter
        shell = self.chips_bought * p.dc_capex_usd * per_kw(self.tech, quarter)
        out.pay("world:suppliers", shell, "dc_construction", "capex")
        dep = self.capacity.depreciation(quarter)
        out.accrue("depreciation", dep)
        out.accrue("cost_of_revenue", dep)
        energy = self.capacity.energy_usd(self.sold_hours, quarter, self.tech.energy_usd_per_kwh)
        out.pay("world:energy", energy, "energy", "cost_of_revenue")
        facilities = self.capacity.installed_kw(quarter) / self.tech.kw_per_h100e * p.dc_opex_usd
        out.pay("world:labour", facilities, "facilities", "cost_of_revenue")
        out.pay("world:labour", p.sga_usd, "sga", "sga")
        out.accrue("other_opex", self.written_off)
        self.written_off = 0.0
        if self.debt > 0:
            out.pay("world:lenders", self.debt * p.interest_rate / 4.0, "interest", "interest")
            repay = self.debt / p.life_quarters
            out.pay("world:lenders", repay, "debt_repayment", None)
            self.debt -= repay
        sold = self.sold_hours
        if self.last_sold > 0:
            g = sold / self.last_sold - 1.0
            self.demand_growth = min(0.5, max(-0.3, 0.5 * self.demand_growth + 0.5 * g))
        # buyers nobody served at or above its ask count as demand it could have served (not
        # those a dearer rival served: planning on them, every cloud would build for the market)
        unmet = 0.0
        if self.signal is not None:
            unmet = self.signal.unserved / p.service_quality
        self.last_sold = sold + unmet
        self.sold_hours = 0.0
        self.contracted_usd = 0.0
        # a buyer commits to take or pay only at a price no higher than the spot price it would
        # otherwise pay: a contract is priced at the lower of its ask and the market's price
        contract_price = min(self.ask / p.service_quality, obs.compute_price)
        if p.contract_share > 0 and self.chips_bought > 0 and self.customers:
            out.contracts.append(self.forward_sale(quarter, contract_price))
            self.contracted_usd = out.contracts[-1].remaining_usd(quarter)
        if quarter == 0 and p.opening_contract_buyer and p.contract_share > 0:
            out.contracts.append(self.opening_backlog(contract_price))
        out.contracts += self.renewals(obs, contract_price)
        self.customers = {}
        return out

    def renewals(self, obs: Observation, price: float) -> list[Contract]:
        """Its contracts ending next quarter, rolled over with the same buyer at ``price`` for as
        long as the chips behind them stay in service (at most a full term), while all its
        contracts together take no more than ``contract_share`` of the fleet still in service
        then: the backlog does not vanish while the fleet that earned it still runs."""
        p: CloudParams = self.params
        mine = [c for c in obs.contracts if c.seller == self.firm_id]
        ending = [c for c in mine if c.end == obs.quarter + 1]
        if not ending:
            return []
        at = obs.quarter + 1
        fleet = self.capacity.installed(at) * self.tech.hours_per_quarter * p.service_quality
        room = fleet * p.contract_share - math.fsum(c.hours for c in mine if c.end > at)
        out = []
        for c in ending:
            end = min(c.retires, c.end + p.contract_quarters)
            hours = min(c.hours, room)
            if end > c.end and hours > 0:
                out.append(Contract(self.firm_id, c.buyer, hours, price, c.end, end, c.retires))
                room -= hours
        return out

    def forward_sale(self, quarter: int, price: float) -> Contract:
        """A take-or-pay contract for ``contract_share`` of the hours of the chips it bought
        this quarter, with the customer that took most hours from it, at ``price`` (see close), from
        when they come into service: the backlog its lenders lend against."""
        p: CloudParams = self.params
        buyer = max(sorted(self.customers), key=lambda who: self.customers[who])
        hours = self.chips_bought * self.tech.hours_per_quarter * p.service_quality
        start = quarter + p.build_lag + 1
        return Contract(
            self.firm_id,
            buyer,
            hours * p.contract_share,
            price,
            start,
            start + p.contract_quarters,
            quarter + p.life_quarters,  # its cohort was bought this quarter
        )

    def opening_backlog(self, price: float) -> Contract:
        """The contracts its opening fleet was financed on, as one: ``contract_share`` of its
        opening hours, at ``price``, from the next quarter for what remains of their
        term."""
        p: CloudParams = self.params
        hours = p.installed_h100e * self.tech.hours_per_quarter * p.service_quality
        remaining = max(1, p.contract_quarters - p.installed_age_quarters)
        return Contract(
            self.firm_id,
            p.opening_contract_buyer,
            hours * p.contract_share,
            price,
            1,
            1 + remaining,
            max(1 + remaining, p.life_quarters - p.installed_age_quarters),
        )

    def funding_requests(self, obs: Observation) -> list[FundingRequest]:
        p: CloudParams = self.params
        out = []
        if p.leverage > 0 and self.chip_spend > 0:
            loan = p.leverage * self.chip_spend
            if p.contract_share > 0:  # lenders advance against contracted revenue only
                loan = min(loan, self.contracted_usd)
            out.append(FundingRequest("loan", loan))
        kw = self.capacity.installed_kw(obs.quarter)
        facilities = kw / self.tech.kw_per_h100e * p.dc_opex_usd
        reserve = 2.0 * (p.sga_usd + facilities)
        if reserve > self.cash:
            out.append(
                FundingRequest("parent" if p.parent_funded else "equity", reserve - self.cash)
            )
        return out

    def closed(self, books: Books, cash_usd: float, obs: Observation) -> None:
        super().closed(books, cash_usd, obs)
        p: CloudParams = self.params
        if p.parent_funded:
            return
        # next quarter's cash operating income if it carries on as it is: its cash gross profit
        # scaled to the fleet in service or being built then (chips it buys count; its old
        # cohorts retire), less its SG&A
        now = self.capacity.installed(obs.quarter)
        then = self.capacity.installed(obs.quarter + 1) + self.capacity.in_pipeline()
        cash_gross = books.gross_profit + books.depreciation
        ahead = (cash_gross * then / now if now > 0 else 0.0) - books.sga
        self.losing_quarters = self.losing_quarters + 1 if ahead < 0.0 else 0

    def exit_reason(self, obs: Observation) -> str | None:
        """A cloud without a parent closes when, for ``EXIT_AFTER`` quarters in a row, the fleet it
        will run next quarter (what stays in service and what it is building) would not earn
        its SG&A: a fleet only shrinks as cohorts retire unless it buys chips, so once it stops
        buying, every quarter more costs its owners money."""
        if self.losing_quarters < EXIT_AFTER:
            return None
        return (
            f"for {self.losing_quarters} quarters the fleet it would run next would not have "
            "earned its SG&A"
        )

    def on_exit(self) -> float:
        super().on_exit()
        return self.capacity.liquidate()

    def on_default(self) -> float:
        super().on_default()
        return self.capacity.liquidate()


class Neocloud(Cloud):
    """A neocloud: a cloud without a parent's balance sheet, financing chips with debt."""

    layer = Layer.NEOCLOUD
    role = "neocloud"
