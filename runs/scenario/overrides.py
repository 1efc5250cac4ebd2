"""Setting scenario values by dotted path (``firms.nvidia.list_price_usd``), as the CLI's
``--set``, sweeps and the app do; a path must name a key the scenario declares."""

from __future__ import annotations

import copy
from typing import Any

from agents.registry import ROLES
from agents.technology import Technology
from agents.world import Demand, FirmSpec, Markets, Program
from runs.scenario.errors import ScenarioError
from runs.scenario.fields import table_keys
from runs.scenario.schema import Header

SECTIONS: dict[str, tuple[type, ...]] = {
    "scenario": (Header,),
    "technology": (Technology,),
    "markets": (Markets,),
    "demand": (Demand,),
}


def apply_overrides(raw: dict, overrides: dict[str, Any], source: str) -> dict:
    """Set values by dotted path (``firms.nvidia.list_price_usd``); the path must exist."""
    out = copy.deepcopy(raw)
    for path, value in overrides.items():
        check_path(out, path, source)
        node = out
        parts = path.split(".")
        for n, part in enumerate(parts[:-1]):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ScenarioError(
                    source, path, f"{'.'.join(parts[: n + 1])} is a value, not a table"
                )
        node[parts[-1]] = value
    return out


def known_keys(raw: dict, prefix: str) -> dict[str, Any]:
    """The keys a table accepts and their defaults (an empty value for a required key), for
    path checks and messages; empty for a table the scenario does not have."""
    parts = prefix.split(".") if prefix else []
    classes: tuple[type, ...] = ()
    if len(parts) == 1:
        classes = SECTIONS.get(parts[0], ())
    elif len(parts) == 2 and parts[0] == "firms":
        firm = raw.get("firms", {}).get(parts[1])
        if firm is not None:
            role = ROLES.get(firm.get("role", ""))
            classes = (FirmSpec, role.Params) if role else (FirmSpec,)
    elif len(parts) == 2 and parts[0] == "programs" and parts[1] in raw.get("programs", {}):
        classes = (Program,)
    return {name: key.blank for name, key in table_keys(*classes).items()}


def check_path(raw: dict, path: str, source: str) -> None:
    """Refuse a dotted path that names no key of ``raw``'s tables."""
    parts = path.split(".")
    if len(parts) < 2:
        raise ScenarioError(
            source,
            path,
            "a parameter path has at least two parts, "
            "e.g. technology.chip_cost_decline or firms.nvidia.list_price_usd",
        )
    if parts[0] in ("firms", "programs"):
        table = raw.get(parts[0], {})
        if parts[1] not in table:
            raise ScenarioError(
                source, path, f"no {parts[0][:-1]} {parts[1]!r}; known: " + ", ".join(sorted(table))
            )
        if len(parts) == 2:
            raise ScenarioError(source, path, "name a parameter of it")
        prefix, leaf = ".".join(parts[:2]), parts[2]
    else:
        prefix, leaf = parts[0], parts[1]
    keys = known_keys(raw, prefix)
    if not keys:
        raise ScenarioError(
            source,
            path,
            "unknown table; allowed: scenario, technology, "
            "markets, demand, firms.<id>, programs.<name>",
        )
    if leaf not in keys:
        raise ScenarioError(source, path, "unknown parameter; allowed: " + ", ".join(keys))
