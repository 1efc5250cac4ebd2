"""The protocol firms speak: what they are told, what they ask for, what they learn back.

A quarter runs as a numbered protocol (:mod:`economy.model`). Firms never call the economy and
never touch another firm: they read an :class:`Observation` (published at the start of the
quarter, never changed after), return :class:`Intents` (orders to the auctioneer, payments they
owe under their own decisions and contracts, non-cash accruals, funding requests), and receive
results (:class:`Fill` for each trade, :class:`DemandSignal` for each book they sold in, their
closed income statement and cash). One settlement phase turns intents and fills into money.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from market.catalogue import Market, Side

if TYPE_CHECKING:
    from agents.technology import Technology
    from agents.world import Program


@dataclass(frozen=True, slots=True)
class Order:
    """One price-quantity order sent to the auctioneer.

    ``price`` is per unit of the market (per effective H100e chip, per quality-adjusted
    H100e-hour, per million quality-adjusted tokens, per effective seat-quarter). ``book``
    separates sub-books of one market (a custom-chip programme, an end-user segment). ``tag`` says
    what the order is for (``training``, ``inference``), so the purchase is booked to the right
    line. ``factor`` is the market units per physical unit the order is in (a chip's effective
    performance, a cloud's service quality, a model's token value); 1.0 for plain units.
    """

    market: Market
    side: Side
    firm: str
    price: float
    qty: float
    book: str = ""
    tag: str = ""
    factor: float = 1.0


@dataclass(frozen=True, slots=True)
class Payment:
    """Money a firm owes this quarter under its own decisions or contracts.

    ``payee`` is a firm id or an outside-world account (``world:energy``…); ``line`` is the
    payer's income-statement line (None for balance-sheet items: inventory, repayments). What a
    firm payee books is decided by the settlement from ``kind`` alone.
    """

    payee: str
    amount_usd: float
    kind: str
    line: str | None


@dataclass(frozen=True, slots=True)
class Accrual:
    """A non-cash item of a firm's own income statement (depreciation, goods sold from stock)."""

    line: str
    amount_usd: float


@dataclass(frozen=True, slots=True)
class FundingRequest:
    """New money a firm asks for after the quarter's settlement.

    ``kind``: ``equity`` (a round, granted by investors' sentiment), ``loan`` (debt secured on
    assets, granted by lenders' sentiment) or ``parent`` (its parent company covers it).
    """

    kind: str
    amount_usd: float


@dataclass(frozen=True, slots=True)
class Contract:
    """A take-or-pay compute contract: from quarter ``start`` to ``end`` (exclusive) ``buyer``
    takes ``hours`` quality-adjusted H100e-hours a quarter from ``seller`` at ``price`` each,
    and pays for them whether it uses them or not (as neoclouds' multi-year contracts with labs
    and hyperscalers do). A seller proposes one in its intents; it holds once published in an
    :class:`Observation`, until its term ends or either party defaults."""

    seller: str
    buyer: str
    hours: float
    price: float
    start: int
    end: int
    #: the quarter the chips behind it leave service (a renewal runs no later); -1: unknown
    retires: int = -1

    def live(self, quarter: int) -> bool:
        return self.start <= quarter < self.end

    def remaining_usd(self, quarter: int) -> float:
        """What is still to be paid under it from ``quarter`` on."""
        quarters = max(0, self.end - max(quarter, self.start))
        return quarters * self.hours * self.price


@dataclass(slots=True)
class Intents:
    """What a firm returns from a decision phase."""

    orders: list[Order] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    accruals: list[Accrual] = field(default_factory=list)
    #: free-tier users it served this quarter, by segment (advertisers pay for them)
    ad_users: dict[str, float] = field(default_factory=dict)
    #: take-or-pay contracts it proposes as seller (signed when the buyer is in business)
    contracts: list[Contract] = field(default_factory=list)

    def pay(self, payee: str, amount_usd: float, kind: str, line: str | None) -> None:
        if amount_usd > 0:
            self.payments.append(Payment(payee, amount_usd, kind, line))

    def accrue(self, line: str, amount_usd: float) -> None:
        if amount_usd > 0:
            self.accruals.append(Accrual(line, amount_usd))


@dataclass(frozen=True, slots=True)
class Fill:
    """One of a firm's trades: how much of its order traded, at what unit price.

    ``qty`` and ``price`` are in the market's units; ``factor`` is the firm's own order's and
    ``counter_factor`` the counterparty's (a buyer of chips learns the chip's performance).
    """

    market: Market
    book: str
    side: Side
    qty: float
    price: float
    tag: str
    factor: float
    counter_factor: float
    #: the firm on the other side of the trade
    counterparty: str = ""

    @property
    def amount(self) -> float:
        return self.qty * self.price


@dataclass(frozen=True, slots=True)
class DemandSignal:
    """A seller's own residual demand in one book, from this quarter's bids.

    ``wanted`` is what buyers would have bought from it at its price, served or not, with its
    rivals' prices as they were; ``wanted_below`` and ``wanted_above`` the same at
    ``price·(1 − step)`` and ``price·(1 + step)``. Never a bid that only a rival could serve.
    ``ceiling`` is where its residual demand ends: the cheapest rival price above its own that
    would leave it no buyer. ``sellout`` is the highest price at which the bids, as they trade
    (at or above a price, after rivals priced no higher have sold what they offered), would still
    take all it offered: where it would ration its buyers to its supply.
    """

    market: Market
    book: str
    price: float
    offered: float
    sold: float
    wanted: float
    wanted_below: float
    wanted_above: float
    step: float
    #: the lowest rival price above its own at which a rival would take all of its buyers
    #: (homogeneous goods; ``inf`` when there is none): pricing above it sells nothing
    ceiling: float = float("inf")
    #: the highest bid price at which its residual demand covers all it offered (homogeneous
    #: goods; 0 when none does: its supply does not bind at any price buyers bid)
    sellout: float = 0.0
    #: buyers bidding at or above its price whom no seller served (homogeneous goods): demand it
    #: could have had with more to sell, not demand a rival met
    unserved: float = 0.0
    #: a step below the dearest rival asking less than it (homogeneous goods; 0 when none does),
    #: and the demand it would have there: the price that wins the buyers that rival serves
    undercut: float = 0.0
    wanted_at_undercut: float = 0.0
    #: the elasticity of the whole market's demand (every seller's buyers) around its price: how
    #: buyers respond when every seller's price moves, as with a common cost
    market_elasticity: float = float("nan")


@dataclass(slots=True)
class SegmentView:
    """What firms can see of a customer segment this quarter."""

    users: float
    tokens_per_seat: float
    free_tokens_per_user: float
    ads_usd_per_free_user: float
    user_growth_q: float
    seats_sold: float = 0.0

    def free_users(self, seats_sold: float | None = None) -> float:
        """Users on the free tier: those without a paid seat, where the segment has one."""
        if self.free_tokens_per_user <= 0:
            return 0.0
        sold = self.seats_sold if seats_sold is None else seats_sold
        return max(0.0, self.users - sold)


class SegmentsView(dict[str, SegmentView]):
    def free_tokens_m(self) -> float:
        """M tokens all free-tier users of every segment use this quarter."""
        return sum(s.free_users() * s.free_tokens_per_user for s in self.values())


@dataclass(frozen=True, slots=True)
class Observation:
    """What is published at the start of a quarter (step 1); it does not change after."""

    quarter: int
    period: str
    tech: Technology
    foundry_price: float
    chip_price: float
    compute_price: float
    token_price: float
    reference_compute_price: float
    reference_token_price: float
    best_api_quality: float
    open_quality: float
    frontier_quality: float
    frontier_stock: float
    seat_quality_elasticity: float
    demand_noise: float
    segments: SegmentsView
    programs: tuple[Program, ...] = ()
    #: take-or-pay compute contracts in force this quarter
    contracts: tuple[Contract, ...] = ()

    def programs_of_partner(self, firm_id: str) -> list[Program]:
        return [p for p in self.programs if p.partner == firm_id]

    def programs_of_owner(self, firm_id: str) -> list[Program]:
        return [p for p in self.programs if p.owner == firm_id]

    def segments_quality_factor(self, quality: float) -> float:
        """What users pay for a plan on a model of ``quality``, relative to one on the best model
        of the quarter: users judge a model against the frontier on offer, so willingness to pay
        for seats does not grow without bound as every model improves."""
        value = 2.0 ** ((quality - self.frontier_quality) / self.tech.quality_doubling)
        return value**self.seat_quality_elasticity
