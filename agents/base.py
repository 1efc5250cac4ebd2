"""What every firm shares: its identity, parameters, strategy, random stream and protocol hooks.

A firm is a Mesa agent. It reads the published :class:`~agents.protocol.Observation`, returns
:class:`~agents.protocol.Intents`, and is told its results: fills, its own residual demand, its
closed income statement and cash. It never calls the economy and never reads or writes another
firm: money moves only in the economy's settlement phase, which is the one writer of the ledger
and of every income statement.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import mesa
import numpy as np

from agents.params import param
from agents.protocol import DemandSignal, Fill, FundingRequest, Intents, Observation, Order
from market.catalogue import PRODUCING_LAYERS, Layer, Market, Side

if TYPE_CHECKING:
    from agents.technology import Technology

__all__ = ["PRODUCING_LAYERS", "Books", "Firm", "Layer", "Market", "Order", "Side", "param"]


@dataclass(slots=True)
class Books:
    """One quarter's income statement and cash items of a firm, in US dollars (floats for analysis).

    Cash itself is never kept here: it lives in the ledger in integer cents. Only the economy's
    settlement writes these lines; a firm is handed a copy of its own when the quarter closes.
    """

    revenue: float = 0.0
    cost_of_revenue: float = 0.0
    rnd: float = 0.0  # training and research
    sga: float = 0.0  # selling, general and administrative
    other_opex: float = 0.0  # NRE, facility overheads not in cost of revenue
    interest: float = 0.0
    capex: float = 0.0
    depreciation: float = 0.0
    funding: float = 0.0
    borrowing: float = 0.0

    def add(self, line: str, amount_usd: float) -> None:
        setattr(self, line, getattr(self, line) + amount_usd)

    @property
    def gross_profit(self) -> float:
        return self.revenue - self.cost_of_revenue

    @property
    def opex(self) -> float:
        return self.rnd + self.sga + self.other_opex

    @property
    def operating_income(self) -> float:
        return self.gross_profit - self.opex


INCOME_LINES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Books))


class Firm(mesa.Agent):
    """Base of every firm: identity, parameters, strategy, its own random stream and results.

    Subclasses define ``Params`` (a dataclass of scenario parameters with ranges), ``layer`` and
    the protocol hooks they need, called by the economy in this order each quarter:

    1. :meth:`decide` (orders for every market, payments for what it builds);
    2. :meth:`receive` with its fills of each market as it clears, and :meth:`asks` for the
       markets whose supply it makes from what it received (chips from slots, tokens from hours,
       seats from tokens);
    3. :meth:`learn` with its demand signals;
    4. :meth:`close` (quarter-end payments and accruals);
    5. :meth:`closed` with its settled books and cash; :meth:`funding_requests`, :meth:`funded`;
    6. :meth:`on_default` if it cannot pay; :meth:`exit_reason` and :meth:`on_exit` if staying
       in business is worth less to its owners than closing.
    """

    layer: ClassVar[Layer]
    role: ClassVar[str]
    Params: ClassVar[type]

    def __init__(
        self,
        model: mesa.Model,
        firm_id: str,
        name: str,
        params: Any,
        strategy: Any,
        parent: str,
        tech: Technology,
        rng: np.random.Generator,
        opening_cash_usd: float = 0.0,
    ) -> None:
        super().__init__(model)
        self.firm_id = firm_id
        self.name = name
        self.params = params
        self.strategy = strategy
        self.parent = parent or firm_id
        self.tech = tech
        self.random_stream = rng
        self.cash = opening_cash_usd
        self.last_books = Books()
        self.history: list[Books] = []
        self.defaulted = False
        self.default_quarter = -1
        self.exited = False
        self.exit_quarter = -1
        self.debt = 0.0
        #: decisions in plain words for the event log; the economy collects them each phase
        self.notes: list[str] = []

    # -- protocol hooks -------------------------------------------------------------------------
    def decide(self, obs: Observation) -> Intents:
        """Step 2: this quarter's orders and the payments its decisions commit it to."""
        return Intents()

    def receive(self, fills: list[Fill], obs: Observation) -> None:
        """Its fills in one market (the trades it made), as that market clears."""

    def asks(self, market: Market, obs: Observation) -> list[Order]:
        """What it offers on ``market`` from what it has received this quarter."""
        return []

    def learn(self, signals: list[DemandSignal], obs: Observation) -> None:
        """Its own residual demand in each book it sold in this quarter."""

    def close(self, obs: Observation) -> Intents:
        """Step 9: quarter-end payments (energy, wages, interest…) and accruals."""
        return Intents()

    def closed(self, books: Books, cash_usd: float, obs: Observation) -> None:
        """The quarter's settled income statement and its cash after settlement."""
        self.last_books = books
        self.history.append(books)
        self.cash = cash_usd

    def funding_requests(self, obs: Observation) -> list[FundingRequest]:
        """New money it asks for once the quarter is settled (none by default)."""
        return []

    def funded(self, kind: str, amount_usd: float, cash_usd: float) -> None:
        """What it was granted, and its cash after."""
        self.cash = cash_usd
        if kind == "loan":
            self.debt += amount_usd

    def on_default(self) -> float:
        """It cannot pay and cannot raise funding: write off what it owns; return the H100e of
        capacity written off (0 if it owns none)."""
        self.defaulted = True
        return 0.0

    @property
    def gone(self) -> bool:
        """Out of business: defaulted, or closed by its owners."""
        return self.defaulted or self.exited

    def exit_reason(self, obs: Observation) -> str | None:
        """Why its owners close it now, if they do (a firm never closes by default)."""
        return None

    def on_exit(self) -> float:
        """It closes: stop everything; return the H100e of capacity retired (0 if none)."""
        self.exited = True
        return 0.0

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.firm_id}>"
