"""Labs train less when investors are wary; hosts that own compute resell idle hours, pay energy
on the hours they use and carry a fixed platform cost (docs/model.md §4.4)."""

from __future__ import annotations

import math

import polars as pl
import pytest

from agents.fleet import Cohort
from economy.model import Economy
from market.catalogue import Market, Side
from runs import run
from runs.scenario import apply_overrides, load_raw, validate


def scenario(name: str = "baseline", overrides: dict | None = None, events: list | None = None):
    raw, source = load_raw(name)
    if overrides:
        raw = apply_overrides(raw, overrides, source)
    if events:
        raw.setdefault("events", []).extend(events)
    return validate(raw, source)


def training_usd(result, firms=("openai", "anthropic")) -> float:
    return result.firms.filter(pl.col("firm").is_in(list(firms)))["rnd_usd"].sum()


def test_labs_train_less_when_sentiment_is_lower() -> None:
    """Rounds are granted in proportion to sentiment and training is bounded by the cash that
    covers the runway: the labs that raise rounds train less at half the sentiment, and less
    still when it breaks to 0.2."""
    base = training_usd(run(scenario(), quarters=8, seed=0))
    half = {"firms.investors.sentiment": 0.6, "firms.investors.long_run_sentiment": 0.5}
    wary = training_usd(run(scenario(overrides=half), quarters=8, seed=0))
    crash = [{"period": "2025Q3", "kind": "sentiment", "value": 0.2}]
    broken = training_usd(run(scenario(events=crash), quarters=8, seed=0))
    assert broken < wary < base


def test_hosts_that_own_compute_resell_idle_hours_and_pay_a_platform_cost() -> None:
    # hosts buy their own fleets to their needs, so whether they have idle hours is the run's
    # outcome; give one a fleet larger than it needs and its idle hours find buyers
    eco = Economy(scenario("hosts-go-full-stack"), seed=0)
    eco.step()
    host = eco.firms["together"]
    host.own.add(Cohort(eco.quarter, 1e5, 3e9, 24, eco.tech.kw(eco.quarter)), immediately=True)
    for _ in range(4):
        eco.step()
    flows = eco.recorder.frames()["flows"]
    resold = flows.filter((pl.col("payee") == "together") & (pl.col("kind") == "compute_rental"))
    assert resold["amount_cents"].sum() > 0
    hosts = ["together", "fireworks"]
    result = run(scenario("hosts-go-full-stack"), quarters=20, seed=0)
    flows = result.frames["flows"]
    platform = flows.filter(pl.col("payer").is_in(hosts) & (pl.col("kind") == "platform"))
    fee = round(1e7 * 100)  # $10 M a quarter, in cents
    assert platform.height > 0 and (platform["amount_cents"] == fee).all()
    # none in the baseline, where hosts own nothing
    base = run(scenario(), quarters=4, seed=0).frames["flows"]
    assert base.filter(pl.col("kind") == "platform").height == 0


def test_owned_capacity_pays_energy_on_hours_used_not_idle_ones() -> None:
    eco = Economy(scenario("hosts-go-full-stack"), seed=0)
    eco.step()
    host = eco.firms["together"]
    # a fleet larger than its own needs: 100k H100e in service
    host.own.add(Cohort(eco.quarter, 1e5, 3e9, 24, eco.tech.kw(eco.quarter)), immediately=True)
    obs = eco.publish()
    orders = host.decide(obs).orders
    asks = [o for o in orders if o.market is Market.COMPUTE and o.side is Side.ASK]
    installed_hours = host.own.installed(obs.quarter) * obs.tech.hours_per_quarter
    used = math.fsum(host.own_hours.values())
    (ask,) = asks
    assert ask.qty == pytest.approx(installed_hours - used)
    host.hours_resold = 0.25 * ask.qty  # a quarter of its idle hours found buyers
    kwh = host.own.kw_per_h100e(obs.quarter) * obs.tech.energy_usd_per_kwh
    energy = math.fsum(p.amount_usd for p in host.close(obs).payments if p.kind == "energy")
    assert energy == pytest.approx((used + 0.25 * ask.qty) * kwh)
    assert energy < installed_hours * kwh


def test_a_lab_prices_its_apps_tokens_at_what_its_api_would_have_paid_when_it_sold_out() -> None:
    """Transfer pricing (Hirshleifer 1956): while its API sells all it offers, a token its own
    app uses is one an API buyer did not get, so the app's seats cost the API price per token;
    with API tokens left unsold they cost the compute that serves them."""
    from dataclasses import replace

    eco = Economy(scenario(), seed=0)
    for _ in range(3):
        eco.step()
    lab = eco.firms["openai"]
    obs = eco.publish()
    serving = obs.compute_price / lab.tokens_per_hour(obs.quarter)
    value = lab.tech.token_value(lab.serving_quality(obs))
    lab.signal = replace(lab.signal, offered=100.0, sold=100.0)
    assert lab.app_token_cost(obs) == pytest.approx(max(serving, lab.token_ask * value))
    assert lab.app_token_cost(obs) > serving  # its API earns more than the compute costs
    lab.signal = replace(lab.signal, offered=100.0, sold=50.0)
    assert lab.app_token_cost(obs) == pytest.approx(serving)


def test_independent_apps_keep_their_users_while_labs_sell_their_own_apps() -> None:
    """With labs' own apps priced at the opportunity cost of their tokens, an independent app
    that pays the API price is not priced out: Cursor sells seats in every quarter of ten years
    (around 2030, when its token costs run furthest above the labs' apps', it keeps a sliver of
    its users) and earns more in the tenth year than in the first, without defaulting."""
    firms = run(scenario(), quarters=40, seed=0).firms
    cursor = firms.filter(pl.col("firm") == "cursor").sort("quarter")
    assert cursor.height == 40 and (cursor["revenue_usd"] > 1e5).all()
    assert cursor["revenue_usd"][-4:].sum() > cursor["revenue_usd"][:4].sum()
    assert not cursor["defaulted"].any()


def test_a_chip_designer_orders_no_more_silicon_than_it_can_pay_for() -> None:
    """A liquidity constraint: a partner whose programme owner's orders jump orders slots worth
    at most its cash plus its parent's quarterly budget, less its fixed costs."""
    eco = Economy(scenario(), seed=0)
    for _ in range(2):
        eco.step()
    designer = eco.firms["broadcom"]
    p = designer.params
    obs = eco.publish()
    designer.cash = 1e9
    designer.slot_orders = {"tpu": 1e7}  # ten million chips: far beyond its means
    cost = designer.unit_cost(obs)
    designer._within_means(cost)
    means = 1e9 + p.parent_budget_usd - max(p.rnd_usd, designer.last_rnd) - p.sga_usd
    assert designer.slot_orders["tpu"] * cost == pytest.approx(means)
    designer.slot_orders = {"tpu": 10.0}  # within its means: untouched
    designer._within_means(cost)
    assert designer.slot_orders == {"tpu": 10.0}


def test_a_lab_values_its_own_compute_at_the_rent_it_pays() -> None:
    """An owned hour saves what the lab pays per hour it rents (above the market's
    quality-adjusted price, since part of its hours come from clouds whose service carries a
    premium): told to own 90% of its inference compute, OpenAI builds a fleet."""
    eco = Economy(scenario("openai-owns-compute"), seed=0)
    for _ in range(4):
        eco.step()
    lab = eco.firms["openai"]
    assert lab.rent_per_hour > eco.publish().compute_price
    for _ in range(8):
        eco.step()
    assert lab.own.installed(eco.quarter) > 5e5  # H100e
