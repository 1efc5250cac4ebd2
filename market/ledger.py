"""The ledger: every payment in the economy, both legs, in integer cents.

Money is exact. Each account (every firm, and the outside world's accounts: suppliers, energy,
labour, customers' wallets, investors, lenders) holds an int64 balance in cents. A transfer moves a
whole number of cents from payer to payee and is recorded as one flow, so for every quarter

* each account's change in balance equals its inflows minus its outflows, and
* the balances of all accounts, the outside world's included, always sum to exactly zero.

Outside-world accounts start at zero and go negative as they put money into the economy (that
is what "outside" means); firms start with their opening cash, funded from the ``world:opening``
account. Amounts are rounded to cents once, at the transfer, with round-half-even.
"""

from __future__ import annotations

import polars as pl

#: outside-world accounts; every firm id must differ from these
WORLD_ACCOUNTS: tuple[str, ...] = (
    "world:opening",  # opening balances at the start of the run
    "world:suppliers",  # materials, components, equipment, construction
    "world:energy",  # electricity
    "world:labour",  # wages and other operating spending
    "world:customers",  # end users' wallets and advertisers
    "world:investors",  # equity investors and parent companies
    "world:lenders",  # debt holders
)


class LedgerError(RuntimeError):
    """A transfer that breaks the ledger's rules (unknown account, negative amount)."""


class Ledger:
    """Accounts and the flows between them."""

    def __init__(self) -> None:
        self._balance: dict[str, int] = {name: 0 for name in WORLD_ACCOUNTS}
        self._quarter = -1  # opening balances are booked before quarter 0
        self._flows: list[tuple[int, str, str, str, int]] = []
        self._opening: dict[str, int] = {}

    # -- accounts --------------------------------------------------------------------------------
    def open_account(self, name: str, opening_usd: float = 0.0) -> None:
        if name in self._balance:
            raise LedgerError(f"account {name!r} exists already")
        self._balance[name] = 0
        if opening_usd:
            self.transfer("world:opening", name, opening_usd, "opening_balance")

    def accounts(self) -> list[str]:
        return list(self._balance)

    def balance_cents(self, name: str) -> int:
        return self._balance[name]

    def balance_usd(self, name: str) -> float:
        return self._balance[name] / 100.0

    def total_cents(self) -> int:
        """Sum of all balances: always exactly zero."""
        return sum(self._balance.values())

    # -- time ------------------------------------------------------------------------------------
    def begin_quarter(self, quarter: int) -> None:
        self._quarter = quarter
        self._opening = dict(self._balance)

    def opening_balances(self) -> dict[str, int]:
        """Balances at the start of the current quarter."""
        return dict(self._opening)

    # -- money -----------------------------------------------------------------------------------
    @staticmethod
    def to_cents(amount_usd: float) -> int:
        # round() on a float is round-half-even to the nearest int, exactly as np.rint
        return round(amount_usd * 100.0)

    def transfer(self, payer: str, payee: str, amount_usd: float, kind: str) -> int:
        """Move ``amount_usd`` (rounded to whole cents) from payer to payee; return the cents."""
        cents = self.to_cents(amount_usd)
        return self.transfer_cents(payer, payee, cents, kind)

    def transfer_cents(self, payer: str, payee: str, cents: int, kind: str) -> int:
        if payer not in self._balance or payee not in self._balance:
            missing = payer if payer not in self._balance else payee
            raise LedgerError(f"unknown account {missing!r}")
        if cents < 0:
            raise LedgerError(f"negative transfer {cents} cents from {payer} to {payee} ({kind})")
        if cents == 0 or payer == payee:
            return 0
        self._balance[payer] -= cents
        self._balance[payee] += cents
        self._flows.append((self._quarter, payer, payee, kind, cents))
        return cents

    # -- records ---------------------------------------------------------------------------------
    def flows(self) -> pl.DataFrame:
        """Every flow so far as a frame (quarter, payer, payee, kind, amount_cents)."""
        if not self._flows:
            return pl.DataFrame(schema=FLOW_SCHEMA)
        q, payer, payee, kind, cents = zip(*self._flows, strict=True)
        return pl.DataFrame(
            {"quarter": q, "payer": payer, "payee": payee, "kind": kind, "amount_cents": cents},
            schema=FLOW_SCHEMA,
        )

    def quarter_net_cents(self, quarter: int) -> dict[str, int]:
        """Inflows minus outflows per account in one quarter."""
        net: dict[str, int] = {}
        for q, payer, payee, _kind, cents in self._flows:
            if q != quarter:
                continue
            net[payer] = net.get(payer, 0) - cents
            net[payee] = net.get(payee, 0) + cents
        return net


FLOW_SCHEMA = {
    "quarter": pl.Int32,
    "payer": pl.String,
    "payee": pl.String,
    "kind": pl.String,
    "amount_cents": pl.Int64,
}
