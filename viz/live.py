"""The live run: the economy as the app steps it, and the snapshot the views read.

:class:`LiveEconomy` is the project's :class:`~economy.model.Economy` (the same Mesa model that
``margins run`` steps) built from a :class:`~viz.setup.Setup`, and rebuilt from it on Reset. It
adds no economics. After each quarter it takes a
:class:`Snapshot` of what the views show; the views read only snapshots, so a view drawn while the
next quarter runs on another thread never sees half a quarter.
"""

from __future__ import annotations

import io
import itertools
import re
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from agents.base import PRODUCING_LAYERS
from agents.registry import role_class
from economy.model import Economy
from economy.records import EVENT_SCHEMA, FIRM_SCHEMA, MARKET_SCHEMA, MODEL_SCHEMA, ORDER_SCHEMA
from market.auction import Clearing
from market.calendar import period_of
from runs.run import RunResult, manifest
from viz.setup import Setup, default_setup

#: the world account whose payments are drawn as the end customers
CUSTOMERS = "world:customers"
#: numbers every snapshot, so views can tell a new one from one they have drawn
_SERIALS = itertools.count(1)


@dataclass(frozen=True, slots=True, eq=False)
class QuarterBooks:
    """Every book cleared in one quarter: the auctioneer's results and the orders it cleared."""

    clearings: dict[tuple[str, str], Clearing]
    orders: pl.DataFrame


@dataclass(frozen=True, slots=True, eq=False)
class Snapshot:
    """What the views show after a quarter. Immutable: each quarter makes a new one.

    Attributes:
        start, horizon: the scenario's first period and its number of quarters.
        quarters: quarters run so far (0 before the first step).
        names, layers: every firm's display name and layer, by firm id.
        firms, markets, events, models: the rows recorded so far (the schemas of ``runs.run``).
        flows: the payments of the last quarter run (payer, payee, kind, amount_usd).
        books: per quarter run, the books cleared.
        defaulted: firms that have defaulted so far.
        closed: firms their owners have closed so far (an exit, not a default).
        serial: unique to this snapshot (views redraw when it changes).
        memo: what views have worked out from this run's quarters, shared by every snapshot of
            the run (a quarter's rows never change once it has run, so a view builds only the
            new quarter's; see :func:`viz.views.per_quarter`).
    """

    start: str
    horizon: int
    quarters: int
    names: dict[str, str]
    layers: dict[str, str]
    firms: pl.DataFrame
    markets: pl.DataFrame
    events: pl.DataFrame
    flows: pl.DataFrame
    books: tuple[QuarterBooks, ...] = ()
    defaulted: frozenset[str] = frozenset()
    closed: frozenset[str] = frozenset()
    models: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=MODEL_SCHEMA))
    counts: tuple[int, ...] = field(default=(0, 0, 0, 0, 0), repr=False)
    serial: int = field(default_factory=lambda: next(_SERIALS))
    memo: dict = field(default_factory=dict, repr=False)

    @property
    def period(self) -> str:
        """The last period run, or the first to run if none has."""
        return period_of(self.start, max(self.quarters - 1, 0))

    def period_of(self, quarter: int) -> str:
        return period_of(self.start, quarter)

    @property
    def finished(self) -> bool:
        return self.quarters >= self.horizon

    def producing(self) -> list[str]:
        """Firm ids that report income statements, in value-chain order, then scenario order."""
        order = {str(layer): n for n, layer in enumerate(PRODUCING_LAYERS)}
        ids = [f for f, layer in self.layers.items() if layer in order]
        return sorted(ids, key=lambda f: order[self.layers[f]])


def _rows(rows: list[tuple], start: int, schema: dict) -> pl.DataFrame:
    return pl.DataFrame(rows[start:], schema=schema, orient="row")


def first_snapshot(economy: Economy) -> Snapshot:
    config = economy.config
    layers = {f: str(role_class(spec.role).layer) for f, spec in config.firms.items()}
    names = {f: spec.name for f, spec in config.firms.items()}
    empty_flows = pl.DataFrame(
        schema={"payer": pl.String, "payee": pl.String, "kind": pl.String, "amount_usd": pl.Float64}
    )
    return Snapshot(
        start=config.start,
        horizon=config.quarters,
        quarters=economy.quarter,
        names=names,
        layers=layers,
        firms=pl.DataFrame(schema=FIRM_SCHEMA),
        markets=pl.DataFrame(schema=MARKET_SCHEMA),
        events=pl.DataFrame(schema=EVENT_SCHEMA),
        flows=empty_flows,
    )


def next_snapshot(old: Snapshot, economy: Economy) -> Snapshot:
    """The snapshot after the quarter ``economy`` has just run (only new rows are converted)."""
    rec = economy.recorder
    n_firms, n_markets, n_events, n_orders, n_models = old.counts
    quarter = economy.quarter - 1
    markets_new = _rows(rec.market_rows, n_markets, MARKET_SCHEMA)
    books = {
        (m, b): economy.clearings[(m, b)]
        for m, b in markets_new.select("market", "book").iter_rows()
        if (m, b) in economy.clearings
    }
    flows = (
        economy.ledger.flows()
        .filter(pl.col("quarter") == quarter)
        .group_by("payer", "payee", "kind", maintain_order=True)
        .agg((pl.col("amount_cents").sum() / 100.0).alias("amount_usd"))
    )
    return Snapshot(
        start=old.start,
        horizon=old.horizon,
        quarters=economy.quarter,
        names=old.names,
        layers=old.layers,
        firms=pl.concat([old.firms, _rows(rec.firm_rows, n_firms, FIRM_SCHEMA)], rechunk=True),
        markets=pl.concat([old.markets, markets_new], rechunk=True),
        events=pl.concat([old.events, _rows(rec.event_rows, n_events, EVENT_SCHEMA)], rechunk=True),
        flows=flows,
        books=(*old.books, QuarterBooks(books, _rows(rec.order_rows, n_orders, ORDER_SCHEMA))),
        defaulted=frozenset(f for f, firm in economy.firms.items() if firm.defaulted),
        closed=frozenset(f for f, firm in economy.firms.items() if firm.exited),
        models=pl.concat([old.models, _rows(rec.model_rows, n_models, MODEL_SCHEMA)], rechunk=True),
        memo=old.memo,
        counts=(
            len(rec.firm_rows),
            len(rec.market_rows),
            len(rec.event_rows),
            len(rec.order_rows),
            len(rec.model_rows),
        ),
    )


class LiveEconomy(Economy):
    """The economy of one :class:`Setup`, stepped a quarter at a time by the app.

    Built from keyword arguments only (``LiveEconomy(setup=...)``), as a Mesa model is.
    ``running`` turns false after the scenario's last quarter.

    Args:
        setup: the scenario, seed and settings (default: the baseline as it is defined).
    """

    def __init__(self, setup: Setup | None = None) -> None:
        setup = setup if setup is not None else default_setup()
        scenario = setup.build()
        super().__init__(scenario, seed=setup.seed, keep_orders=True)
        self.setup = setup
        self.lock = threading.RLock()
        self.snapshot = first_snapshot(self)
        self.running = scenario.quarters > 0

    def step(self) -> None:
        """Run one quarter (the economy's own protocol), then take the views' snapshot."""
        with self.lock:
            if self.quarter >= self.config.quarters:
                self.running = False
                return
            super().step()
            self.snapshot = next_snapshot(self.snapshot, self)
            self.running = self.quarter < self.config.quarters

    def result(self) -> RunResult:
        """The run so far as ``runs.run`` returns it: the same frames and manifest."""
        with self.lock:
            frames = self.recorder.frames()
            quarters = self.quarter
        return RunResult(
            self.config, self.seed, quarters, frames, manifest(self.config, self.seed, quarters)
        )

    def file_stem(self) -> str:
        """``<scenario>[-<changed settings>]-seed<S>``, e.g.
        ``baseline-demand-growth-x1.50-seed0``: safe as a file name whatever the scenario is
        called, and different for runs with different settings."""
        changes = [c for c in self.setup.changes() if not c.startswith("seed ")]
        parts = [self.config.name, *changes]
        slug = "-".join(
            re.sub(r"[^\w.]+", "-", part.replace("×", "x")).strip("-.") for part in parts
        )
        return f"{slug.strip('-.') or 'scenario'}-seed{self.seed}"

    def archive_name(self) -> str:
        """``<scenario>-seed<S>-<last period>``: the download's name without extension."""
        snap = self.snapshot
        return f"{self.file_stem()}-{snap.period if snap.quarters else 'start'}"

    def zip_bytes(self) -> bytes:
        """The run so far as a zip of the directory ``margins run`` writes."""
        result = self.result()
        name = self.archive_name()
        buffer = io.BytesIO()
        with tempfile.TemporaryDirectory(prefix="margins-viz-") as tmp:
            out = result.write(Path(tmp) / name)
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in sorted(out.iterdir()):
                    archive.write(path, f"{name}/{path.name}")
        return buffer.getvalue()

    def scenario_toml(self) -> str:
        """The scenario this run runs, as TOML (``margins run`` on it reproduces the run)."""
        return self.config.to_toml()
