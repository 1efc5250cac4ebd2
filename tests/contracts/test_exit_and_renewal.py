"""Neoclouds' contracts are priced against the spot market and rolled over while their chips run;
a cloud without a parent closes when its fleet cannot earn its SG&A; obsolete cohorts retire
early (agents/compute.py, economy/model.py: exit_closed)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import polars as pl
import pytest

from agents.compute import EXIT_AFTER
from agents.fleet import CapacityBook, Cohort
from agents.protocol import Contract
from economy.model import Economy
from runs import run
from runs.scenario import load_scenario

SIGNED = re.compile(r"take-or-pay contract with .*: .* hours a quarter at \$([0-9.,]+)")


def economy(overrides: dict | None = None) -> Economy:
    return Economy(load_scenario("baseline", overrides or {}), seed=0)


def test_contracts_are_signed_at_no_more_than_the_spot_price() -> None:
    """A buyer commits to take or pay at no more than the spot price it would otherwise pay: every
    contract signed is priced at or below the spot price published that quarter (the compute
    market's price of the quarter before; the scenario's opening price in the first) — at the
    seller's ask, as before, they were signed above it."""
    result = run("baseline", quarters=12, seed=0)
    cleared = dict(
        result.markets.filter((pl.col("market") == "compute") & (pl.col("book") == ""))
        .select("quarter", "price_usd")
        .iter_rows()
    )
    opening = load_scenario("baseline").markets.compute_price_usd
    spot = {q: cleared.get(q - 1, opening) for q in range(12)}
    signed = result.events.filter(pl.col("text").str.contains("signs a"))
    assert signed.height >= 3
    for quarter, text in signed.select("quarter", "text").iter_rows():
        price = float(SIGNED.search(text).group(1).replace(",", ""))
        assert price <= spot[quarter] + 0.005, (quarter, text, spot[quarter])


def test_a_contract_is_rolled_over_while_its_chips_run() -> None:
    """A contract ending next quarter is renewed with the same buyer at the price given, until its
    chips retire (at most a full term); all contracts together stay within contract_share of the
    fleet; a contract whose chips retire when it ends is not renewed."""
    eco = economy()
    cw = eco.firms["coreweave"]
    p = cw.params
    fleet = cw.capacity.installed(5) * eco.tech.hours_per_quarter * p.service_quality
    small = Contract("coreweave", "openai", 0.1 * fleet, 2.0, -11, 5, retires=13)
    obs = SimpleNamespace(quarter=4, contracts=(small,))
    (renewal,) = cw.renewals(obs, 1.5)
    assert (renewal.buyer, renewal.price, renewal.start, renewal.end) == ("openai", 1.5, 5, 13)
    assert renewal.hours == pytest.approx(small.hours) and renewal.retires == 13
    # a long remaining life: at most a full term
    long = Contract("coreweave", "openai", 0.1 * fleet, 2.0, -11, 5, retires=60)
    (renewal,) = cw.renewals(SimpleNamespace(quarter=4, contracts=(long,)), 1.5)
    assert renewal.end == 5 + p.contract_quarters
    # the chips retire as it ends: nothing to renew
    done = Contract("coreweave", "openai", 0.1 * fleet, 2.0, -11, 5, retires=5)
    assert cw.renewals(SimpleNamespace(quarter=4, contracts=(done,)), 1.5) == []
    # another contract already takes the fleet's contracted share: the renewal gets what is left
    other = Contract("coreweave", "microsoft", p.contract_share * fleet - 0.05 * fleet, 2, 0, 20)
    (renewal,) = cw.renewals(SimpleNamespace(quarter=4, contracts=(small, other)), 1.5)
    assert renewal.hours == pytest.approx(0.05 * fleet)


def test_a_neocloud_whose_fleet_cannot_earn_its_sga_closes() -> None:
    """Nebius with a fleet of 100 H100e cannot earn $50M of SG&A a quarter: after EXIT_AFTER
    quarters its owners close it. It is logged as an exit (with the reason), not a default, has
    no rows after its last quarter and takes part no more; the other firms carry on."""
    over = {"firms.nebius.installed_h100e": 100.0, "firms.nebius.sga_usd": 5e7}
    result = run("baseline", quarters=8, seed=0, overrides=over)
    events = result.events.filter(pl.col("firm") == "nebius")
    exits = events.filter(pl.col("kind") == "exit")
    assert exits.height == 1
    assert "would not have earned its SG&A" in exits["text"][0]
    assert events.filter(pl.col("kind") == "default").height == 0
    closed = exits["quarter"][0]
    assert closed == EXIT_AFTER - 1
    rows = result.firms.filter(pl.col("firm") == "nebius")
    assert rows["quarter"].max() == closed
    assert not rows["defaulted"].any()
    assert result.firms.filter(pl.col("firm") == "coreweave")["quarter"].max() == 7


def test_no_cloud_closes_in_the_baseline_and_parents_keep_their_clouds() -> None:
    """The baseline's neoclouds earn their SG&A through 2027; a hyperscaler with a tiny fleet is
    kept by its parent (parent_funded clouds never close)."""
    result = run("baseline", quarters=12, seed=0)
    assert result.events.filter(pl.col("kind") == "exit").height == 0
    tiny = run("baseline", quarters=6, seed=0, overrides={"firms.aws.installed_h100e": 100.0})
    assert tiny.events.filter(pl.col("kind") == "exit").height == 0


def test_obsolete_cohorts_retire_early_and_their_book_value_is_written_off() -> None:
    """A cohort whose energy and facilities cost more an hour than the rental price the cloud
    expects retires before the end of its life; the rest stay; the remaining book value of what
    retired is written off below gross profit that quarter."""
    book = CapacityBook(build_lag=0, life_quarters=20)
    old = Cohort(0, 100.0, 1000.0, 20, kw_per_h100e=2.0)
    new = Cohort(8, 50.0, 500.0, 20, kw_per_h100e=0.2)
    book.cohorts += [old, new]
    retired, value = book.retire(10, lambda c: c.kw_per_h100e < 1.0)
    assert retired == 100.0 and value == pytest.approx(1000.0 * (1 - 10 / 20))
    assert book.cohorts == [new]

    eco = economy()
    cw = eco.firms["coreweave"]
    installed = cw.capacity.installed(0)
    cw.planning_price = 1e-6  # no cohort earns its energy at this price
    cw.retire_obsolete(SimpleNamespace(quarter=0))
    assert installed > 0 and cw.capacity.installed(0) == 0.0 and cw.written_off > 0
    assert any("retires" in note for note in cw.notes)
    value = cw.written_off
    intents = cw.close(eco.publish())
    written = [a.amount_usd for a in intents.accruals if a.line == "other_opex"]
    assert written == [pytest.approx(value)] and cw.written_off == 0.0
    # at a normal price nothing retires
    eco = economy()
    cw = eco.firms["coreweave"]
    cw.planning_price = 2.0
    cw.retire_obsolete(SimpleNamespace(quarter=0))
    assert cw.capacity.installed(0) == pytest.approx(installed) and cw.written_off == 0.0
