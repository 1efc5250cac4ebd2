"""The world's inputs that firms and the economy read, besides technology: market settings,
demand settings, custom-chip programmes and scripted events. The scenario loader
(:mod:`runs.scenario`) validates a TOML file into these types; nothing here reads files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from agents.technology import Technology


@dataclass(frozen=True, slots=True)
class Markets:
    compute_price_usd: float = field(
        default=2.2,
        metadata={
            "lo": 0.01,
            "hi": 1000.0,
            "doc": "compute price per H100e-hour the quarter before start "
            "(also the reference price of direct compute demand)",
        },
    )
    token_price_usd: float = field(
        default=1.5,
        metadata={
            "lo": 1e-6,
            "hi": 1e4,
            "doc": "price per M quality-adjusted tokens the quarter before "
            "start (also the reference price of direct API demand)",
        },
    )
    token_choice_elasticity: float = field(
        default=4.0,
        metadata={
            "lo": 0.0,
            "hi": 50.0,
            "doc": "how strongly API buyers favour the seller cheaper per "
            "unit of quality (share ∝ ask^-x; large: the cheapest takes all)",
        },
    )
    chip_choice_elasticity: float = field(
        default=0.0,
        metadata={
            "lo": 0.0,
            "hi": 50.0,
            "doc": "how strongly chip buyers favour the designer cheaper per effective H100e "
            "(share ∝ ask^-x), if designs differ to them beyond their effective performance; "
            "0 (the default): merchant chips are one good priced per effective H100e, the "
            "cheapest designer serving first",
        },
    )
    compute_choice_elasticity: float = field(
        default=8.0,
        metadata={
            "lo": 0.0,
            "hi": 50.0,
            "doc": "how strongly compute renters favour the cloud cheaper per quality-adjusted "
            "hour (share ∝ ask^-x): clouds differ in region, software, support and contracts; "
            "0: hours are a homogeneous good, the cheapest cloud serving first",
        },
    )
    choice_set: int = field(
        default=12,
        metadata={
            "lo": 1,
            "hi": 100_000,
            "doc": "sellers a buyer considers in a differentiated market (the "
            "most attractive ones; the rest sell only what is left over)",
        },
    )
    plan_choice_elasticity: float = field(
        default=5.0,
        metadata={
            "lo": 0.0,
            "hi": 50.0,
            "doc": "how strongly users favour the plan cheaper per unit of "
            "value (share ∝ ask^-x; large: the cheapest takes all)",
        },
    )
    plan_choice_in: str = field(
        default="dollars",
        metadata={
            "allowed": ("dollars", "ratios"),
            "noun": "a way of comparing plans",
            "doc": "how users compare plans' prices: 'dollars' — by the dollars between them "
            "(share ∝ exp(−a·ask), with a = x / the segment's opening price, so the choice "
            "elasticity is x at the opening prices and markups stay in dollars as costs fall); "
            "'ratios' — by their ratio (share ∝ ask^-x; markups in proportion to cost)",
        },
    )


@dataclass(frozen=True, slots=True)
class Demand:
    multiplier: float = field(
        default=1.0,
        metadata={
            "lo": 0.0,
            "hi": 5.0,
            "doc": "scales every segment's growth rates (demand growth)",
        },
    )
    seat_quality_elasticity: float = field(
        default=0.5,
        metadata={
            "lo": 0.0,
            "hi": 5.0,
            "doc": "how seat value scales with the token value of a model",
        },
    )
    growth_half_life_years: float = field(
        default=3.0,
        metadata={
            "lo": 0.25,
            "hi": 1000.0,
            "doc": "years in which every demand growth rate halves "
            "(adoption slows as markets mature; 1000: no fading)",
        },
    )
    noise: float = field(
        default=0.05,
        metadata={
            "lo": 0.0,
            "hi": 1.0,
            "doc": "standard deviation of quarterly demand shocks (log)",
        },
    )


@dataclass(frozen=True, slots=True)
class Program:
    """A custom-chip programme or chip deal: an owner buys chips from one partner only, at the
    partner's unit cost plus a fee (a cost-plus contract), after paying the design's NRE. How much
    of its chip demand the owner moves to it is the owner's make-or-buy decision each quarter.

    ``name`` is the programme's key in the scenario; ``start_quarter`` and ``end_quarter`` are
    ``start`` and ``end`` counted in quarters of the run.
    """

    name: str = field(metadata={"derived": True})
    owner: str = field(metadata={"doc": "firm that buys the chips"})
    partner: str = field(metadata={"doc": "chip designer that builds them"})
    start: str = field(
        default="", metadata={"period": True, "doc": "first quarter; empty for the run's start"}
    )
    end: str = field(
        default="", metadata={"period": True, "doc": "quarter it stops; empty for never"}
    )
    effective_perf: float = field(
        default=1.0, metadata={"lo": 0.01, "hi": 10.0, "doc": "useful H100e per custom chip"}
    )
    fee: float = field(
        default=1.0,
        metadata={
            "lo": 0.0,
            "hi": 10.0,
            "doc": "the partner's fee over its unit cost (slot plus parts) per chip: a cost-plus "
            "contract",
        },
    )
    lead_quarters: int = field(
        default=0,
        metadata={
            "lo": 0,
            "hi": 20,
            "doc": "quarters from the start (when the NRE is paid) to the first chips",
        },
    )
    nre_usd: float = field(
        default=0.0,
        metadata={"lo": 0.0, "hi": 1e12, "doc": "one-off design cost paid to the partner at start"},
    )
    text: str = field(default="", metadata={"doc": "plain-words description for the event log"})
    start_quarter: int = field(default=0, metadata={"derived": True})
    end_quarter: int = field(default=10**6, metadata={"derived": True})
    #: the partner's price per chip this quarter (its cost-plus quote), filled in each quarter
    quote_usd: float = field(default=0.0, metadata={"derived": True})

    def active(self, quarter: int) -> bool:
        return self.start_quarter <= quarter < self.end_quarter

    def delivering(self, quarter: int) -> bool:
        """Chips can be had: the design's lead time since the start has passed."""
        return self.start_quarter + self.lead_quarters <= quarter < self.end_quarter

    def quarter_started(self, quarter: int) -> bool:
        return quarter == self.start_quarter and quarter >= 0


EVENT_KINDS = {
    "sentiment": "set investor sentiment to value",
    "set": "set parameter key of firm to value",
    "launch_app": "firm (a lab) launches its own app in segment at price value",
    "demand": "set the demand multiplier to value",
}


@dataclass(frozen=True, slots=True)
class Event:
    """A scripted change in one quarter (``[[events]]``)."""

    period: str = field(metadata={"period": True, "doc": "the quarter it happens"})
    kind: str = field(
        metadata={
            "allowed": tuple(EVENT_KINDS),
            "noun": "an event kind",
            "doc": "what happens: " + "; ".join(f"{k}: {v}" for k, v in EVENT_KINDS.items()),
        }
    )
    firm: str = field(default="", metadata={"doc": "the firm it concerns (set, launch_app)"})
    key: str = field(default="", metadata={"doc": "the parameter it sets (set)"})
    value: Any = field(
        default=None,
        metadata={
            "lo": 0.0,
            "hi": 1e6,
            "doc": "the new value: of the parameter's type and range for set, "
            "else a number in this range",
        },
    )
    segment: str = field(default="", metadata={"doc": "the segment of the app (launch_app)"})
    text: str = field(default="", metadata={"doc": "plain-words description for the event log"})


@dataclass(frozen=True, slots=True)
class FirmSpec:
    """A firm of the scenario (``[firms.<id>]``): these keys, then its role's ``Params``."""

    role: str = field(
        default="", metadata={"doc": "what the firm does (a role of agents.registry)"}
    )
    name: str = field(default="", metadata={"doc": "display name; empty for its id"})
    strategy: str = field(
        default="profit_seeking", metadata={"doc": "pricing strategy (a name of agents.strategies)"}
    )
    parent: str = field(default="", metadata={"doc": "group it belongs to; empty for none"})
    params: Any = field(default=None, metadata={"derived": True})


class World(Protocol):
    """What the economy reads of a validated scenario (:class:`runs.scenario.Scenario` is one)."""

    start: str
    technology: Technology
    markets: Markets
    demand: Demand
    firms: Mapping[str, FirmSpec]
    programs: Mapping[str, Program]
    events: Sequence[Event]
