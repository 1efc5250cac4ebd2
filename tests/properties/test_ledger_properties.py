"""Hypothesis properties of the integer-cent ledger in :mod:`market.ledger`.

Two levels:

* the :class:`Ledger` alone, driven by random sequences of transfers (in USD floats and in integer
  cents) between random accounts, the outside world's included, with random quarter boundaries,
  checked against a shadow book kept independently here;
* whole economy runs, checked after every quarter through ``run(..., economy_hook=...)``.

The invariants are the ledger's own promises: balances always sum to exactly zero, and each
account's change in balance over a quarter equals its inflows minus its outflows in that quarter.
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction
from functools import cache

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.ledger import WORLD_ACCOUNTS, Ledger, LedgerError
from runs import load_scenario, run

FIRMS: tuple[str, ...] = ("firm:a", "firm:b", "firm:c")
ACCOUNTS: tuple[str, ...] = WORLD_ACCOUNTS + FIRMS
UNKNOWN: tuple[str, ...] = ("nobody", "world:mars", "", "FIRM:A", "world:opening ")

ACCOUNT = st.sampled_from(ACCOUNTS)
# USD: arbitrary floats, whole cents, and exact half-cents (n + m/8 is exact in binary, so
# amount·100 is exact and the half-even rule is what decides 12.5 → 12, 37.5 → 38)
USD = st.one_of(
    st.floats(0.0, 1e9, allow_nan=False, allow_infinity=False),
    st.integers(0, 10**8).map(lambda c: c / 100.0),
    st.builds(lambda n, m: n + m / 8.0, st.integers(0, 10**6), st.integers(0, 7)),
)
CENTS = st.integers(0, 10**13)
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("usd"), ACCOUNT, ACCOUNT, USD),
        st.tuples(st.just("cents"), ACCOUNT, ACCOUNT, CENTS),
        st.tuples(st.just("quarter")),
    ),
    max_size=60,
)
OPENING = st.lists(st.floats(0.0, 1e10, allow_nan=False), min_size=len(FIRMS), max_size=len(FIRMS))

SETTINGS = settings(max_examples=200, deadline=None)


def expected_cents(amount_usd: float) -> int:
    """The documented rounding: to whole cents, half to even, via ``np.rint``."""
    return int(np.rint(amount_usd * 100.0))


def net_by_quarter(flows: pl.DataFrame) -> dict[int, dict[str, int]]:
    """Inflows minus outflows per quarter and account, computed from the flows frame alone."""
    legs = pl.concat(
        [
            flows.select("quarter", pl.col("payee").alias("account"), pl.col("amount_cents")),
            flows.select("quarter", pl.col("payer").alias("account"), -pl.col("amount_cents")),
        ]
    )
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for q, account, cents in (
        legs.group_by("quarter", "account").agg(pl.col("amount_cents").sum()).iter_rows()
    ):
        out[q][account] = cents
    return out


def _nonzero(d: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in d.items() if v != 0}


# --- the ledger alone -----------------------------------------------------------------------------


@SETTINGS
@given(opening=OPENING, ops=OPS)
def test_random_transfers_keep_the_books_exact(opening: list[float], ops: list[tuple]) -> None:
    ledger = Ledger()
    shadow: dict[str, int] = dict.fromkeys(WORLD_ACCOUNTS, 0)
    quarter = -1
    # balances at the start of each quarter; quarter -1 (opening balances) starts from zero
    starts: dict[int, dict[str, int]] = {-1: dict.fromkeys(ACCOUNTS, 0)}
    moved_total = 0

    def check() -> None:
        assert ledger.total_cents() == 0
        assert sum(shadow.values()) == 0
        assert {a: ledger.balance_cents(a) for a in ledger.accounts()} == shadow

    for firm, usd in zip(FIRMS, opening, strict=True):
        ledger.open_account(firm, usd)
        cents = expected_cents(usd)
        shadow[firm] = cents
        shadow["world:opening"] -= cents
        moved_total += cents
        check()

    for op in ops:
        if op[0] == "quarter":
            quarter += 1
            ledger.begin_quarter(quarter)
            starts[quarter] = dict(shadow)
            assert ledger.opening_balances() == shadow
            continue
        kind, payer, payee, amount = op
        if kind == "usd":
            cents = ledger.transfer(payer, payee, amount, "test")
            assert cents == (0 if payer == payee else expected_cents(amount))
        else:
            cents = ledger.transfer_cents(payer, payee, amount, "test")
            assert cents == (0 if payer == payee else amount)
        assert isinstance(cents, int)
        shadow[payer] -= cents
        shadow[payee] += cents
        moved_total += cents
        check()

    flows = ledger.flows()
    assert flows["amount_cents"].sum() == moved_total
    if flows.height:
        assert flows["amount_cents"].min() > 0, "zero or negative flows recorded"
        assert (flows["payer"] != flows["payee"]).all(), "self-transfers recorded"
        assert set(flows["quarter"].unique()) <= set(starts)

    # per quarter: change in balance == inflows - outflows, from the frame and from the ledger
    ends = {q: starts[q + 1] for q in starts if q + 1 in starts} | {quarter: dict(shadow)}
    from_frame = net_by_quarter(flows)
    for q in starts:
        change = {a: ends[q][a] - starts[q][a] for a in ACCOUNTS}
        assert _nonzero(change) == _nonzero(from_frame.get(q, {})), f"quarter {q}"
        assert _nonzero(change) == _nonzero(ledger.quarter_net_cents(q)), f"quarter {q}"


@SETTINGS
@given(
    payer=ACCOUNT,
    payee=ACCOUNT,
    usd=st.floats(-1e12, -0.006, allow_nan=False, allow_infinity=False),
    cents=st.integers(-(10**13), -1),
)
def test_negative_amounts_raise_and_change_nothing(payer, payee, usd, cents) -> None:
    ledger = Ledger()
    ledger.open_account("firm:a", 100.0)
    before = {a: ledger.balance_cents(a) for a in ledger.accounts()}
    with pytest.raises(LedgerError):
        ledger.transfer(payer, payee, usd, "test")
    with pytest.raises(LedgerError):
        ledger.transfer_cents(payer, payee, cents, "test")
    assert {a: ledger.balance_cents(a) for a in ledger.accounts()} == before
    assert ledger.flows().height == 1  # the opening balance only


@SETTINGS
@given(
    known=ACCOUNT,
    unknown=st.sampled_from(UNKNOWN),
    unknown_pays=st.booleans(),
    usd=USD,
    cents=CENTS,
)
def test_unknown_accounts_raise_and_change_nothing(known, unknown, unknown_pays, usd, cents):
    ledger = Ledger()
    payer, payee = (unknown, known) if unknown_pays else (known, unknown)
    with pytest.raises(LedgerError):
        ledger.transfer(payer, payee, usd, "test")
    with pytest.raises(LedgerError):
        ledger.transfer_cents(payer, payee, cents, "test")
    with pytest.raises(LedgerError):
        ledger.transfer(unknown, unknown, usd, "test")
    assert ledger.total_cents() == 0
    assert all(ledger.balance_cents(a) == 0 for a in ledger.accounts())
    assert ledger.flows().height == 0


def test_an_account_cannot_be_opened_twice() -> None:
    ledger = Ledger()
    ledger.open_account("firm:a", 5.0)
    for name in ("firm:a", *WORLD_ACCOUNTS):
        with pytest.raises(LedgerError):
            ledger.open_account(name)
    assert ledger.balance_cents("firm:a") == 500
    assert ledger.total_cents() == 0


@SETTINGS
@given(usd=USD)
def test_amounts_are_rounded_to_whole_cents_half_to_even(usd: float) -> None:
    ledger = Ledger()
    cents = ledger.transfer("world:investors", "world:labour", usd, "test")
    assert cents == expected_cents(usd)
    assert ledger.balance_cents("world:labour") == cents
    assert ledger.balance_cents("world:investors") == -cents
    # where amount·100 is exact in binary, the result is the exact decimal rounded half to even
    if Fraction(usd) * 100 == Fraction(usd * 100.0):
        assert cents == round(Fraction(usd) * 100)


# (USD, cents): exact half-cents go to the even cent, everything else to the nearest
ROUNDING_TABLE = [
    (0.0, 0),
    (0.001, 0),
    (0.004, 0),
    (0.006, 1),
    (0.01, 1),
    (1.0, 100),
    (0.125, 12),
    (0.375, 38),
    (0.625, 62),
    (0.875, 88),  # x.5 cents: half to even
    (1.125, 112),
    (1.375, 138),
    (2.5, 250),
    (12345.675, 1234568),
    (1e9 + 0.125, 100000000012),
]


@pytest.mark.parametrize(("usd", "cents"), ROUNDING_TABLE)
def test_rounding_table(usd: float, cents: int) -> None:
    assert Ledger().transfer("world:customers", "world:suppliers", usd, "test") == cents


# --- whole economy runs ---------------------------------------------------------------------------

QUARTERS = 6


@cache
def baseline():
    return load_scenario("baseline")


def run_with_ledger_checks(seed: int, quarters: int, scenario=None):
    """Run the baseline, checking the ledger after every quarter; return the run and the
    end-of-quarter balances and write-offs the hook collected."""
    ends: dict[int, dict[str, int]] = {}
    starts: dict[int, dict[str, int]] = {}

    def hook(economy) -> None:
        ledger = economy.ledger
        q = economy.quarter - 1  # step() has advanced the clock
        assert ledger.total_cents() == 0, f"quarter {q}: balances sum to {ledger.total_cents()}"
        opening = ledger.opening_balances()
        net = ledger.quarter_net_cents(q)
        balances = {a: ledger.balance_cents(a) for a in ledger.accounts()}
        assert set(opening) == set(balances), f"quarter {q}: accounts opened mid-run"
        for account, balance in balances.items():
            assert balance - opening[account] == net.get(account, 0), (
                f"quarter {q}, {account}: balance moved {balance - opening[account]} cents "
                f"but its flows net to {net.get(account, 0)}"
            )
        if q - 1 in ends:
            assert opening == ends[q - 1], f"quarter {q} did not start where {q - 1} ended"
        starts[q] = opening
        ends[q] = balances

    result = run(scenario or baseline(), quarters=quarters, seed=seed, economy_hook=hook)
    assert sorted(ends) == list(range(quarters))
    return result, starts, ends


def write_offs(flows: pl.DataFrame) -> dict[tuple[int, str], int]:
    rows = (
        flows.filter(pl.col("kind") == "default_write_off")
        .group_by("quarter", "payee")
        .agg(pl.col("amount_cents").sum())
        .iter_rows()
    )
    return {(q, firm): cents for q, firm, cents in rows}


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**63 - 1))
def test_economy_runs_keep_the_ledger_exact(seed: int) -> None:
    result, starts, ends = run_with_ledger_checks(seed, QUARTERS)
    flows = result.flows

    # the flows frame tells the same story as the balances the hook saw
    from_frame = net_by_quarter(flows)
    assert set(from_frame) <= {-1, *range(QUARTERS)}
    for q in range(QUARTERS):
        change = {a: ends[q][a] - starts[q][a] for a in ends[q]}
        assert _nonzero(change) == _nonzero(from_frame.get(q, {})), f"quarter {q}"
    # opening balances (quarter -1) are what quarter 0 starts from
    assert _nonzero(starts[0]) == _nonzero(from_frame.get(-1, {}))

    # the firms frame reports each firm's ledger balance at the end of the quarter, a
    # defaulting firm's included (its deficit written off before it is recorded)
    firms = result.firms
    assert firms.height > 0
    for q, firm, cash in firms.select("quarter", "firm", "cash_cents").iter_rows():
        assert cash == ends[q][firm], f"quarter {q}, {firm}"


def test_default_quarter_row_reconciles_with_ledger() -> None:
    quarters = 12
    # an app with little cash in a world where investors fund nothing must default
    starved = load_scenario(
        "baseline",
        {
            "firms.replit.opening_cash_usd": 1e7,
            "firms.investors.sentiment": 0.0,
            "firms.investors.long_run_sentiment": 0.0,
        },
    )
    result, _, ends = run_with_ledger_checks(7, quarters, starved)
    off = write_offs(result.flows)
    assert any(firm == "replit" for _, firm in off), "the starved app did not default"
    firms = result.firms
    for (q, firm), _cents in off.items():
        row = firms.filter((pl.col("quarter") == q) & (pl.col("firm") == firm))
        assert row.height == 1, f"{firm} has no row in its default quarter {q}"
        assert row["cash_cents"].item() == ends[q][firm]
        assert row["defaulted"].item() is True
