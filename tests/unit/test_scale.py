"""A scaled scenario (``[scenario] scale``, ``--scale``): the clones are the scenario's economy K
times over at 1/K the size — checked on the tables, without running."""

from __future__ import annotations

import dataclasses
import math

import pytest

from runs.scenario import ScenarioError, load_raw, load_scenario, validate
from runs.scenario.scale import CLONED, FIRM_REFERENCES, KEPT, SPLIT, clone_id, scaled, unclassified

K = 3


@pytest.fixture(scope="module")
def base():
    return load_scenario("baseline")


@pytest.fixture(scope="module")
def big():
    return load_scenario("baseline", scale=K)


def clones(scenario, firm_id: str) -> list:
    return [scenario.firms[clone_id(firm_id, n)] for n in range(1, K + 1)]


def test_every_parameter_of_a_cloned_role_is_split_or_kept() -> None:
    assert unclassified() == {role: set() for role in CLONED}
    for role in CLONED:
        assert not SPLIT[role] & KEPT[role]


def test_the_scaled_scenario_validates_and_keeps_the_others_whole(base, big) -> None:
    cloned = [f for f, spec in base.firms.items() if spec.role in CLONED]
    assert len(big.firms) == len(base.firms) + (K - 1) * len(cloned)
    assert big.scale == K and base.scale == 1
    for firm_id, spec in base.firms.items():
        if spec.role in CLONED:
            assert firm_id not in big.firms
            assert all(
                c.role == spec.role and c.parent == spec.parent for c in clones(big, firm_id)
            )
        else:  # labs, clouds, designers, the foundry: unchanged but for the segments named
            tables = {
                f.name: getattr(spec.params, f.name)
                for f in dataclasses.fields(spec.params)
                if isinstance(getattr(spec.params, f.name), dict)
            }
            ours = big.firms[firm_id]
            assert (
                dataclasses.replace(ours, params=dataclasses.replace(ours.params, **tables)) == spec
            )
            for name, table in tables.items():
                assert getattr(ours.params, name) == {
                    clone_id(s, n): price for s, price in table.items() for n in range(1, K + 1)
                }
    assert big.markets.choice_set == K * base.markets.choice_set
    # what is written stays the scenario as written, with its scale: it validates to the same
    assert big.raw["scenario"]["scale"] == K
    assert validate(big.raw, "again").firms == big.firms


def test_every_split_amount_sums_back_to_the_scenario_and_the_rest_is_kept(base, big) -> None:
    for firm_id, spec in base.firms.items():
        if spec.role not in CLONED:
            continue
        parts = clones(big, firm_id)
        for name in SPLIT[spec.role]:
            whole = getattr(spec.params, name)
            assert math.isclose(math.fsum(getattr(c.params, name) for c in parts), whole)
            assert all(math.isclose(getattr(c.params, name), whole / K) for c in parts)
        for name in KEPT[spec.role]:
            value = getattr(spec.params, name)
            if isinstance(value, dict) or name in FIRM_REFERENCES:
                continue  # names of segments or firms: the clones'
            assert all(getattr(c.params, name) == value for c in parts), name


def test_each_cloned_segment_has_the_sellers_of_its_segment(base, big) -> None:
    def sellers(scenario, segment: str) -> set[str]:
        out = set()
        for firm_id, spec in scenario.firms.items():
            for f in dataclasses.fields(spec.params):
                table = getattr(spec.params, f.name)
                if isinstance(table, dict) and segment in table:
                    out.add(firm_id)
        out |= {e.firm for e in scenario.events if e.kind == "launch_app" and e.segment == segment}
        return out

    for segment, spec in base.firms.items():
        if spec.role != "segment":
            continue
        before = sellers(base, segment)
        for n in range(1, K + 1):
            after = sellers(big, clone_id(segment, n))
            assert after, f"{segment} clone {n} has no seller"
            expected = {clone_id(f, n) if base.firms[f].role in CLONED else f for f in before}
            assert after == expected


def test_an_event_on_a_cloned_firm_happens_to_every_clone_with_its_size_split() -> None:
    raw, source = load_raw("baseline")
    raw["events"] = [
        {"period": "2026Q1", "kind": "set", "firm": "cursor", "key": "sga_usd", "value": 9e7},
        {"period": "2026Q1", "kind": "set", "firm": "cursor", "key": "product_fit", "value": 2.0},
        {
            "period": "2026Q1",
            "kind": "launch_app",
            "firm": "together",
            "segment": "consumer",
            "value": 20.0,
        },
    ]
    events = validate(scaled(raw, K, source), source).events
    assert [(e.firm, e.value) for e in events if e.key == "sga_usd"] == [
        (clone_id("cursor", n), 3e7) for n in range(1, K + 1)
    ]
    assert [(e.firm, e.value) for e in events if e.key == "product_fit"] == [
        (clone_id("cursor", n), 2.0) for n in range(1, K + 1)
    ]
    assert [(e.firm, e.segment) for e in events if e.kind == "launch_app"] == [
        (clone_id("together", n), clone_id("consumer", n)) for n in range(1, K + 1)
    ]


def test_a_claim_about_a_cloned_firm_is_dropped_others_stay() -> None:
    raw, source = load_raw("cursor-prices-usage")
    firm_claims = [c for c in raw["claims"] if c.get("firm") == "cursor"]
    assert firm_claims
    out = scaled(raw, K, source)
    assert len(out["claims"]) == len(raw["claims"]) - len(firm_claims)
    validate(out, source)


@pytest.mark.parametrize("k", [0, -1, 1001])
def test_a_scale_out_of_range_is_refused(k: int) -> None:
    with pytest.raises(ScenarioError, match=r"scenario\.scale"):
        load_scenario("baseline", scale=k)


def test_a_firm_with_a_clones_id_is_refused() -> None:
    raw, source = load_raw("baseline")
    raw["firms"]["cursor_2"] = dict(raw["firms"]["replit"])
    with pytest.raises(ScenarioError, match=r"firms\.cursor_2"):
        scaled(raw, K, source)


def test_scale_one_is_the_scenario_itself(base) -> None:
    one = load_scenario("baseline", scale=1)
    assert one.firms == base.firms and one.events == base.events and one.markets == base.markets
