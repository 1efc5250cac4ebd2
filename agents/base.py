"""What every firm shares: its layer, its parameters, its own books, and the orders it sends.

A firm is a Mesa agent. It observes the published state of the economy, returns *intents* (orders
to the auctioneer, funding requests, builds) and learns of its fills. It never writes another
agent's state or balance: money moves only through the ledger, which the economy drives.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import mesa

from market.catalogue import PRODUCING_LAYERS, Layer, Market, Side

__all__ = ["PRODUCING_LAYERS", "Books", "Firm", "Layer", "Market", "Order", "Side", "param"]

if TYPE_CHECKING:
    from agents.protocol import Observation
    from economy.model import Economy


def param(default: Any, lo: float | None = None, hi: float | None = None, doc: str = "") -> Any:
    """A scenario parameter with its allowed range and meaning (read by the scenario validator)."""
    return field(default=default, metadata={"lo": lo, "hi": hi, "doc": doc})


@dataclass(frozen=True, slots=True)
class Order:
    """One price-quantity order sent to the auctioneer.

    ``price`` is per unit of the market (per effective H100e chip, per H100e-hour, per million
    quality-adjusted tokens, per effective seat-quarter). ``book`` separates sub-books of one market
    (a custom-chip programme, an end-user segment). ``tag`` says what the order is for
    (``training``,
    ``inference``), so the firm can book the cost to the right line.
    """

    market: Market
    side: Side
    firm: str
    price: float
    qty: float
    book: str = ""
    tag: str = ""
    #: units of the market per physical unit (performance or quality factor); 1.0 for plain units
    factor: float = 1.0


@dataclass(slots=True)
class Books:
    """One quarter's income statement and cash items of a firm, in US dollars (floats for analysis).

    Cash itself is never kept here: it lives in the ledger in integer cents.
    """

    revenue: float = 0.0
    cost_of_revenue: float = 0.0
    rnd: float = 0.0          # training and research
    sga: float = 0.0          # selling, general and administrative
    other_opex: float = 0.0   # NRE, facility overheads not in cost of revenue
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
    """Base of every firm: identity, parameters, strategy, this quarter's books.

    Subclasses define ``Params`` (a dataclass of scenario parameters with ranges), ``layer``, and
    the hooks the economy calls in protocol order: :meth:`decide`, ``on_fill`` handlers and
    :meth:`end_quarter`.
    """

    layer: ClassVar[Layer]
    role: ClassVar[str]
    Params: ClassVar[type]

    model: Economy

    def __init__(self, model: Economy, firm_id: str, name: str, params: Any, strategy: Any,
                 parent: str = "") -> None:
        super().__init__(model)
        self.firm_id = firm_id
        self.name = name
        self.params = params
        self.strategy = strategy
        self.parent = parent or firm_id
        self.books = Books()
        self.history: list[Books] = []
        self.defaulted = False
        self.debt = 0.0

    # -- protocol hooks -------------------------------------------------------------------------
    def decide(self, obs: Observation) -> list[Order]:
        """Step 2: return this quarter's orders. The default firm sends none."""
        return []

    def end_quarter(self, obs: Observation) -> None:
        """Step 9: close the quarter's books (non-cash items such as depreciation)."""

    def funding_need(self, obs: Observation) -> float:
        """How much new money (USD) this firm asks investors for this quarter; 0 for none."""
        return 0.0

    # -- helpers ---------------------------------------------------------------------------------
    @property
    def cash(self) -> float:
        return self.model.ledger.balance_usd(self.firm_id)

    def close_books(self) -> Books:
        done = self.books
        self.history.append(done)
        self.books = Books()
        return done

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.firm_id}>"
