"""A merged scenario's tables checked into the typed :class:`Scenario`.

Each table is validated against the dataclass that declares its keys (:mod:`runs.scenario.fields`
builds the pydantic models from them); what one table cannot know — that a programme's owner is
a firm of the scenario, that an app's segments exist, which parameter an event sets — is checked
here, with the same one-line messages.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.registry import ROLES, role_class
from agents.strategies import strategy_names
from agents.technology import Technology
from agents.world import Demand, Event, FirmSpec, Markets, Program
from market.calendar import MAX_QUARTERS, MAX_SEED, last_period, quarter_of
from runs.scenario.claims import Claim, validate_claims
from runs.scenario.errors import ScenarioError, shown
from runs.scenario.fields import check_table, check_value, keys
from runs.scenario.io import digest, dumps_toml
from runs.scenario.scale import MAX_SCALE, scaled


@dataclass(frozen=True, slots=True)
class Header:
    """The ``[scenario]`` table: what the scenario is, and how long and on which seed it runs."""

    name: str = field(default="", metadata={"doc": "its name; empty for its file's name"})
    description: str = field(default="", metadata={"doc": "what it encodes, in plain words"})
    claim: str = field(default="", metadata={"doc": "what it claims, in plain words"})
    source: str = field(default="", metadata={"doc": "where its numbers come from"})
    start: str = field(default="2025Q1", metadata={"period": True, "doc": "the first quarter"})
    quarters: int = field(
        default=40, metadata={"lo": 1, "hi": MAX_QUARTERS, "doc": "how many quarters a run has"}
    )
    seed: int = field(default=0, metadata={"lo": 0, "hi": MAX_SEED, "doc": "the random seed"})
    extends: str = field(default="", metadata={"doc": "the scenario it starts from"})
    scale: int = field(
        default=1,
        metadata={
            "lo": 1,
            "hi": MAX_SCALE,
            "doc": "K: run the economy K times over, every app, host and customer segment "
            "cloned K times at 1/K the size (runs.scenario.scale)",
        },
    )


#: the tables of a scenario and the dataclass declaring each one's keys (firms: by role)
TABLES: dict[str, type | None] = {
    "scenario": Header,
    "technology": Technology,
    "markets": Markets,
    "demand": Demand,
    "firms": None,
    "programs": Program,
    "events": Event,
    "claims": Claim,
}


#: the value of an event other than ``set``: a number in the range Event.value declares
EVENT_NUMBER = dataclasses.replace(keys(Event)["value"], type=float)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    claim: str
    source: str
    start: str
    quarters: int
    seed: int
    technology: Technology
    markets: Markets
    demand: Demand
    firms: dict[str, FirmSpec]
    programs: dict[str, Program]
    events: tuple[Event, ...]
    raw: dict[str, Any]
    claims: tuple[Claim, ...] = ()
    #: the scale factor K of ``[scenario] scale``: the firms, events and claims are those of
    #: the scaled economy, ``raw`` the tables as written (with ``scale``)
    scale: int = 1

    def to_toml(self) -> str:
        return dumps_toml(self.raw)

    def digest(self) -> str:
        return digest(self.raw)


def validate(raw: dict, source: str) -> Scenario:
    """Check every table and key of a merged scenario and build the typed :class:`Scenario`."""
    for key in raw:
        if key not in TABLES:
            raise ScenarioError(source, key, "unknown table; allowed: " + ", ".join(sorted(TABLES)))
    header = Header(**check_table(source, "scenario", raw.get("scenario", {}), Header))
    if header.scale > 1:
        # the economy as written is checked first, so that a mistake names its own keys
        written = scaled(raw, 1, source)
        validate(written, source)
        big = validate(scaled(raw, header.scale, source), source)
        return dataclasses.replace(big, raw=raw, scale=header.scale)
    start = header.start
    technology = Technology(
        **check_table(source, "technology", raw.get("technology", {}), Technology)
    )
    markets = Markets(**check_table(source, "markets", raw.get("markets", {}), Markets))
    demand = Demand(**check_table(source, "demand", raw.get("demand", {}), Demand))
    firms = _validate_firms(raw.get("firms", {}), source)
    programs = _validate_programs(raw.get("programs", {}), firms, source, start, header.quarters)
    events = _validate_events(raw.get("events", []), firms, source, start, header.quarters)
    claims = validate_claims(raw.get("claims", []), firms, source)
    return Scenario(
        name=header.name or Path(source.split(" ")[0]).stem,
        description=header.description,
        claim=header.claim,
        source=header.source,
        start=start,
        quarters=header.quarters,
        seed=header.seed,
        technology=technology,
        markets=markets,
        demand=demand,
        firms=firms,
        programs=programs,
        events=events,
        raw=raw,
        claims=claims,
    )


def segments_of(firms: dict[str, FirmSpec]) -> list[str]:
    return [f for f, spec in firms.items() if spec.role == "segment"]


def _validate_firms(table: Any, source: str) -> dict[str, FirmSpec]:
    if not isinstance(table, dict) or not table:
        raise ScenarioError(source, "firms", "must be a table of firms, at least one")
    firms: dict[str, FirmSpec] = {}
    for firm_id, spec in table.items():
        key = f"firms.{firm_id}"
        if not isinstance(spec, dict):
            raise ScenarioError(source, key, "must be a table")
        if firm_id.startswith("world"):
            raise ScenarioError(source, key, "firm ids may not start with 'world'")
        role = spec.get("role")
        if role is None:
            raise ScenarioError(
                source,
                f"{key}.role",
                f"{shown(firm_id)} is not a firm of the "
                "scenario it extends; a new firm needs a role (allowed: " + ", ".join(ROLES) + ")",
            )
        if not isinstance(role, str) or role not in ROLES:
            raise ScenarioError(
                source, f"{key}.role", f"{shown(role)} is not a role; allowed: " + ", ".join(ROLES)
            )
        strategy = spec.get("strategy", keys(FirmSpec)["strategy"].default)
        if strategy not in strategy_names():
            raise ScenarioError(
                source,
                f"{key}.strategy",
                f"unknown strategy {shown(strategy)}; allowed: " + ", ".join(strategy_names()),
            )
        Params = role_class(role).Params
        values = check_table(source, key, spec, FirmSpec, Params)
        firms[firm_id] = FirmSpec(
            role=role,
            name=values.get("name") or firm_id,
            strategy=strategy,
            parent=values.get("parent", ""),
            params=Params(**{k: v for k, v in values.items() if k in keys(Params)}),
        )
    segments = segments_of(firms)
    for firm_id, spec in firms.items():
        if spec.parent and spec.parent not in firms and not spec.parent.isidentifier():
            raise ScenarioError(source, f"firms.{firm_id}.parent", "must be a simple name")
        for f in dataclasses.fields(spec.params):
            value = getattr(spec.params, f.name)
            for segment in value if isinstance(value, dict) else ():
                if segment not in segments:
                    raise ScenarioError(
                        source,
                        f"firms.{firm_id}.{f.name}.{segment}",
                        "not a segment; known: " + ", ".join(segments),
                    )
        for key in ("revenue_share_to", "opening_contract_buyer"):
            target = getattr(spec.params, key, "")
            if target and target not in firms:
                raise ScenarioError(
                    source,
                    f"firms.{firm_id}.{key}",
                    f"unknown firm {shown(target)}; known: " + ", ".join(firms),
                )
    return firms


def span(start: str, quarters: int) -> str:
    return f"the run's quarters are {start} to {last_period(start, quarters)}"


def _validate_programs(
    table: Any, firms: dict[str, FirmSpec], source: str, start: str, n_quarters: int
) -> dict[str, Program]:
    if not isinstance(table, dict):
        raise ScenarioError(source, "programs", "must be a table")
    out = {}
    for name, spec in table.items():
        key = f"programs.{name}"
        values = check_table(source, key, spec, Program)
        for k in ("owner", "partner"):
            if values[k] not in firms:
                raise ScenarioError(
                    source,
                    f"{key}.{k}",
                    f"unknown firm {shown(values[k])}; known: " + ", ".join(firms),
                )
        if firms[values["partner"]].role != "chip_designer":
            raise ScenarioError(source, f"{key}.partner", "must be a chip_designer")
        if firms[values["owner"]].role not in ("cloud", "neocloud", "lab"):
            raise ScenarioError(source, f"{key}.owner", "must be a cloud, neocloud or lab")
        quarters = {"start_quarter": quarter_of(start, values.get("start") or start)}
        if values.get("end"):
            quarters["end_quarter"] = quarter_of(start, values["end"])
            if quarters["end_quarter"] <= quarters["start_quarter"]:
                raise ScenarioError(
                    source,
                    f"{key}.end",
                    f"{values['end']} is not after the programme's start "
                    f"{values.get('start') or start}: it would never run",
                )
            if quarters["end_quarter"] <= 0:
                raise ScenarioError(
                    source,
                    f"{key}.end",
                    f"{values['end']} is not after the run's first quarter {start}, so the "
                    "programme would never run",
                )
        out[name] = Program(name=name, **values, **quarters)
    return out


def _validate_events(
    items: Any, firms: dict[str, FirmSpec], source: str, start: str, n_quarters: int
) -> tuple[Event, ...]:
    if not isinstance(items, list):
        raise ScenarioError(source, "events", "must be an array of tables ([[events]])")
    segments = segments_of(firms)
    out = []
    for n, item in enumerate(items):
        key = f"events[{n}]"
        values = check_table(source, key, item, Event)
        if quarter_of(start, values["period"]) < 0:
            raise ScenarioError(
                source,
                f"{key}.period",
                f"{values['period']} is before the run's first quarter {start}, so the event "
                "would never happen",
            )
        kind, firm = values["kind"], values.get("firm", "")
        if kind in ("set", "launch_app") and firm not in firms:
            raise ScenarioError(
                source, f"{key}.firm", f"unknown firm {shown(firm)}; known: " + ", ".join(firms)
            )
        if kind == "set":
            params = keys(type(firms[firm].params))
            pkey = values.get("key", "")
            if pkey not in params:
                raise ScenarioError(
                    source,
                    f"{key}.key",
                    f"{shown(pkey)} is not a parameter of {firm}; allowed: " + ", ".join(params),
                )
            values["value"] = check_value(source, f"{key}.value", values.get("value"), params[pkey])
        else:
            values["value"] = check_value(source, f"{key}.value", values.get("value"), EVENT_NUMBER)
        if kind == "launch_app" and firms[firm].role not in ("lab", "host"):
            raise ScenarioError(source, f"{key}.firm", "only a lab can launch an app")
        if kind == "launch_app" and values.get("segment", "") not in segments:
            raise ScenarioError(
                source,
                f"{key}.segment",
                f"{shown(values.get('segment', ''))} is not a segment; known: "
                + ", ".join(segments),
            )
        out.append(Event(**values))
    return tuple(out)
