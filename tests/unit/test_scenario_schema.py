"""The scenario's keys are declared once (dataclass fields and their metadata); the validating
models, their JSON Schema and the known keys of dotted paths all come from that declaration."""

from __future__ import annotations

import dataclasses

import pytest

from agents.registry import ROLES
from agents.technology import Technology
from agents.world import Demand, Event, FirmSpec, Markets, Program
from runs.scenario import Claim, Header, known_keys, load_raw
from runs.scenario.fields import json_schema

TABLES = [
    Header,
    Technology,
    Markets,
    Demand,
    Program,
    Event,
    Claim,
    *(cls.Params for cls in ROLES.values()),
]


@pytest.mark.parametrize("cls", TABLES, ids=lambda c: c.__name__)
def test_the_json_schema_is_the_declaration(cls: type) -> None:
    schema = json_schema(cls)
    assert schema["additionalProperties"] is False
    props = schema["properties"]
    for f in dataclasses.fields(cls):
        if f.metadata.get("derived"):
            assert f.name not in props
            continue
        prop = props[f.name]
        assert prop.get("description", "") == f.metadata.get("doc", "")
        if f.metadata.get("lo") is not None and f.type in ("int", "float"):
            assert prop["minimum"] == f.metadata["lo"]
            assert prop["maximum"] == f.metadata["hi"]
        if f.metadata.get("allowed"):
            assert set(f.metadata["allowed"]) <= set(prop["enum"])


def test_known_keys_are_the_declared_keys() -> None:
    raw, _ = load_raw("baseline")
    assert list(known_keys(raw, "technology")) == [f.name for f in dataclasses.fields(Technology)]
    params = ROLES["foundry"].Params
    keys = known_keys(raw, "firms.tsmc")
    assert list(keys) == [
        "role",
        "name",
        "strategy",
        "parent",
        *(f.name for f in dataclasses.fields(params)),
    ]
    assert "params" not in keys and dataclasses.fields(FirmSpec)[-1].name == "params"
    assert known_keys(raw, "programs.tpu")["owner"] == ""
    assert "start_quarter" not in known_keys(raw, "programs.tpu")


def test_an_event_may_set_a_table_parameter(tmp_path) -> None:
    from runs.scenario import ScenarioError, load_scenario

    body = (
        '[scenario]\nextends = "baseline"\n\n[[events]]\nperiod = "2026Q1"\nkind = "set"\n'
        'firm = "cursor"\nkey = "segments"\n'
    )
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text(body + "value = { developer = 70 }\n")
    bad.write_text(body + "value = { developer = -1.0 }\n")
    assert load_scenario(good).events[-1].value == {"developer": 70.0}
    with pytest.raises(ScenarioError, match=r"\.value: must be a table of segment = price"):
        load_scenario(bad)
