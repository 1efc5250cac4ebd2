"""A scenario scaled K times: its apps, hosts and customer segments cloned K times at 1/K the size.

The scaled economy is the scenario's economy K times over, so that a larger economy — more firms
and more orders — can be run and timed without changing what any firm faces:

* every app, host and segment becomes K clones ``<id>_1`` … ``<id>_K``; each clone has 1/K of
  every parameter that is a size (:data:`SPLIT`: users, spend, tokens, cash, fixed costs, and the
  two weights it holds in a market all clones share) and the same value of every other
  (:data:`KEPT`: prices, rates, elasticities, qualities, shares of its own revenue, switches);
* clone k of an app or host sells in clone k of each segment it names, so each cloned segment
  meets the same sellers, at 1/K the size, as the segment it is cloned from; a firm that is not
  cloned (a lab) sells in every clone of each segment it names, at its own prices;
* foundries, chip designers, clouds, neoclouds, labs, the other chip buyers and the investors are
  not cloned: they meet K times as many customers, each 1/K the size;
* ``markets.choice_set`` (the sellers a buyer considers) is multiplied by K, up to its upper
  bound, so that buyers consider the clones of every seller they considered before;
* an event naming a cloned firm happens to every clone (a size it sets is split alike); one
  opening an app of a lab in a segment opens it in every clone of the segment; a firm named as the
  receiver of a revenue share or a contract is its clone of the same number (the first clone for
  a payer that is not cloned); a claim about one cloned firm is dropped (a clone is 1/K of the
  firm it claims about), claims about layers and markets stay.

The clones differ only by their random streams (each firm draws its own demand shocks), so the
scaled economy's totals follow the scenario's with less noise, not the same numbers.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from agents.apps import AppParams
from agents.demand import SegmentParams
from agents.labs import LabParams
from agents.world import Markets
from market.calendar import MAX_SCALE
from runs.scenario.errors import ScenarioError
from runs.scenario.fields import keys

#: the roles cloned, and each one's parameters
CLONED: dict[str, type] = {"app": AppParams, "host": LabParams, "segment": SegmentParams}

#: parameters that are sizes: each clone has 1/K of the scenario's value
SPLIT: dict[str, frozenset[str]] = {
    "app": frozenset({"sga_usd", "opening_cash_usd", "own_model_budget_usd"}),
    "host": frozenset(
        {
            "api_tokens_q",
            "min_training_usd",
            "own_platform_usd",
            "sga_usd",
            "opening_cash_usd",
            "parent_budget_usd",
            # weights in a pool every clone shares: buyers' preference for its platform scales
            # its logit share of the one token market, and its free tier serves a share of every
            # segment's free users; K clones hold the host's weight between them
            "api_appeal",
            "free_users_share",
        }
    ),
    "segment": frozenset({"users", "api_spend_usd", "compute_spend_usd"}),
}

#: parameters that are not sizes: every clone has the scenario's value
KEPT: dict[str, frozenset[str]] = {
    "app": frozenset(
        {
            "segments",
            "pricing",
            "product_fit",
            "token_bid_factor",
            "own_model",
            "own_model_trigger",
            "own_model_quarters",
            "own_model_share",
            "own_tokens_per_hour",
            "runway_quarters",
        }
    ),
    "host": frozenset(
        {
            "training_stock",  # the quality of the model it serves, not a size of the firm
            "tokens_per_hour",
            "model_life_quarters",
            "discount_rate",
            "markup",
            "open_weights",
            "sells_api",
            "serves_open_model",
            "app_segments",
            "app_bonus",
            "revenue_share_to",
            "revenue_share",
            "own_compute_share",
            "runway_quarters",
            "parent_funded",
        }
    ),
    "segment": frozenset(
        {
            "user_growth",
            "wtp_usd",
            "wtp_spread",
            "quality_elasticity",
            "tokens_per_seat",
            "usage_growth",
            "free_tokens_per_user",
            "ads_usd_per_free_user",
            "api_elasticity",
            "api_growth",
            "compute_elasticity",
            "compute_growth",
        }
    ),
}

#: parameters naming another firm (the schema checks that it exists)
FIRM_REFERENCES = ("revenue_share_to", "opening_contract_buyer")

CHOICE_SET_HI = int(keys(Markets)["choice_set"].hi)


def clone_id(firm_id: str, k: int) -> str:
    """The id of clone ``k`` (1 to K) of a firm."""
    return f"{firm_id}_{k}"


def scaled(raw: dict[str, Any], k: int, source: str = "") -> dict[str, Any]:
    """The scenario's merged tables with every app, host and segment cloned ``k`` times (the
    module's rules); an ordinary scenario, validated like any other. ``k`` = 1: a copy of it."""
    if not 1 <= k <= MAX_SCALE:
        raise ScenarioError(source, "scenario.scale", f"must be between 1 and {MAX_SCALE}, got {k}")
    out = copy.deepcopy(raw)
    out.setdefault("scenario", {}).pop("scale", None)
    if k == 1:
        return out
    firms: dict[str, Any] = out.get("firms", {})
    cloned = {f: spec["role"] for f, spec in firms.items() if spec.get("role") in CLONED}
    segments = [f for f, role in cloned.items() if role == "segment"]
    ids = {clone_id(f, n) for f in cloned for n in range(1, k + 1)}
    for taken in sorted(ids & set(firms)):
        raise ScenarioError(
            source, f"firms.{taken}", f"is the id a clone would have at scale {k}: rename it"
        )
    scaler = _Scaler(k, cloned, set(segments))
    new_firms: dict[str, Any] = {}
    for firm_id, spec in firms.items():
        if firm_id not in cloned:
            new_firms[firm_id] = scaler.firm(spec, spec.get("role", ""), None)
            continue
        for n in range(1, k + 1):
            clone = scaler.firm(spec, cloned[firm_id], n)
            clone["name"] = f"{spec.get('name') or firm_id} #{n}"
            new_firms[clone_id(firm_id, n)] = clone
    out["firms"] = new_firms
    markets = out.setdefault("markets", {})
    choice = markets.get("choice_set", keys(Markets)["choice_set"].default)
    markets["choice_set"] = min(CHOICE_SET_HI, choice * k)
    if "events" in out:
        out["events"] = [e for event in out["events"] for e in scaler.event(event, firms)]
    if "claims" in out:
        out["claims"] = [c for c in out["claims"] if c.get("firm") not in cloned]
    return out


class _Scaler:
    """The rules of the module for one scale factor and one roster."""

    def __init__(self, k: int, cloned: dict[str, str], segments: set[str]) -> None:
        self.k = k
        self.cloned = cloned
        self.segments = segments

    def firm(self, spec: dict[str, Any], role: str, n: int | None) -> dict[str, Any]:
        """A firm's table as clone ``n`` (``None``: the firm is not cloned)."""
        out = copy.deepcopy(spec)
        if n is not None:
            params = keys(CLONED[role])
            for name in SPLIT[role]:
                out[name] = self.split(out.get(name, params[name].default))
        for name, value in list(out.items()):
            if isinstance(value, dict):
                out[name] = self.segment_table(value, n)
            elif name in FIRM_REFERENCES and isinstance(value, str):
                out[name] = self.reference(value, n)
        # a table of segments left at its default (an app's) names segments too
        if n is not None:
            for name, key in keys(CLONED[role]).items():
                if name not in out and isinstance(key.default, dict):
                    out[name] = self.segment_table(dict(key.default), n)
        return out

    def split(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value
        return value / self.k

    def segment_table(self, table: dict[str, Any], n: int | None) -> dict[str, Any]:
        """Segment → price: clone ``n``'s segments, or every clone of each (``n`` None)."""
        out: dict[str, Any] = {}
        for segment, price in table.items():
            if segment not in self.segments:
                out[segment] = price  # not a segment: the schema says so
            elif n is not None:
                out[clone_id(segment, n)] = price
            else:
                out.update({clone_id(segment, m): price for m in range(1, self.k + 1)})
        return out

    def reference(self, firm_id: str, n: int | None) -> str:
        if firm_id not in self.cloned:
            return firm_id
        return clone_id(firm_id, n if n is not None else 1)

    def event(self, event: Any, firms: dict[str, Any]) -> list[Any]:
        """The events an event becomes: one per clone of the firm or segment it names."""
        if not isinstance(event, dict):
            return [event]
        firm, kind = event.get("firm", ""), event.get("kind")
        numbers: list[int | None] = list(range(1, self.k + 1)) if firm in self.cloned else [None]
        out = []
        for n in numbers:
            if kind == "launch_app" and n is None and event.get("segment") in self.segments:
                out += [
                    {**event, "segment": clone_id(event["segment"], m)}
                    for m in range(1, self.k + 1)
                ]
                continue
            copy_ = copy.deepcopy(event)
            if n is not None:
                copy_["firm"] = clone_id(firm, n)
                if kind == "launch_app" and event.get("segment") in self.segments:
                    copy_["segment"] = clone_id(event["segment"], n)
            if kind == "set":
                key, value = event.get("key", ""), event.get("value")
                role = self.cloned.get(firm, "")
                if n is not None and key in SPLIT.get(role, ()):
                    copy_["value"] = self.split(value)
                elif isinstance(value, dict):
                    copy_["value"] = self.segment_table(value, n)
                elif key in FIRM_REFERENCES and isinstance(value, str):
                    copy_["value"] = self.reference(value, n)
            out.append(copy_)
        return out


def unclassified() -> dict[str, set[str]]:
    """Parameters of a cloned role that are neither split nor kept (each must be one)."""
    return {
        role: {f.name for f in dataclasses.fields(params)} - SPLIT[role] - KEPT[role]
        for role, params in CLONED.items()
    }
