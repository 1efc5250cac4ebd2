"""The world's inputs that firms and the economy read, besides technology: market settings,
demand settings, custom-chip programmes and scripted events. The scenario loader
(:mod:`runs.scenario`) validates a TOML file into these types; nothing here reads files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from market.calendar import PERIOD_HELP

if TYPE_CHECKING:
    from agents.technology import Technology


@dataclass(frozen=True, slots=True)
class Markets:
    compute_price_usd: float = field(default=2.2, metadata={
        "lo": 0.01, "hi": 1000.0, "doc": "compute price per H100e-hour the quarter before start "
        "(also the reference price of direct compute demand)"})
    token_price_usd: float = field(default=1.5, metadata={
        "lo": 1e-6, "hi": 1e4, "doc": "price per M quality-adjusted tokens the quarter before "
        "start (also the reference price of direct API demand)"})
    uniform_k: float = field(default=0.5, metadata={
        "lo": 0.0, "hi": 1.0, "doc": "where in the clearing interval uniform prices fall"})
    token_choice_elasticity: float = field(default=4.0, metadata={
        "lo": 0.0, "hi": 50.0, "doc": "how strongly API buyers favour the seller cheaper per "
        "unit of quality (share ∝ ask^-x; large: the cheapest takes all)"})
    choice_set: int = field(default=12, metadata={
        "lo": 1, "hi": 1000, "doc": "sellers a buyer considers in a differentiated market (the "
        "most attractive ones; the rest sell only what is left over)"})
    plan_choice_elasticity: float = field(default=5.0, metadata={
        "lo": 0.0, "hi": 50.0, "doc": "how strongly users favour the plan cheaper per unit of "
        "value (share ∝ ask^-x; large: the cheapest takes all)"})


@dataclass(frozen=True, slots=True)
class Demand:
    multiplier: float = field(default=1.0, metadata={
        "lo": 0.0, "hi": 10.0, "doc": "scales every segment's growth rates (demand growth)"})
    seat_quality_elasticity: float = field(default=0.5, metadata={
        "lo": 0.0, "hi": 5.0, "doc": "how seat value scales with the token value of a model"})
    growth_half_life_years: float = field(default=3.0, metadata={
        "lo": 0.25, "hi": 1000.0, "doc": "years in which every demand growth rate halves "
        "(adoption slows as markets mature; 1000: no fading)"})
    noise: float = field(default=0.05, metadata={
        "lo": 0.0, "hi": 1.0, "doc": "standard deviation of quarterly demand shocks (log)"})


@dataclass(frozen=True, slots=True)
class Program:
    """A custom-chip programme or chip deal: an owner buys chips from one partner only."""

    name: str
    owner: str
    partner: str
    start: str = "2025Q1"
    end: str = ""
    effective_perf: float = 1.0
    max_share: float = 0.3
    nre_usd: float = 0.0
    text: str = ""
    start_quarter: int = 0
    end_quarter: int = 10**6

    def active(self, quarter: int) -> bool:
        return self.start_quarter <= quarter < self.end_quarter

    def quarter_started(self, quarter: int) -> bool:
        return quarter == self.start_quarter and quarter >= 0


PROGRAM_FIELDS: dict[str, tuple[type, float | None, float | None, str]] = {
    "owner": (str, None, None, "firm that buys the chips"),
    "partner": (str, None, None, "chip designer that builds them"),
    "start": (str, None, None, "first quarter (" + PERIOD_HELP + ")"),
    "end": (str, None, None, "quarter it stops (" + PERIOD_HELP + "), empty for never"),
    "effective_perf": (float, 0.01, 10.0, "useful H100e per custom chip"),
    "max_share": (float, 0.0, 1.0, "share of the owner's new chips it covers"),
    "nre_usd": (float, 0.0, 1e12, "one-off design cost paid to the partner at start"),
    "text": (str, None, None, "plain-words description for the event log"),
}


@dataclass(frozen=True, slots=True)
class Event:
    period: str
    kind: str
    firm: str = ""
    key: str = ""
    value: Any = None
    segment: str = ""
    text: str = ""


EVENT_KINDS = {
    "sentiment": "set investor sentiment to value",
    "set": "set parameter key of firm to value",
    "launch_app": "firm (a lab) launches its own app in segment at price value",
    "demand": "set the demand multiplier to value",
}



@dataclass(frozen=True, slots=True)
class FirmSpec:
    role: str
    name: str
    strategy: str
    parent: str
    params: Any


class World(Protocol):
    """What the economy reads of a validated scenario (:class:`runs.scenario.Scenario` is one)."""

    start: str
    technology: Technology
    markets: Markets
    demand: Demand
    firms: Mapping[str, FirmSpec]
    programs: Mapping[str, Program]
    events: Sequence[Event]
