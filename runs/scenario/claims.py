"""Claims a scenario makes against the baseline (``[[claims]]``): their declaration and checks.

How a claim is judged is :mod:`runs.claims`; this module only says what a claim may name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agents.world import FirmSpec
from market.calendar import WINDOW_HELP as CALENDAR_WINDOW_HELP
from market.calendar import Window
from runs.scenario.errors import ScenarioError
from runs.scenario.fields import check_table

CLAIM_METRICS = {
    "gross_margin": "gross profit over revenue of the layer or firm",
    "operating_margin": "operating income over revenue of the layer or firm",
    "profit_share": "the layer's or firm's share of the industry's total gross profit",
    "revenue_share": "a layer's share of the industry's revenue; a firm's share of its layer's",
    "revenue": "revenue of the layer or firm, USD",
    "defaults": "number of firms of the layer that default (or 1 if the firm does)",
    "price": "mean clearing price of the market (chips, compute, tokens, foundry)",
    "capacity": "H100e the layer or firm has in service, mean over the window's quarters",
    "funding": "equity, parent and debt funding the layer or firm raised, USD",
    "rnd": "R&D (training compute and research staff) of the layer or firm, USD",
}
CLAIM_MARKETS = ("foundry", "chips", "compute", "tokens")
CLAIM_LAYERS = ("foundry", "chips", "cloud", "neocloud", "lab", "host", "app")
DEFAULT_WINDOW = "2026Q3-2030Q4"
WINDOW_HELP = CALENDAR_WINDOW_HELP


def window_problem(value: Any) -> str | None:
    """What is wrong with a claim's window (the calendar's grammar, as sweeps read it), or None."""
    try:
        Window.parse(value)
    except ValueError as exc:
        return str(exc)
    return None


@dataclass(frozen=True, slots=True)
class Claim:
    """A testable claim a scenario makes against the baseline (``[[claims]]``).

    ``metric`` of ``layer`` (or ``firm``, or ``market`` for prices) over ``window`` moves in
    ``direction`` compared with the baseline run on the same seed.
    """

    text: str = field(metadata={"doc": "the claim in plain words"})
    metric: str = field(
        metadata={"allowed": tuple(CLAIM_METRICS), "noun": "a metric", "doc": "what is measured"}
    )
    direction: str = field(
        metadata={
            "allowed": ("up", "down", "largest"),
            "doc": "how it moves against the baseline; ``largest``: a level, not a change — the "
            "layer's figure exceeds every other layer's in the scenario's own runs",
        }
    )
    layer: str = field(
        default="",
        metadata={"allowed": CLAIM_LAYERS, "noun": "a layer", "doc": "the layer measured"},
    )
    firm: str = field(default="", metadata={"doc": "the firm measured"})
    group: bool = field(
        default=False,
        metadata={
            "doc": "with ``firm``: measure the firm together with the firms whose parent it is "
            "(the group's combined figures; sales within the group are not netted out)"
        },
    )
    market: str = field(
        default="",
        metadata={
            "allowed": CLAIM_MARKETS,
            "noun": "a market",
            "doc": "the market whose price is measured",
        },
    )
    window: str = field(
        default=DEFAULT_WINDOW,
        metadata={
            "check": window_problem,
            "help": WINDOW_HELP,
            "doc": "the periods measured: all, a year, a quarter or a range (ends included)",
        },
    )
    lever: bool = field(
        default=False,
        metadata={
            "doc": "a first-stage check, not a claim: the scenario's move took hold (its "
            "mechanism responded). Not counted in the verdict; it tells a 'not supported' claim "
            "whose move took hold (the effect is small) from one whose move did not"
        },
    )
    mechanism: str = field(
        default="",
        metadata={
            "doc": "the model's rule that carries the claim, in plain words (so a reader can "
            "check that it exists and responds)"
        },
    )


def validate_claims(items: Any, firms: dict[str, FirmSpec], source: str) -> tuple[Claim, ...]:
    if not isinstance(items, list):
        raise ScenarioError(source, "claims", "must be an array of tables ([[claims]])")
    out = []
    for n, item in enumerate(items):
        key = f"claims[{n}]"
        values = check_table(source, key, item, Claim)
        metric = values["metric"]
        targets = [k for k in ("layer", "firm", "market") if values.get(k)]
        wanted = ["market"] if metric == "price" else ["layer", "firm"]
        if len(targets) != 1 or targets[0] not in wanted:
            raise ScenarioError(
                source, key, f"metric {metric!r} needs exactly one of: " + ", ".join(wanted)
            )
        if values["direction"] == "largest" and not values.get("layer"):
            raise ScenarioError(
                source, f"{key}.direction", "'largest' compares layers: name a layer"
            )
        if values.get("group") and not values.get("firm"):
            raise ScenarioError(source, f"{key}.group", "a group is a firm's: name a firm")
        if values.get("firm") and values["firm"] not in firms:
            raise ScenarioError(
                source,
                f"{key}.firm",
                f"unknown firm {values['firm']!r}; known: " + ", ".join(firms),
            )
        out.append(Claim(**values))
    return tuple(out)
