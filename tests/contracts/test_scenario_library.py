"""Every scenario of the library is data that loads, says what it encodes, and claims something
testable; each differs from the baseline."""

from __future__ import annotations

import pytest

from runs import run
from runs.scenario import library_names, load_raw, load_scenario

# the moves of the industry: the theory tier (runs/scenarios/theory/, listed as theory/NAME) checks
# textbook results in tests/theory and claims nothing against the baseline
SCENARIOS = [n for n in library_names(folders=False) if n != "baseline"]


def _levels_only(name: str) -> bool:
    """A scenario that asks about a level of the baseline world (every claim ``largest``)
    rather than making a move."""
    claims = load_scenario(name).claims
    return bool(claims) and all(c.direction == "largest" for c in claims)


MOVES = [n for n in SCENARIOS if not _levels_only(n)]
LEVELS = [n for n in SCENARIOS if _levels_only(n)]


def test_a_level_scenario_is_the_baseline_world():
    assert LEVELS, "the library asks no question about a level"
    base = run("baseline", quarters=4, seed=3).firms
    for name in LEVELS:
        assert run(name, quarters=4, seed=3).firms.equals(base)


def test_the_library_holds_the_moves():
    assert {
        "baseline",
        "openai-diversifies-chips",
        "hyperscaler-custom-silicon",
        "labs-compete-with-customers",
        "hosts-go-full-stack",
        "neocloud-squeeze",
        "neocloud-moves-up-stack",
        "funding-dries-up",
        "monetization",
        "openai-full-vertical",
        "openai-owns-compute",
        "openai-owns-compute-and-chips",
        "openai-ends-revenue-share",
        "google-sells-tpus",
        "merchant-chip-competition",
    } <= set(library_names())


@pytest.mark.parametrize("name", SCENARIOS)
def test_each_move_is_described_sourced_and_claims_something(name):
    scenario = load_scenario(name)
    assert scenario.name == name
    assert len(scenario.description) > 40
    assert scenario.claim and scenario.source
    assert scenario.claims, f"{name} has no [[claims]] to judge"


@pytest.mark.parametrize("name", MOVES)
def test_each_move_differs_from_the_baseline_only_by_data(name):
    raw, _ = load_raw(name)
    base, _ = load_raw("baseline")
    changed = {k for k in raw if k not in ("scenario", "claims") and raw.get(k) != base.get(k)}
    assert changed, f"{name} changes nothing but its description"
    assert set(raw) <= {
        "scenario",
        "technology",
        "markets",
        "demand",
        "firms",
        "programs",
        "events",
        "claims",
    }


@pytest.mark.parametrize("name", MOVES)
def test_each_move_runs_and_changes_the_outcome(name):
    quarters = 12
    moved = run(name, quarters=quarters, seed=3).firms
    base = run("baseline", quarters=quarters, seed=3).firms
    assert moved.height > 0
    assert not moved.equals(base), f"{name} leaves 12 quarters of the baseline unchanged"


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_claim_names_the_mechanism_that_carries_it(name):
    scenario = load_scenario(name)
    for claim in scenario.claims:
        assert len(claim.mechanism) > 30, f"{name}: claim {claim.text!r} states no mechanism"
