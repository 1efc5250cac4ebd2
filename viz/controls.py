"""Reset, play, pause and step: the run controls, paced by what the browser has drawn.

Mesa's ``ModelController`` steps on a timer and lets the page catch up when it can; when drawing a
quarter takes longer than the pause between quarters, the server runs ahead of the page and a
pause lands quarters later than the reader saw. Here a playing run steps, lets the views redraw,
waits for the browser to say it has drawn them (:class:`~viz.chart.Pacer`), then waits the pause
of the chosen speed (checking for a pause click all along) before the next quarter. So a pause
stops at the quarter on the screen or the one being drawn, at every speed, and the page stays
responsive: the run never queues more than one quarter of drawing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import solara
from mesa.visualization.utils import force_update

from viz.chart import Pacer
from viz.live import LiveEconomy

PLAY, PAUSE = "▶", "❚❚"


@solara.component
def RunController(
    model: solara.Reactive[LiveEconomy],
    play_interval: solara.Reactive[int],
    pacer: Pacer,
    on_reset: Callable[[], None],
):
    """Reset, Play/Pause and Step. ``on_reset`` builds the new run (and keeps the old one)."""
    playing = solara.use_reactive(False)
    stop = solara.use_memo(threading.Event, [])
    error = solara.use_reactive("")
    finished = not model.value.running

    def play() -> None:
        economy = model.value
        try:
            while playing.value and not stop.is_set() and economy.running:
                if stop.wait(play_interval.value / 1000):
                    break
                economy.step()
                force_update()
                pacer.wait()
        except Exception as exc:  # shown in the page, not lost in a thread
            error.set(f"the run stopped: {exc}")
        finally:
            if playing.value and model.value is economy:
                playing.set(False)  # finished (or stopped): Play shows again
                force_update()

    solara.use_thread(play, dependencies=[playing.value])

    def play_pause() -> None:
        if playing.value:
            stop.set()
            playing.set(False)
        else:
            stop.clear()
            playing.set(True)

    def step() -> None:
        model.value.step()
        force_update()

    def reset() -> None:
        stop.set()
        playing.set(False)
        error.set("")
        on_reset()
        force_update()

    with solara.Row(justify="space-between", classes=["margins-run-buttons"]):
        solara.Button(label="Reset", color="primary", on_click=reset)
        solara.Button(
            label=PAUSE if playing.value else PLAY,
            color="primary",
            on_click=play_pause,
            disabled=finished and not playing.value,
            classes=["margins-play"],
        )
        solara.Button(
            label="Step", color="primary", on_click=step, disabled=playing.value or finished
        )
    if error.value:
        solara.Error(error.value, dense=True)
