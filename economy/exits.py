"""Step 11 of the quarter: firms leave the economy — by default (they cannot pay) or because
their owners close them (staying in business is worth less than closing)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from market.catalogue import PRODUCING_LAYERS

if TYPE_CHECKING:
    from agents.base import Firm
    from agents.protocol import Observation
    from economy.settlement import Settlement

Log = Callable[..., None]


def exit_closed(firms: Sequence[Firm], obs: Observation, log: Log) -> None:
    """Firms whose owners close them: each firm's own rule (``Firm.exit_reason``), logged as an
    ``exit`` event with its reason."""
    for firm in firms:
        reason = firm.exit_reason(obs)
        if reason is None:
            continue
        firm.exit_quarter = obs.quarter
        retired = firm.on_exit()
        log(
            firm,
            f"{firm.name} closes: {reason}"
            + (f"; {retired:,.0f} H100e of capacity is retired" if retired else ""),
            "exit",
        )


def exit_defaulted(firms: Sequence[Firm], quarter: int, settlement: Settlement, log: Log) -> None:
    """Producing firms with negative cash default: lenders write off the deficit, what they own
    is written off, a ``default`` event is logged."""
    for firm in firms:
        if firm.layer not in PRODUCING_LAYERS or settlement.cash_usd(firm.firm_id) >= 0:
            continue
        firm.default_quarter = quarter
        settlement.write_off(firm.firm_id)
        written_off = firm.on_default()
        firm.cash = 0.0
        log(
            firm,
            f"{firm.name} cannot pay and cannot raise funding: it defaults"
            + (f"; {written_off:,.0f} H100e of capacity is written off" if written_off else ""),
            "default",
        )
