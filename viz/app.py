"""The live app: run the AI value chain a quarter at a time and watch the margins move.

    margins viz                      # serves it on http://127.0.0.1:8765 and prints the address
    solara run viz/app.py            # the same page under Solara's own command
    # in Jupyter:  from viz.app import Page; Page()

A Solara page built on Mesa's model controller, as Mesa's ``SolaraViz`` apps are: Mesa's
``ModelController`` plays, pauses, steps and resets the model, and rebuilds it on Reset from the
model parameters, here one :class:`~viz.setup.Setup`. The model is :class:`~viz.live.LiveEconomy`,
the economy ``margins run`` steps; the views only read its snapshots.
"""

from __future__ import annotations

import gc
import os
from urllib.parse import parse_qs

import solara
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import update_counter
from solara.components.applayout import should_use_embed

from viz import components as ui
from viz.lessons import Lesson, lesson
from viz.live import LiveEconomy, Snapshot
from viz.setup import Setup, default_setup, with_settings

TITLE = "Chasing Margins · the AI value chain, live"
#: the app bar in a neutral slate, so no layer's colour means "the app"
BAR_COLOUR = "#263238"


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


@solara.component
def Controls(
    model: solara.Reactive[LiveEconomy],
    params: solara.Reactive[dict],
    play_interval: solara.Reactive[int],
    error: solara.Reactive[str],
    on_setup,
    on_lesson,
    serial: int = 0,
):
    """The sidebar: run controls, lesson, scenario, settings and downloads.

    ``serial`` is the snapshot's: a new one redraws the run's status and downloads.
    """
    pending: Setup = params.value["setup"]
    render_interval = solara.use_reactive(1)  # quarters per redraw: every quarter is drawn
    use_threads = solara.use_reactive(False)  # step and redraw on one thread, in turn
    with solara.Column(gap="10px", classes=["margins-controls"]):
        with solara.Card("Run", margin=0):
            ModelController(
                model,
                model_parameters=params,
                play_interval=play_interval,
                render_interval=render_interval,
                use_threads=use_threads,
            )
            ui.SpeedPicker(play_interval)
            ui.RunStatus(model.value, pending, serial)
        with solara.Card("Lesson", margin=0):
            ui.LessonPicker(pending, on_lesson)
        with solara.Card("Scenario", margin=0):
            ui.ScenarioPicker(pending, on_setup, error)
        with solara.Card("Settings (apply with Reset)", margin=0):
            ui.SettingsPanel(pending, on_setup)
        with solara.Card("Download", margin=0):
            ui.Downloads(model.value, serial)


@solara.component
def Views(snap: Snapshot, pending: Setup, firm: solara.Reactive[str], book: solara.Reactive[str]):
    """The main column: every view of the current snapshot."""
    item = lesson(pending.lesson) if pending.lesson else None
    with solara.Column(gap="0px", classes=["margins-main"]):
        ui.Headline(snap)
        if item is not None:
            ui.LessonCard(item)
        ui.NetworkView(snap)
        ui.MarginsView(snap)
        with solara.Columns([1, 1], gutters_dense=True):
            ui.ProfitPoolView(snap)
            ui.EventLog(snap)
        ui.MarketsView(snap)
        ui.InspectorView(snap, book)
        ui.FirmView(snap, firm)


@solara.component
def Page():
    router = solara.use_router()
    start = solara.use_memo(lambda: first_setup(router.search), [])
    first_model = solara.use_memo(lambda: LiveEconomy(setup=start[0]), [])
    model = solara.use_reactive(first_model)
    params = solara.use_reactive(solara.use_memo(lambda: {"setup": start[0]}, []))
    play_interval = solara.use_reactive(ui.SPEEDS["normal"])
    error = solara.use_reactive("")
    firm = solara.use_reactive(start[1].firm if start[1] else "openai")
    book = solara.use_reactive(start[1].market if start[1] else "compute")
    update_counter.get()  # Mesa's controller bumps it after every quarter: redraw

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
    if solara.use_context(should_use_embed):  # inside Solara's app layout: use its sidebar
        with solara.AppBarTitle():
            solara.Text(TITLE)
        with solara.Sidebar():
            Controls(model, params, play_interval, error, on_setup, on_lesson, snap.serial)
        Views(snap, pending, firm, book)
    else:  # a notebook, or a test: controls beside the views
        with solara.Columns([3, 8]):
            Controls(model, params, play_interval, error, on_setup, on_lesson, snap.serial)
            Views(snap, pending, firm, book)


@solara.component
def Layout(children: list = []):  # noqa: B006
    """Solara's app layout (a sidebar beside the page) with a neutral app bar."""
    return solara.AppLayout(children=children, color=BAR_COLOUR, sidebar_open=True)


page = Page
