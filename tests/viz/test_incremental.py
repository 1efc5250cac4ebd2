"""The views that keep each quarter's rows in the run's memo show what building them from the
whole frames shows: the same rows, in the same order, quarter after quarter."""

from __future__ import annotations

import dataclasses

import pytest

from runs.report import layer_margins, profit_pool
from viz import charts, network, views
from viz.live import LiveEconomy, Snapshot
from viz.setup import default_setup

QUARTERS = 10


def _fresh(snap: Snapshot) -> Snapshot:
    """The same snapshot with nothing kept."""
    return dataclasses.replace(snap, memo={})


def _whole(snap: Snapshot, view: str, mode: str = "quarter", run: str = "this run") -> list:
    """A view's rows built in one go from the snapshot's whole frames."""
    if view == "margins":
        return views._margin_rows(views.layer_periods(snap, mode), run)
    if view == "pool":
        pool = profit_pool(layer_margins(snap.firms, by="period"), "period")
        return views._pool_rows(views._labelled(views._with_time(pool)), run)
    model = views._most_used(snap.models)
    return views._market_rows(snap, 0, model, run)


@pytest.fixture(scope="module")
def run() -> list[Snapshot]:
    """Every snapshot of a 10-quarter baseline run, each drawn as the app draws it."""
    model = LiveEconomy(default_setup())
    snaps = []
    for _ in range(QUARTERS):
        model.step()
        snap = model.snapshot
        charts.margins_spec(snap)
        charts.profit_pool_spec(snap)
        charts.markets_spec(snap)
        views.headline(snap)
        snaps.append(snap)
    return snaps


def test_the_run_shares_one_memo_and_keeps_rows_in_it(run) -> None:
    assert all(s.memo is run[0].memo for s in run)
    assert len(run[-1].memo[("margins", "this run")]) == QUARTERS
    assert not _fresh(run[-1]).memo


@pytest.mark.parametrize("mode", list(views.MARGIN_MODES))
def test_margin_rows_are_those_of_the_whole_frames(run, mode) -> None:
    for snap in run:
        assert views.margin_rows(snap, mode) == _whole(snap, "margins", mode)
        assert views.margin_rows(_fresh(snap), mode) == _whole(snap, "margins", mode)
    last = run[-1]
    assert views.margin_rows(last, mode, "previous run") == _whole(
        last, "margins", mode, "previous run"
    )


def test_profit_pool_and_market_rows_are_those_of_the_whole_frames(run) -> None:
    for snap in run:
        assert views.profit_pool_rows(snap) == _whole(snap, "pool")
        assert views.market_rows(snap) == _whole(snap, "markets")
        assert views.headline(snap) == views.headline(_fresh(snap))


def test_the_specs_are_those_of_the_whole_frames(run) -> None:
    for snap in run[::3]:
        fresh = _fresh(snap)
        assert charts.margins_spec(snap) == charts.margins_spec(fresh)
        assert charts.margins_spec(snap)["datasets"]["margins"] == _whole(snap, "margins")
        assert charts.profit_pool_spec(snap) == charts.profit_pool_spec(fresh)
        assert charts.markets_spec(snap) == charts.markets_spec(fresh)
        assert charts.markets_spec(snap)["datasets"]["markets"] == _whole(snap, "markets")


def test_an_earlier_snapshot_read_later_shows_only_its_own_quarters(run) -> None:
    early = run[2]
    assert views.margin_rows(early) == _whole(early, "margins")
    assert {r["period"] for r in views.market_rows(early)} == {
        early.period_of(q) for q in range(early.quarters)
    }


def test_the_network_drawn_from_kept_lines_is_the_one_worked_out_afresh(run) -> None:
    warm = [network.network_spec(snap) for snap in run]
    network._routes.cache_clear()
    assert [network.network_spec(snap) for snap in run] == warm
    routes = network._routes(tuple(network.network_nodes(run[-1])))
    assert routes
    pos = network._positions(tuple(network.network_nodes(run[-1])))
    columns: dict[float, list[float]] = {}
    for x, y in pos.values():
        columns.setdefault(x, []).append(y)
    for (payer, payee), points in routes.items():
        assert points == network.edge_path(pos[payer], pos[payee], columns)
