"""The chart widget, and the pacer that keeps a playing run in step with what the browser shows.

:class:`VegaView` draws a Vega-Lite spec in the browser (``vega_view.vue``). Its template is
embedded once; each quarter only its named datasets (and parameter values) travel, and Vega
redraws them in place. That is several times cheaper in the browser than embedding a new spec,
and keeps what a reader did to the chart (a layer hidden from the legend). Each chart has PNG and
SVG buttons that download it as drawn.

Every push of new data counts as pending with the page's :class:`Pacer` until the browser says
it has drawn it. A playing run waits for that before its next quarter, so it never runs ahead of
the page: a pause stops the run at the quarter the reader sees (or the one being drawn).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import ipyvuetify as v
import solara
import traitlets

#: how long a playing run waits for the browser to draw a quarter before going on without it
DRAW_TIMEOUT_S = 3.0


class Pacer:
    """Pushes of chart data not yet drawn by the browser, for one page."""

    def __init__(self) -> None:
        self._pending: dict[int, int] = {}
        self._done = threading.Condition()

    def pushed(self, chart: int, serial: int) -> None:
        with self._done:
            self._pending[chart] = serial

    def drawn(self, chart: int, serial: int) -> None:
        with self._done:
            if self._pending.get(chart, -1) <= serial:
                self._pending.pop(chart, None)
                self._done.notify_all()

    def forget(self, chart: int) -> None:
        with self._done:
            self._pending.pop(chart, None)
            self._done.notify_all()

    @property
    def pending(self) -> int:
        with self._done:
            return len(self._pending)

    def wait(self, timeout: float = DRAW_TIMEOUT_S) -> bool:
        """Wait until the browser has drawn every push (True), or ``timeout`` seconds (False)."""
        with self._done:
            return self._done.wait_for(lambda: not self._pending, timeout=timeout)


class VegaView(v.VuetifyTemplate):
    template_file = str(Path(__file__).with_name("vega_view.vue"))
    spec = traitlets.Dict().tag(sync=True)
    datasets = traitlets.Dict().tag(sync=True)
    params = traitlets.Dict().tag(sync=True)
    serial = traitlets.Int(0).tag(sync=True)
    filename = traitlets.Unicode("chart").tag(sync=True)
    cdn = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    pacer = traitlets.Any(None)

    @traitlets.default("cdn")
    def _cdn(self):
        import solara.settings

        if not solara.settings.assets.proxy:
            return solara.settings.assets.cdn
        return None

    def show(self, spec: dict[str, Any], filename: str) -> None:
        """Draw ``spec``: embed its template if it is new, else send only its data."""
        template = {k: value for k, value in spec.items() if k != "datasets"}
        if "params" in template:
            template["params"] = [
                {k: value for k, value in p.items() if k != "value"} for p in template["params"]
            ]
        self.datasets = spec.get("datasets", {})
        self.params = {p["name"]: p["value"] for p in spec.get("params", []) if "value" in p}
        self.filename = filename
        if template != self._template:
            self._template = template
            self.spec = template
        serial = self.serial + 1
        if self.pacer is not None:
            self.pacer.pushed(id(self), serial)
        self.serial = serial

    _template: dict[str, Any] | None = None

    def vue_drawn(self, serial: Any) -> None:
        if self.pacer is not None:
            self.pacer.drawn(id(self), int(serial))


#: the page's pacer (each page provides its own)
pacer_context = solara.create_context(None)


@solara.component
def VegaChart(spec: Any, filename: str = "chart"):
    """A chart of a :class:`~viz.components.Spec`: its template (the cached spec without data)
    is embedded when it changes; otherwise only the data is sent."""
    pacer = solara.use_context(pacer_context)
    element = VegaView.element(pacer=pacer)

    def push() -> None:
        widget = solara.get_widget(element)
        value = spec.value
        if value is None:
            return
        widget.show(value, filename)

    def gone():
        chart = id(solara.get_widget(element))

        def cleanup() -> None:
            if pacer is not None:
                pacer.forget(chart)

        return cleanup

    solara.use_effect(gone, [])
    solara.use_effect(push, [spec, filename])
    return element
