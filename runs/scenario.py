"""Scenarios: checked data. A TOML file is read, merged onto what it extends, and validated.

Unknown keys, wrong types, out-of-range values, unknown roles, strategies or firms are rejected
with one line naming the file, the key and what is allowed (:class:`ScenarioError`). Nothing in a
scenario file is ever executed: strategies are looked up by name in a registry.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.registry import ROLES, role_class
from agents.strategies import strategy_names
from agents.technology import Technology
from agents.world import (
    EVENT_KINDS,
    PROGRAM_FIELDS,
    Demand,
    Event,
    FirmSpec,
    Markets,
    Program,
)
from market.calendar import PERIOD_HELP, quarter_of

LIBRARY = Path(__file__).parent / "scenarios"


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message names the file, the key and what is allowed."""

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source, self.key = source, key
        super().__init__(f"{source}: {key}: {message}" if key else f"{source}: {message}")


@dataclass(frozen=True, slots=True)
class Claim:
    """A testable claim a scenario makes against the baseline (``[[claims]]``).

    ``metric`` of ``layer`` (or ``firm``, or ``market`` for prices) over ``window`` moves in
    ``direction`` compared with the baseline run on the same seed.
    """

    text: str
    metric: str
    direction: str
    layer: str = ""
    firm: str = ""
    market: str = ""
    window: str = ""


CLAIM_METRICS = {
    "gross_margin": "gross profit over revenue of the layer or firm",
    "operating_margin": "operating income over revenue of the layer or firm",
    "profit_share": "the layer's or firm's share of the industry's total gross profit",
    "revenue_share": "a layer's share of the industry's revenue; a firm's share of its layer's",
    "revenue": "revenue of the layer or firm, USD",
    "defaults": "number of firms of the layer that default (or 1 if the firm does)",
    "price": "mean clearing price of the market (chips, compute, tokens, foundry)",
}
CLAIM_MARKETS = ("foundry", "chips", "compute", "tokens")
CLAIM_LAYERS = ("foundry", "chips", "cloud", "neocloud", "lab", "host", "app")
DEFAULT_WINDOW = "2026Q3-2030Q4"


def window_bounds(window: str, start: str) -> tuple[int, int]:
    """Quarters (0-based, inclusive) of a window like ``2026Q3-2030Q4`` for a run from start."""
    first, last = window.split("-")

    def q(period: str) -> int:
        return (int(period[:4]) - int(start[:4])) * 4 + int(period[5]) - int(start[5])

    return q(first), q(last)


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

    def to_toml(self) -> str:
        return dumps_toml(self.raw)

    def digest(self) -> str:
        return digest(self.raw)


def digest(raw: dict[str, Any]) -> str:
    """First 16 hex digits of the SHA-256 of a scenario's tables (JSON, sorted keys)."""
    return hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# loading
def library_names() -> list[str]:
    return sorted(p.stem for p in LIBRARY.glob("*.toml"))


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ScenarioError(str(path), "", "no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), "", f"not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise ScenarioError(str(path), "", "not valid TOML (the file is not UTF-8 text)") from None
    except IsADirectoryError:
        raise ScenarioError(str(path), "", "is a folder, not a TOML file") from None
    except OSError as exc:
        raise ScenarioError(str(path), "", f"cannot read ({exc.strerror})") from None


def resolve(name_or_path: str | Path) -> Path:
    """A library name (``baseline``) or a path to a TOML file."""
    text = str(name_or_path)
    if text in library_names():
        return LIBRARY / f"{text}.toml"
    path = Path(text)
    if path.suffix == ".toml" or path.exists():
        return path
    raise ScenarioError(text, "", "not a scenario in the library nor a TOML file; library: "
                        + ", ".join(library_names()))


def load_raw(name_or_path: str | Path, _seen: tuple[str, ...] = ()) -> tuple[dict, str]:
    """Read a scenario file and merge it onto the scenario it ``extends``; return (raw, source)."""
    path = resolve(name_or_path)
    source = str(path) if path.parent != LIBRARY else f"{path.stem} ({path.name})"
    raw = read_toml(path)
    meta = raw.get("scenario", {})
    if not isinstance(meta, dict):
        raise ScenarioError(source, "scenario", "must be a table")
    parent = meta.get("extends")
    if parent:
        if not isinstance(parent, str):
            raise ScenarioError(source, "scenario.extends", "must be a scenario name")
        # a relative path is read from the extending file's folder first, then the CWD
        beside = path.parent / parent
        if parent not in library_names() and beside.is_file():
            parent = str(beside)
        here = str(path.resolve())
        try:
            there = str(resolve(parent).resolve())
        except ScenarioError:
            there = parent
        if there == here or there in _seen:
            raise ScenarioError(source, "scenario.extends", f"circular: {parent} extends, "
                                f"directly or not, {path.name}")
        try:
            parent_path = resolve(parent)
        except ScenarioError:
            parent_path = None
        if parent_path is None or not parent_path.is_file():
            raise ScenarioError(source, "scenario.extends", f"{parent!r} is not a scenario in "
                                "the library nor a TOML file; library: "
                                + ", ".join(library_names()))
        if "events" in raw and not isinstance(raw["events"], list):
            raise ScenarioError(source, "events", "must be an array of tables ([[events]])")
        base, _ = load_raw(parent, (*_seen, here))
        for key, table in (("remove_firms", "firms"), ("remove_programs", "programs")):
            ids = raw.get(key, [])
            if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
                raise ScenarioError(source, key, f"must be an array of {table[:-1]} ids")
            for name in ids:
                if name not in base.get(table, {}):
                    raise ScenarioError(source, key, f"{name!r} is not in {parent}; known: "
                                        + ", ".join(base.get(table, {})))
        own_name = meta.get("name")
        raw = merge(base, raw)
        raw["scenario"].pop("extends", None)
        # a scenario is named by its own file unless it names itself, never by its parent
        raw["scenario"]["name"] = own_name or path.stem
        for key in ("description", "claim", "source"):
            if key not in meta:
                raw["scenario"].pop(key, None)
    return raw, source


def merge(base: dict, over: dict, _top: bool = True) -> dict:
    """Deep-merge ``over`` onto ``base``: tables merge, ``events`` append, other values replace.

    ``remove_firms`` and ``remove_programs`` (lists of ids) drop entries of the base.
    """
    out = copy.deepcopy(base)
    for key, value in over.items():
        if key == "events" and _top:
            out["events"] = list(out.get("events", [])) + list(value)
        elif key in ("remove_firms", "remove_programs") and _top:
            table = "firms" if key == "remove_firms" else "programs"
            for name in value:
                out.get(table, {}).pop(name, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value, _top=False)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_scenario(name_or_path: str | Path = "baseline",
                  overrides: dict[str, Any] | None = None) -> Scenario:
    """Load, merge, override (dotted paths) and validate a scenario."""
    raw, source = load_raw(name_or_path)
    if overrides:
        raw = apply_overrides(raw, overrides, source)
    return validate(raw, source)


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
                raise ScenarioError(source, path, f"{'.'.join(parts[:n + 1])} is a value, "
                                    "not a table")
        node[parts[-1]] = value
    return out


def known_keys(raw: dict, prefix: str) -> dict[str, Any]:
    """The keys (with defaults) a table accepts, for path checks and messages."""
    parts = prefix.split(".") if prefix else []
    sections = {"scenario": SCENARIO_FIELDS, "technology": _fields(Technology),
                "markets": _fields(Markets), "demand": _fields(Demand)}
    if len(parts) == 1 and parts[0] in sections:
        return sections[parts[0]]
    if len(parts) == 2 and parts[0] == "firms":
        firm = raw.get("firms", {}).get(parts[1])
        if firm is None:
            return {}
        cls = ROLES.get(firm.get("role", ""))
        base = {"role": "", "name": "", "strategy": "", "parent": ""}
        return {**base, **(_fields(cls.Params) if cls else {})}
    if len(parts) == 2 and parts[0] == "programs":
        return PROGRAM_FIELDS if parts[1] in raw.get("programs", {}) else {}
    return {}


def check_path(raw: dict, path: str, source: str) -> None:
    parts = path.split(".")
    if len(parts) < 2:
        raise ScenarioError(source, path, "a parameter path has at least two parts, "
                            "e.g. technology.chip_cost_decline or firms.nvidia.list_price_usd")
    if parts[0] in ("firms", "programs"):
        table = raw.get(parts[0], {})
        if parts[1] not in table:
            raise ScenarioError(source, path, f"no {parts[0][:-1]} {parts[1]!r}; known: "
                                + ", ".join(sorted(table)))
        if len(parts) == 2:
            raise ScenarioError(source, path, "name a parameter of it")
        prefix, leaf = ".".join(parts[:2]), parts[2]
    else:
        prefix, leaf = parts[0], parts[1]
    keys = known_keys(raw, prefix)
    if not keys:
        raise ScenarioError(source, path, "unknown table; allowed: scenario, technology, "
                            "markets, demand, firms.<id>, programs.<name>")
    if leaf not in keys:
        raise ScenarioError(source, path, "unknown parameter; allowed: " + ", ".join(keys))


SCENARIO_FIELDS: dict[str, Any] = {
    "name": "", "description": "", "claim": "", "source": "", "start": "2025Q1",
    "quarters": 40, "seed": 0, "extends": "",
}


def _fields(cls: type) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out


# ---------------------------------------------------------------------------------------------
# validation
def _type_name(t: type) -> str:
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string",
            dict: "a table"}.get(t, t.__name__)


def _check_value(source: str, key: str, value: Any, default: Any, meta: dict) -> Any:
    kind = type(default)
    if kind is bool:
        if not isinstance(value, bool):
            raise ScenarioError(source, key, f"must be true or false, got {value!r}")
    elif kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScenarioError(source, key, f"must be an integer, got {value!r}")
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScenarioError(source, key, f"must be a number, got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ScenarioError(source, key, f"must be a finite number, got {value!r}")
    elif kind is str:
        if not isinstance(value, str):
            raise ScenarioError(source, key, f"must be a string, got {value!r}")
    elif kind is dict:
        if not isinstance(value, dict) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                and v >= 0 for v in value.values()):
            raise ScenarioError(source, key, "must be a table of segment = price (a number >= 0)")
        value = {k: float(v) for k, v in value.items()}
    lo, hi = meta.get("lo"), meta.get("hi")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ScenarioError(source, key, f"{value!r} is out of range; allowed {lo} to {hi}")
    allowed = meta.get("allowed")
    if allowed and value not in allowed:
        raise ScenarioError(source, key, f"{value!r} is not allowed; allowed: "
                            + ", ".join(allowed))
    return value


def build_dataclass(cls: type, table: Any, source: str, prefix: str, extra: tuple = ()) -> Any:
    if not isinstance(table, dict):
        raise ScenarioError(source, prefix, "must be a table")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in table.items():
        if key in extra:
            continue
        if key not in fields:
            allowed = ", ".join([*extra, *fields])
            raise ScenarioError(source, f"{prefix}.{key}", f"unknown key; allowed: {allowed}")
        f = fields[key]
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        kwargs[key] = _check_value(source, f"{prefix}.{key}", value, default, dict(f.metadata))
    return cls(**kwargs)


def _period(source: str, key: str, value: Any) -> str:
    if not (isinstance(value, str) and len(value) == 6 and value[:4].isdigit()
            and value[4] == "Q" and value[5] in "1234"):
        raise ScenarioError(source, key, f"{value!r} is not {PERIOD_HELP}")
    return value


def validate(raw: dict, source: str) -> Scenario:
    """Check every table and key of a merged scenario and build the typed :class:`Scenario`."""
    top = {"scenario", "technology", "markets", "demand", "firms", "programs", "events",
           "claims"}
    for key in raw:
        if key not in top:
            raise ScenarioError(source, key, "unknown table; allowed: " + ", ".join(sorted(top)))
    meta = raw.get("scenario", {})
    if not isinstance(meta, dict):
        raise ScenarioError(source, "scenario", "must be a table")
    for key, value in meta.items():
        if key not in SCENARIO_FIELDS:
            raise ScenarioError(source, f"scenario.{key}", "unknown key; allowed: "
                                + ", ".join(SCENARIO_FIELDS))
        _check_value(source, f"scenario.{key}", value, SCENARIO_FIELDS[key],
                     {"lo": 1, "hi": 400} if key == "quarters" else
                     {"lo": 0, "hi": 2**63 - 1} if key == "seed" else {})
    start = _period(source, "scenario.start", meta.get("start", "2025Q1"))
    tech = build_dataclass(Technology, raw.get("technology", {}), source, "technology")
    markets = build_dataclass(Markets, raw.get("markets", {}), source, "markets")
    demand = build_dataclass(Demand, raw.get("demand", {}), source, "demand")
    firms = _validate_firms(raw.get("firms", {}), source)
    programs = _validate_programs(raw.get("programs", {}), firms, source, start)
    events = _validate_events(raw.get("events", []), firms, source, start)
    claims = _validate_claims(raw.get("claims", []), firms, source)
    segments = [f for f, spec in firms.items() if spec.role == "segment"]
    for firm_id, spec in firms.items():
        for f in dataclasses.fields(spec.params):
            value = getattr(spec.params, f.name)
            for segment in value if isinstance(value, dict) else ():
                if segment not in segments:
                    raise ScenarioError(source, f"firms.{firm_id}.{f.name}.{segment}",
                                        "not a segment; known: " + ", ".join(segments))
        target = getattr(spec.params, "revenue_share_to", "")
        if target and target not in firms:
            raise ScenarioError(source, f"firms.{firm_id}.revenue_share_to",
                                f"unknown firm {target!r}; known: " + ", ".join(firms))
    return Scenario(
        name=meta.get("name", Path(source.split(" ")[0]).stem), description=meta.get(
            "description", ""), claim=meta.get("claim", ""), source=meta.get("source", ""),
        start=start, quarters=meta.get("quarters", 40), seed=meta.get("seed", 0),
        technology=tech, markets=markets, demand=demand, firms=firms, programs=programs,
        events=events, raw=raw, claims=claims)


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
            raise ScenarioError(source, f"{key}.role", f"{firm_id!r} is not a firm of the "
                                "scenario it extends; a new firm needs a role (allowed: "
                                + ", ".join(ROLES) + ")")
        if not isinstance(role, str) or role not in ROLES:
            raise ScenarioError(source, f"{key}.role", f"{role!r} is not a role; allowed: "
                                + ", ".join(ROLES))
        strategy = spec.get("strategy", "tatonnement")
        if strategy not in strategy_names():
            raise ScenarioError(source, f"{key}.strategy", f"unknown strategy {strategy!r}; "
                                "allowed: " + ", ".join(strategy_names()))
        for text_key in ("name", "parent"):
            if text_key in spec and not isinstance(spec[text_key], str):
                raise ScenarioError(source, f"{key}.{text_key}", "must be a string")
        params = build_dataclass(role_class(role).Params, spec, source, key,
                                 extra=("role", "name", "strategy", "parent"))
        firms[firm_id] = FirmSpec(role, spec.get("name", firm_id), strategy,
                                  spec.get("parent", ""), params)
    for firm_id, spec in firms.items():
        if spec.parent and spec.parent not in firms and not spec.parent.isidentifier():
            raise ScenarioError(source, f"firms.{firm_id}.parent", "must be a simple name")
    return firms


def _validate_programs(table: Any, firms: dict[str, FirmSpec], source: str,
                       start: str) -> dict[str, Program]:
    if not isinstance(table, dict):
        raise ScenarioError(source, "programs", "must be a table")
    out = {}
    for name, spec in table.items():
        key = f"programs.{name}"
        if not isinstance(spec, dict):
            raise ScenarioError(source, key, "must be a table")
        values: dict[str, Any] = {}
        for k, v in spec.items():
            if k not in PROGRAM_FIELDS:
                raise ScenarioError(source, f"{key}.{k}", "unknown key; allowed: "
                                    + ", ".join(PROGRAM_FIELDS))
            kind, lo, hi, _doc = PROGRAM_FIELDS[k]
            values[k] = _check_value(source, f"{key}.{k}", v, kind(), {"lo": lo, "hi": hi})
        for k in ("owner", "partner"):
            if values.get(k) not in firms:
                raise ScenarioError(source, f"{key}.{k}", f"unknown firm {values.get(k)!r}; "
                                    "known: " + ", ".join(firms))
        if firms[values["partner"]].role != "chip_designer":
            raise ScenarioError(source, f"{key}.partner", "must be a chip_designer")
        if firms[values["owner"]].role not in ("cloud", "neocloud", "lab"):
            raise ScenarioError(source, f"{key}.owner", "must be a cloud, neocloud or lab")
        begin = _period(source, f"{key}.start", values.get("start", start))
        end = values.get("end", "")
        end_q = quarter_of(start, _period(source, f"{key}.end", end)) if end else 10**6
        out[name] = Program(name=name, **values, start_quarter=quarter_of(start, begin),
                            end_quarter=end_q)
    return out


def _validate_events(items: Any, firms: dict[str, FirmSpec], source: str,
                     start: str) -> tuple[Event, ...]:
    if not isinstance(items, list):
        raise ScenarioError(source, "events", "must be an array of tables ([[events]])")
    out = []
    for n, item in enumerate(items):
        key = f"events[{n}]"
        if not isinstance(item, dict):
            raise ScenarioError(source, key, "must be a table")
        for k in item:
            if k not in {f.name for f in dataclasses.fields(Event)}:
                raise ScenarioError(source, f"{key}.{k}", "unknown key; allowed: "
                                    + ", ".join(f.name for f in dataclasses.fields(Event)))
        for k in ("kind", "firm", "key", "segment", "text"):
            if k in item and not isinstance(item[k], str):
                raise ScenarioError(source, f"{key}.{k}", f"must be a string, got {item[k]!r}")
        period = _period(source, f"{key}.period", item.get("period"))
        kind = item.get("kind")
        if kind not in EVENT_KINDS:
            raise ScenarioError(source, f"{key}.kind", f"{kind!r} is not an event kind; "
                                "allowed: " + ", ".join(EVENT_KINDS))
        firm = item.get("firm", "")
        if kind in ("set", "launch_app") and firm not in firms:
            raise ScenarioError(source, f"{key}.firm", f"unknown firm {firm!r}; known: "
                                + ", ".join(firms))
        value = item.get("value")
        if kind == "set":
            params = firms[firm].params
            names = {f.name: f for f in dataclasses.fields(params)}
            pkey = item.get("key", "")
            if pkey not in names:
                raise ScenarioError(source, f"{key}.key", f"{pkey!r} is not a parameter of "
                                    f"{firm}; allowed: " + ", ".join(names))
            f = names[pkey]
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            value = _check_value(source, f"{key}.value", value, default, dict(f.metadata))
        elif kind in ("sentiment", "demand", "launch_app"):
            value = _check_value(source, f"{key}.value", value, 0.0,
                                 {"lo": 0.0, "hi": 1e6})
        if kind == "launch_app" and firms[firm].role not in ("lab", "host"):
            raise ScenarioError(source, f"{key}.firm", "only a lab can launch an app")
        segments = [f for f, spec in firms.items() if spec.role == "segment"]
        if kind == "launch_app" and item.get("segment", "") not in segments:
            raise ScenarioError(source, f"{key}.segment", f"{item.get('segment', '')!r} is not "
                                "a segment; known: " + ", ".join(segments))
        out.append(Event(period=period, kind=kind, firm=firm, key=item.get("key", ""),
                         value=value, segment=item.get("segment", ""), text=item.get("text", "")))
    return tuple(out)


def _window(source: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or value.count("-") != 1:
        raise ScenarioError(source, key, f"{value!r} is not a window like {DEFAULT_WINDOW}")
    first, last = value.split("-")
    _period(source, key, first)
    _period(source, key, last)
    if last < first:
        raise ScenarioError(source, key, f"{value!r} ends before it starts")
    return value


def _validate_claims(items: Any, firms: dict[str, FirmSpec], source: str) -> tuple[Claim, ...]:
    if not isinstance(items, list):
        raise ScenarioError(source, "claims", "must be an array of tables ([[claims]])")
    names = [f.name for f in dataclasses.fields(Claim)]
    out = []
    for n, item in enumerate(items):
        key = f"claims[{n}]"
        if not isinstance(item, dict):
            raise ScenarioError(source, key, "must be a table")
        for k, v in item.items():
            if k not in names:
                raise ScenarioError(source, f"{key}.{k}", "unknown key; allowed: "
                                    + ", ".join(names))
            if not isinstance(v, str):
                raise ScenarioError(source, f"{key}.{k}", f"must be a string, got {v!r}")
        for k in ("text", "metric", "direction"):
            if not item.get(k):
                raise ScenarioError(source, f"{key}.{k}", "is required")
        metric = item["metric"]
        if metric not in CLAIM_METRICS:
            raise ScenarioError(source, f"{key}.metric", f"{metric!r} is not a metric; allowed: "
                                + ", ".join(CLAIM_METRICS))
        if item["direction"] not in ("up", "down"):
            raise ScenarioError(source, f"{key}.direction",
                                f"{item['direction']!r} is not allowed; allowed: up, down")
        targets = [k for k in ("layer", "firm", "market") if item.get(k)]
        wanted = ["market"] if metric == "price" else ["layer", "firm"]
        if len(targets) != 1 or targets[0] not in wanted:
            raise ScenarioError(source, key, f"metric {metric!r} needs exactly one of: "
                                + ", ".join(wanted))
        if item.get("layer") and item["layer"] not in CLAIM_LAYERS:
            raise ScenarioError(source, f"{key}.layer", f"{item['layer']!r} is not a layer; "
                                "allowed: " + ", ".join(CLAIM_LAYERS))
        if item.get("firm") and item["firm"] not in firms:
            raise ScenarioError(source, f"{key}.firm", f"unknown firm {item['firm']!r}; known: "
                                + ", ".join(firms))
        if item.get("market") and item["market"] not in CLAIM_MARKETS:
            raise ScenarioError(source, f"{key}.market", f"{item['market']!r} is not a market; "
                                "allowed: " + ", ".join(CLAIM_MARKETS))
        window = _window(source, f"{key}.window", item.get("window", DEFAULT_WINDOW))
        out.append(Claim(**{**item, "window": window}))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
def dumps_toml(data: dict) -> str:
    """Write a scenario dict back as TOML (tables, arrays of tables, scalars, inline tables)."""
    lines: list[str] = []

    def scalar(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {scalar(x)}" for k, x in v.items()) + " }"
        if isinstance(v, list):
            return "[" + ", ".join(scalar(x) for x in v) + "]"
        raise TypeError(f"cannot write {type(v).__name__} to TOML")

    def table(name: str, body: dict) -> None:
        simple = {k: v for k, v in body.items() if not (isinstance(v, dict) and _is_table(v))}
        nested = {k: v for k, v in body.items() if isinstance(v, dict) and _is_table(v)}
        if simple or not nested:
            lines.append(f"[{name}]")
            lines.extend(f"{k} = {scalar(v)}" for k, v in simple.items())
            lines.append("")
        for k, v in nested.items():
            table(f"{name}.{k}", v)

    for key, value in data.items():
        if isinstance(value, dict):
            table(key, value)
    for key, value in data.items():   # arrays of tables: [[events]], [[claims]]
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                lines.append(f"[[{key}]]")
                lines.extend(f"{k} = {scalar(v)}" for k, v in item.items())
                lines.append("")
    return "\n".join(lines)


def _is_table(v: dict) -> bool:
    return any(isinstance(x, dict) for x in v.values()) or not all(
        isinstance(x, int | float) for x in v.values())
