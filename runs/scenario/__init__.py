"""Scenarios: checked data. A TOML file is read, merged onto what it extends, and validated.

Unknown keys, wrong types, out-of-range values, unknown roles, strategies or firms are rejected
with one line naming the file, the key and what is allowed (:class:`ScenarioError`). Nothing in a
scenario file is ever executed: strategies are looked up by name in a registry.

The package, one job a module:

* :mod:`~runs.scenario.errors` — :class:`ScenarioError`;
* :mod:`~runs.scenario.io` — reading TOML, writing it back, the digest of a scenario's tables;
* :mod:`~runs.scenario.library` — the library of files, ``extends`` and merging;
* :mod:`~runs.scenario.fields` — the keys' one declaration read into pydantic models and
  one-line messages;
* :mod:`~runs.scenario.schema` — a merged scenario validated into the typed :class:`Scenario`;
* :mod:`~runs.scenario.claims` — what a ``[[claims]]`` entry may say;
* :mod:`~runs.scenario.overrides` — setting values by dotted path;
* :mod:`~runs.scenario.load` — :func:`load_scenario`, the steps in order.
"""

from agents.technology import Technology
from agents.world import Demand, Event, FirmSpec, Markets, Program
from runs.scenario.claims import CLAIM_LAYERS, CLAIM_MARKETS, CLAIM_METRICS, DEFAULT_WINDOW, Claim
from runs.scenario.errors import ScenarioError
from runs.scenario.io import digest, dumps_toml, read_toml
from runs.scenario.library import (
    LIBRARY,
    Layer,
    library_names,
    load_layers,
    load_raw,
    locate,
    merge,
    resolve,
)
from runs.scenario.load import load_scenario, validate_layers
from runs.scenario.overrides import apply_overrides, check_path, known_keys
from runs.scenario.schema import Header, Scenario, validate

__all__ = [
    "CLAIM_LAYERS",
    "CLAIM_MARKETS",
    "CLAIM_METRICS",
    "DEFAULT_WINDOW",
    "LIBRARY",
    "Claim",
    "Demand",
    "Event",
    "FirmSpec",
    "Header",
    "Layer",
    "Markets",
    "Program",
    "Scenario",
    "ScenarioError",
    "Technology",
    "apply_overrides",
    "check_path",
    "digest",
    "dumps_toml",
    "known_keys",
    "library_names",
    "load_layers",
    "load_raw",
    "load_scenario",
    "locate",
    "merge",
    "read_toml",
    "resolve",
    "validate",
    "validate_layers",
]
