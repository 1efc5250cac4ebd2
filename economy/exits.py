"""Step 11 of the quarter: firms leave the economy — by default (they cannot pay) or because
their owners close them (staying in business is worth less than closing)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from market.catalogue import PRODUCING_LAYERS

if TYPE_CHECKING:
    from agents.protocol import Observation
    from economy.model import Economy


def exit_closed(economy: Economy, obs: Observation) -> None:
    """Firms whose owners close them: each firm's own rule (``Firm.exit_reason``), logged as an
    ``exit`` event with its reason."""
    for firm in economy.active():
        reason = firm.exit_reason(obs)
        if reason is None:
            continue
        firm.exit_quarter = economy.quarter
        retired = firm.on_exit()
        economy.log_event(
            firm,
            f"{firm.name} closes: {reason}"
            + (f"; {retired:,.0f} H100e of capacity is retired" if retired else ""),
            "exit",
        )


def exit_defaulted(economy: Economy) -> None:
    """Producing firms with negative cash default: lenders write off the deficit, what they own
    is written off, a ``default`` event is logged."""
    for firm in economy.active():
        if firm.layer not in PRODUCING_LAYERS or economy.settlement.cash_usd(firm.firm_id) >= 0:
            continue
        firm.default_quarter = economy.quarter
        economy.settlement.write_off(firm.firm_id)
        written_off = firm.on_default()
        firm.cash = 0.0
        economy.log_event(
            firm,
            f"{firm.name} cannot pay and cannot raise funding: it defaults"
            + (f"; {written_off:,.0f} H100e of capacity is written off" if written_off else ""),
            "default",
        )
