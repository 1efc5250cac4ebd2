"""Investment and make-or-buy respond to the signals they should (agents/compute.py)."""

from __future__ import annotations

import math
from dataclasses import replace

import polars as pl
import pytest

from agents.compute import make_or_buy, per_kw
from agents.fleet import opening_cohorts
from agents.technology import Technology
from agents.world import Program
from runs import run

TECH = Technology()


def program(name: str = "x", quote: float = 9000.0, perf: float = 1.0) -> Program:
    return Program(name=name, owner="cloud", partner="asic", effective_perf=perf, quote_usd=quote)


def test_the_share_moved_to_a_programme_follows_the_prices() -> None:
    """s* = 1 − (quote / perf) / merchant price: found from prices, not set."""
    [(_, share)] = make_or_buy([program(quote=9000.0)], merchant_price=30000.0)
    assert share == pytest.approx(0.7)
    [(_, cheaper_merchant)] = make_or_buy([program(quote=9000.0)], merchant_price=15000.0)
    assert cheaper_merchant == pytest.approx(0.4)
    [(_, weaker_chip)] = make_or_buy([program(quote=9000.0, perf=0.5)], merchant_price=30000.0)
    assert weaker_chip == pytest.approx(0.4)
    assert make_or_buy([program(quote=40000.0)], merchant_price=30000.0) == []  # dearer: buy
    assert make_or_buy([program(quote=0.0)], merchant_price=30000.0) == []  # no chips yet


def test_several_programmes_share_what_the_best_one_would_move() -> None:
    shares = dict(
        (p.name, s)
        for p, s in make_or_buy(
            [program("a", quote=6000.0), program("b", quote=18000.0)], merchant_price=30000.0
        )
    )
    assert math.fsum(shares.values()) == pytest.approx(0.8)  # the best: 1 − 6/30
    assert shares["a"] / shares["b"] == pytest.approx(0.8 / 0.4)


def test_an_opening_fleet_is_cohorts_of_several_ages() -> None:
    cohorts = opening_cohorts(1.0e6, 30000.0, mean_age=4, life=24, tech=TECH)
    assert len(cohorts) == 9
    assert math.fsum(c.h100e for c in cohorts) == pytest.approx(1.0e6)
    assert math.fsum(-c.quarter * c.h100e for c in cohorts) / 1.0e6 == pytest.approx(4.0)
    # older cohorts draw more power; they retire one quarter at a time
    assert cohorts[-1].kw_per_h100e > cohorts[0].kw_per_h100e
    retiring = sorted(c.quarter + c.life_quarters for c in cohorts)
    assert len(set(retiring)) == 9


def test_shell_costs_per_h100e_fall_with_its_power() -> None:
    assert per_kw(TECH, 0) == 1.0
    assert per_kw(TECH, 4) == pytest.approx(1.0 / 1.4)
    assert per_kw(replace(TECH, energy_efficiency_gain=0.0), 40) == 1.0


def _cloud_capex(scenario, quarters: int) -> list[float]:
    result = run(scenario, quarters=quarters, seed=0)
    return (
        result.firms.filter(pl.col("layer").is_in(["cloud", "neocloud"]))
        .group_by("quarter")
        .agg(pl.col("capex_usd").sum())
        .sort("quarter")["capex_usd"]
        .to_list()
    )


def test_capex_falls_when_demand_stops_growing(tmp_path) -> None:
    """Demand growth stopping at 2026Q1 (quarter 4): the demand for chips falls below the
    baseline's at once, in each of the four quarters after; clouds' capex (the chips they get)
    falls from the fifth quarter on (seed 0: 43% less over quarters 8-15). Over the first four it
    is about the same (+0.9%): chips were rationed (the book's unmet demand was 0.5-0.9M H100e
    a quarter), and as other buyers stop growing the clouds get more of what they asked for."""
    flat = tmp_path / "flat.toml"
    flat.write_text(
        '[scenario]\nextends = "baseline"\nname = "flat"\n\n'
        '[[events]]\nperiod = "2026Q1"\nkind = "demand"\nvalue = 0.0\n'
    )
    grown, stopped = _cloud_capex("baseline", 16), _cloud_capex(flat, 16)
    assert stopped[:4] == grown[:4]
    assert math.fsum(stopped[8:12]) < 0.8 * math.fsum(grown[8:12])
    assert math.fsum(stopped[12:16]) < 0.8 * math.fsum(grown[12:16])

    def chip_demand(scenario) -> list[float]:
        m = run(scenario, quarters=8, seed=0).markets
        book = m.filter((pl.col("market") == "chips") & (pl.col("book") == "")).sort("quarter")
        return book["demand"].to_list()

    wanted, wanted_flat = chip_demand("baseline"), chip_demand(flat)
    assert all(wanted_flat[q] < wanted[q] for q in range(4, 8))


def test_neoclouds_borrow_against_take_or_pay_contracts() -> None:
    """CoreWeave pre-sells most of its new hours; contracted hours trade before the spot book;
    lenders lend only against the contracts, so a smaller contracted share means less debt."""
    result = run("baseline", quarters=12, seed=0)
    signed = result.frames["events"].filter(
        (pl.col("firm") == "coreweave") & pl.col("text").str.contains("take-or-pay")
    )
    assert signed.height > 0
    contracted = result.markets.filter(
        (pl.col("market") == "compute") & (pl.col("book") == "contracts")
    )
    assert contracted.height > 0 and contracted["volume"].min() > 0
    thin = run("baseline", quarters=12, seed=0, overrides={"firms.coreweave.contract_share": 0.02})

    def borrowed(r) -> float:
        return r.firms.filter(pl.col("firm") == "coreweave")["borrowing_usd"].sum()

    assert borrowed(thin) < 0.5 * borrowed(result)


def test_a_clouds_chip_demand_falls_with_the_chip_price() -> None:
    """Derived demand: at a dearer chip an hour costs more and fewer hours are wanted, so the
    cloud's bid curve slopes down (it was flat up to a chip's value)."""
    from economy.model import Economy
    from market.catalogue import Market
    from runs.scenario import load_scenario

    # growth uncapped, so the curve shows its slope rather than the cap
    economy = Economy(load_scenario("baseline", {"firms.aws.growth_cap": 5.0}), seed=0)
    for _ in range(4):
        economy.step()
    obs = economy.publish()
    aws = economy.firms["aws"]
    bids = sorted(
        (o for o in aws.chip_orders(obs) if o.market is Market.CHIPS), key=lambda o: -o.price
    )
    assert len(bids) >= 3
    cumulative = [math.fsum(b.qty for b in bids[: i + 1]) for i in range(len(bids))]
    # the quantity wanted at the lowest bid price is well above that at the highest
    assert cumulative[-1] > 1.5 * cumulative[0]
    assert aws.hour_cost(obs, 40000.0) > aws.hour_cost(obs, 20000.0)


def test_a_neoclouds_opening_fleet_comes_with_its_backlog() -> None:
    """The opening fleet was financed on contracts: contract_share of its hours are under a
    take-or-pay contract with the named customer from the second quarter, for the rest of the
    term, at the price given (the lower of its ask and the spot price); none without a named
    customer."""
    over = {"firms.coreweave.opening_contract_buyer": "openai"}
    result = run("baseline", quarters=3, seed=0, overrides=over)
    signed = result.frames["events"].filter(
        (pl.col("firm") == "coreweave")
        & pl.col("text").str.contains("take-or-pay contract with OpenAI")
        & (pl.col("quarter") == 0)
    )
    assert signed.height == 1
    from economy.model import Economy
    from runs.scenario import load_scenario

    eco = Economy(load_scenario("baseline", over), seed=0)
    cw = eco.firms["coreweave"]
    p = cw.params
    contract = cw.opening_backlog(1.9)
    assert contract.buyer == "openai" and contract.start == 1 and contract.price == 1.9
    assert contract.end - contract.start == p.contract_quarters - p.installed_age_quarters
    hours = p.installed_h100e * eco.tech.hours_per_quarter * p.service_quality
    assert contract.hours == pytest.approx(p.contract_share * hours)
    none = run(
        "baseline", quarters=1, seed=0, overrides={"firms.coreweave.opening_contract_buyer": ""}
    )
    assert (
        none.frames["events"]
        .filter(
            (pl.col("quarter") == 0)
            & pl.col("text").str.contains("take-or-pay contract with OpenAI")
        )
        .height
        == 0
    )
