"""Settlement: the one writer of money.

Every payment of a quarter is booked here and nowhere else — the trades the markets cleared, the
payments and accruals firms declared, advertising, funding, defaults — into the ledger (integer
cents, both legs) and into the income statements of the firms on either side. Firms are visited
in sorted order of their ids and trades in the order of the markets, aggregated per buyer, seller
and purpose, so the books never depend on the order of firms in a scenario file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from agents.base import Books
from agents.protocol import Accrual, Intents, Payment
from economy.clearing import Trade, Trades
from market.ledger import Ledger

#: the buyer's income-statement line for each purpose of a purchase (the order's tag)
TAG_LINE: dict[str, str | None] = {
    "capex": "capex",
    "inventory": None,
    "training": "rnd",
    "inference": "cost_of_revenue",
    "free_tier": "cost_of_revenue",
    "api": None,
    "compute": None,
    "plan": None,
}
#: what a firm that is paid books, by the kind of the payment (other kinds go to the world)
PAYEE_LINE: dict[str, str] = {
    "revenue_share": "revenue",
    "custom_chip_nre": "revenue",
    "advertising": "revenue",
    "equity_funding": "funding",
    "parent_funding": "funding",
    "loan": "borrowing",
}
#: the outside-world account each kind of funding comes from
FUNDING_SOURCE: dict[str, tuple[str, str]] = {
    "equity": ("world:investors", "equity_funding"),
    "parent": ("world:investors", "parent_funding"),
    "loan": ("world:lenders", "loan"),
}


class Settlement:
    """The ledger and every producing firm's income statement for the quarter.

    Args:
        ledger: the run's ledger.
        accounts: firm id → the ledger account it pays from (a firm's own, or a world account
            for customers and investors, who keep no books).
        producing: ids of the firms whose income statements are kept.
    """

    def __init__(
        self, ledger: Ledger, accounts: Mapping[str, str], producing: Iterable[str]
    ) -> None:
        self.ledger = ledger
        self.accounts = dict(accounts)
        self.producing = set(producing)
        self.books: dict[str, Books] = {}

    def begin_quarter(self, quarter: int) -> None:
        self.ledger.begin_quarter(quarter)
        self.books = {firm: Books() for firm in sorted(self.producing)}

    def _account(self, party: str) -> str:
        return self.accounts.get(party, party)

    def transfer(
        self,
        payer: str,
        payee: str,
        amount_usd: float,
        kind: str,
        payer_line: str | None,
        payee_line: str | None,
    ) -> int:
        """Book one payment in the ledger and on both income statements; return the cents."""
        if not amount_usd > 0:
            return 0
        cents = self.ledger.transfer(self._account(payer), self._account(payee), amount_usd, kind)
        usd = cents / 100.0
        if payer_line and payer in self.books:
            self.books[payer].add(payer_line, usd)
        if payee_line and payee in self.books:
            self.books[payee].add(payee_line, usd)
        return cents

    def trades(self, trades: Trades | Iterable[Trade], kind: str) -> None:
        """Buyers pay sellers: one payment per buyer, seller and purpose."""
        cells: dict[tuple[str, str, str], float] = {}
        get = cells.get
        for bid, ask, qty, price in trades:
            key = (bid.firm, ask.firm, bid.tag)
            cells[key] = get(key, 0.0) + qty * price
        for (buyer, seller, tag), amount in sorted(cells.items()):
            self.transfer(buyer, seller, amount, kind, TAG_LINE.get(tag), "revenue")

    def intents(self, firm: str, intents: Intents) -> None:
        for payment in intents.payments:
            self.pay(firm, payment)
        for accrual in intents.accruals:
            self.accrue(firm, accrual)

    def pay(self, firm: str, payment: Payment) -> None:
        self.transfer(
            firm,
            payment.payee,
            payment.amount_usd,
            payment.kind,
            payment.line,
            PAYEE_LINE.get(payment.kind),
        )

    def accrue(self, firm: str, accrual: Accrual) -> None:
        """A non-cash line of the firm's own income statement."""
        if firm in self.books and accrual.amount_usd:
            self.books[firm].add(accrual.line, accrual.amount_usd)

    def advertising(self, firm: str, amount_usd: float) -> None:
        self.transfer("world:customers", firm, amount_usd, "advertising", None, "revenue")

    def fund(self, firm: str, kind: str, amount_usd: float) -> float:
        """Pay a granted round, parent transfer or loan; return the dollars paid."""
        source, flow = FUNDING_SOURCE[kind]
        return self.transfer(source, firm, amount_usd, flow, None, PAYEE_LINE[flow]) / 100.0

    def write_off(self, firm: str) -> int:
        """A defaulted firm's negative cash is written off by its lenders; return the cents."""
        deficit = -self.ledger.balance_cents(self._account(firm))
        if deficit > 0:
            self.ledger.transfer_cents(
                "world:lenders", self._account(firm), deficit, "default_write_off"
            )
        return max(deficit, 0)

    def cash_usd(self, firm: str) -> float:
        return self.ledger.balance_usd(self._account(firm))
