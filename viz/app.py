"""The live app: run the AI value chain a quarter at a time and watch the margins move.

    margins viz                      # serves it on http://127.0.0.1:8765 and prints the address
    solara run viz/app.py            # the same page under Solara's own command
    # in Jupyter:  from viz.app import Page; Page()

A Solara page around a Mesa model: :class:`~viz.live.LiveEconomy`, the economy ``margins run``
steps, built from one :class:`~viz.setup.Setup`. The run controls (:mod:`viz.controls`) play,
pause, step and reset it, paced by what the browser has drawn; on Reset the run just made is kept
and drawn under the new one in every time-series view, to compare. The views only read
snapshots.
"""

from __future__ import annotations

import gc
import html
import os
from dataclasses import dataclass
from urllib.parse import parse_qs

import solara
from mesa.visualization.utils import update_counter
from solara.components.applayout import should_use_embed

from viz import components as ui
from viz import panels
from viz.chart import Pacer, pacer_context
from viz.controls import RunController
from viz.lessons import Lesson, lesson, lessons
from viz.live import LiveEconomy, Snapshot
from viz.setup import Setup, default_setup, with_settings

TITLE = "Chasing Margins · the AI value chain, live"


def settle_imports() -> None:
    """Keep what the server imported out of the garbage collector's full passes.

    Altair's schema, Solara and the rest are tens of thousands of objects that live as long as
    the server; each full collection walked them all (~130 ms, a visible stutter while playing).
    Frozen, a full collection takes ~10 ms.
    """
    gc.collect()
    gc.freeze()


if os.environ.get("SOLARA_APP"):  # served by `solara run` or `margins viz`
    import warnings

    from viz.assets import ensure_all

    # Solara's note, on every first request over plain http to 127.0.0.1, that its cookies fall
    # back to samesite=lax: true and harmless for a page served on this computer
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")

    ensure_all()  # the page's libraries on this machine: it works offline
    settle_imports()


def first_setup(search: str | None) -> tuple[Setup, Lesson | None]:
    """The setup a page opens with: the lesson named in ``?lesson=ID``, or the baseline."""
    wanted = parse_qs(search or "").get("lesson", [""])[0]
    item = lesson(wanted) if wanted else None
    return (item.setup(), item) if item else (default_setup(), None)


def address_problem(search: str | None) -> str:
    """What is wrong with the page's address (an unknown ``?lesson=``), or ``""``."""
    wanted = parse_qs(search or "").get("lesson", [""])[0]
    if not wanted or lesson(wanted) is not None:
        return ""
    return (
        f"No lesson {wanted!r}: the page opened the baseline instead. Lessons: "
        + ", ".join(item.id for item in lessons())
        + " (or pick one in the Lesson menu)."
    )


@dataclass(frozen=True, slots=True, eq=False)
class Kept:
    """The run kept to compare with: its last snapshot and what it ran."""

    snap: Snapshot
    label: str


@solara.component
def Controls(
    model: solara.Reactive[LiveEconomy],
    params: solara.Reactive[dict],
    play_interval: solara.Reactive[int],
    error: solara.Reactive[str],
    previous: solara.Reactive[Kept | None],
    pacer: Pacer,
    on_setup,
    on_lesson,
    serial: int = 0,
):
    """The sidebar: run controls, lesson, scenario, settings and downloads.

    ``serial`` is the snapshot's: a new one redraws the run's status and downloads.
    """
    pending: Setup = params.value["setup"]

    def reset() -> None:
        old = model.value
        if old.snapshot.quarters:  # keep the run just made, to compare the next one with
            previous.set(Kept(old.snapshot, old.setup.describe()))
        model.set(LiveEconomy(setup=params.value["setup"]))

    with solara.Div(classes=["margins-controls"]):
        with solara.Card("Run", margin=0):
            RunController(model, play_interval, pacer, reset)
            ui.SpeedPicker(play_interval)
            ui.RunStatus(model.value, pending, serial)
            ui.Compared(previous)
        with solara.Card("Lesson", margin=0):
            ui.LessonPicker(pending, on_lesson)
        with solara.Card("Scenario", margin=0):
            ui.ScenarioPicker(pending, on_setup, error)
        with solara.Card("Settings (apply with Reset)", margin=0):
            ui.SettingsPanel(pending, on_setup)
        with solara.Card("Download", margin=0):
            ui.Downloads(model.value, serial)


@solara.component
def Views(
    snap: Snapshot,
    pending: Setup,
    firm: solara.Reactive[str],
    book: solara.Reactive[str],
    previous: Kept | None,
    problem: str = "",
):
    """The main column: every view of the current snapshot (and of the run kept, if any)."""
    item = lesson(pending.lesson) if pending.lesson else None
    before = previous.snap if previous is not None else None
    with solara.Column(gap="0px", classes=["margins-main"]):
        if problem:
            solara.Warning(problem, classes=["margins-address-problem"])
        panels.Headline(snap)
        if item is not None:
            ui.LessonCard(item)
        panels.NetworkView(snap)
        panels.MarginsView(snap, before)
        with solara.Columns([1, 1], gutters_dense=True):
            panels.ProfitPoolView(snap, before)
            panels.EventLog(snap)
        panels.MarketsView(snap, before)
        panels.InspectorView(snap, book)
        panels.FirmView(snap, firm, before)


@solara.component
def Page():
    router = solara.use_router()
    start = solara.use_memo(lambda: first_setup(router.search), [])
    problem = solara.use_memo(lambda: address_problem(router.search), [])
    first_model = solara.use_memo(lambda: LiveEconomy(setup=start[0]), [])
    model = solara.use_reactive(first_model)
    params = solara.use_reactive(solara.use_memo(lambda: {"setup": start[0]}, []))
    play_interval = solara.use_reactive(ui.SPEEDS["normal"])
    error = solara.use_reactive("")
    previous = solara.use_reactive(None)
    pacer = solara.use_memo(Pacer, [])
    firm = solara.use_reactive(start[1].firm if start[1] else "openai")
    book = solara.use_reactive(start[1].market if start[1] else "compute")
    update_counter.get()  # the run controls bump it after every quarter: redraw
    pacer_context.provide(pacer)

    def on_setup(setup: Setup) -> None:
        params.set({"setup": setup})
        error.set("")

    def on_lesson(item: Lesson | None) -> None:
        if item is None:
            on_setup(with_settings(params.value["setup"], lesson=""))
            return
        on_setup(item.setup())
        firm.set(item.firm)
        book.set(item.market)

    solara.Style(ui.CSS)
    solara.Title("Chasing Margins: live")
    pending = params.value["setup"]
    snap = model.value.snapshot
    controls = (model, params, play_interval, error, previous, pacer, on_setup, on_lesson)
    if solara.use_context(should_use_embed):  # inside Solara's app layout: use its sidebar
        with solara.AppBarTitle():
            solara.Text(TITLE)
        with solara.Sidebar():
            Controls(*controls, snap.serial)
        Views(snap, pending, firm, book, previous.value, problem)
    else:  # served (:func:`Layout`), a notebook or a test: the page's own columns
        with solara.Div(classes=["margins-layout"]), solara.Div(classes=["margins-columns"]):
            Controls(*controls, snap.serial)
            Views(snap, pending, firm, book, previous.value, problem)


@solara.component
def Layout(children: list = []):  # noqa: B006
    """The served page: the title in a neutral bar, then the page.

    Not Solara's app layout: below 1280 px wide its sidebar floats over the page and covers the
    charts. The page lays out its own columns instead (``.margins-columns`` in
    :data:`viz.components.CSS`): the controls beside the views where there is room for both,
    above them where there is not, so nothing is covered at any width.
    """
    with solara.Div(classes=["margins-app"]) as main:
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(TITLE), classes=["margins-bar"])
        solara.Div(children=children)
    return main


page = Page
