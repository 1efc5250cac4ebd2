"""Roles: which firm class plays each role a scenario can name, and its default strategy."""

from __future__ import annotations

from agents.apps import App
from agents.base import Firm
from agents.compute import Cloud, Neocloud
from agents.demand import ChipBuyers, Investors, Segment
from agents.labs import Host, Lab
from agents.supply import ChipDesigner, Foundry

ROLES: dict[str, type[Firm]] = {
    cls.role: cls
    for cls in (
        Foundry,
        ChipDesigner,
        Cloud,
        Neocloud,
        Lab,
        Host,
        App,
        Segment,
        ChipBuyers,
        Investors,
    )
}


def role_class(role: str) -> type[Firm]:
    try:
        return ROLES[role]
    except KeyError:
        raise KeyError(f"unknown role {role!r}; allowed: {', '.join(ROLES)}") from None
