"""Take-or-pay compute contracts: signed, ended when a party defaults, delivered before the spot
book clears (docs/model.md §4.3).

A seller proposes a :class:`~agents.protocol.Contract` in its closing intents; the book signs it
when the buyer is in business, publishes the contracts in force each quarter and ends one whose
party has defaulted, logging both. :func:`deliver` serves the contracts out of the quarter's
compute orders.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from agents.protocol import Contract, Intents, Order
from economy.clearing import Trades
from market.catalogue import Market, Side


class ContractBook:
    """The contracts signed and not yet ended."""

    def __init__(self) -> None:
        self.signed: list[Contract] = []

    def live(
        self, quarter: int, firms: Mapping[str, Any], log: Callable[..., None]
    ) -> list[Contract]:
        """Contracts in force in ``quarter``; one whose party has defaulted ends (logged)."""
        out, kept = [], []
        for contract in self.signed:
            if quarter >= contract.end:  # served its term
                continue
            seller, buyer = firms[contract.seller], firms[contract.buyer]
            gone = next((f for f in (seller, buyer) if f.gone), None)
            if gone is not None:
                log(
                    seller,
                    f"a take-or-pay contract of {seller.name} with {buyer.name} ends: "
                    f"{gone.name} {'has closed' if gone.exited else 'has defaulted'}",
                    "decision",
                )
                continue
            kept.append(contract)
            if contract.live(quarter):
                out.append(contract)
        self.signed = kept
        return out

    def sign(
        self, closing: Mapping[str, Intents], firms: Mapping[str, Any], log: Callable[..., None]
    ) -> None:
        """Contracts sellers proposed this quarter, signed when the buyer is in business."""
        for firm_id in sorted(closing):
            for contract in closing[firm_id].contracts:
                buyer = firms.get(contract.buyer)
                if contract.seller != firm_id or buyer is None or buyer.gone:
                    continue
                self.signed.append(contract)
                log(
                    firms[firm_id],
                    f"{firms[firm_id].name} signs a {contract.end - contract.start}-quarter "
                    f"take-or-pay contract with {buyer.name}: {contract.hours / 1e6:,.0f} M "
                    f"hours a quarter at ${contract.price:,.2f}",
                    "decision",
                )


def deliver(contracts: Sequence[Contract], book: list[Order]) -> Trades:
    """Hours under take-or-pay contracts, before the spot book clears: each contract takes its
    hours from the seller's ask (as far as it has them) and serves the buyer's highest bids
    first; hours the buyer did not bid for are delivered and paid all the same (take or pay).
    ``book`` (the quarter's compute orders) is left holding what remains for the spot book."""
    out = Trades()
    # where each seller's first ask and each buyer's bids sit in the book (serving a contract
    # changes quantities only, never an order's place, side, firm or price)
    first_ask: dict[str, int] = {}
    bids_of: dict[str, list[int]] = {}
    for i, o in enumerate(book):
        if o.side is Side.ASK:
            first_ask.setdefault(o.firm, i)
        elif o.side is Side.BID:
            bids_of.setdefault(o.firm, []).append(i)
    highest_first: dict[str, list[int]] = {}
    for contract in contracts:
        ask_at = first_ask.get(contract.seller)
        if ask_at is None:
            continue
        ask = book[ask_at]
        due = min(contract.hours, ask.qty)
        left = due
        bids = highest_first.get(contract.buyer)
        if bids is None:
            bids = sorted(bids_of.get(contract.buyer, []), key=lambda i: -book[i].price)
            highest_first[contract.buyer] = bids
        for i in bids:
            if left <= 0:
                break
            take = min(left, book[i].qty)
            out.append(book[i], ask, take, contract.price)
            book[i] = replace(book[i], qty=book[i].qty - take)
            left -= take
        if left > 0:  # taken or not, it is paid for
            unbid = Order(Market.COMPUTE, Side.BID, contract.buyer, contract.price, left)
            out.append(replace(unbid, tag="inference"), ask, left, contract.price)
        book[ask_at] = replace(ask, qty=ask.qty - due)
    return out
