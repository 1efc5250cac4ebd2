"""The app's parts as Solara components: the views, the controls and the lesson panel.

Every view reads one :class:`~viz.live.Snapshot` and redraws only when it changes (a quarter
run, a Reset) or when its own choice changes (the firm, the market, the quarter inspected).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import solara
import solara.widgets

from runs.scenario import ScenarioError, library_names
from viz.lessons import Lesson, lessons
from viz.live import LiveEconomy
from viz.setup import (
    KNOBS,
    MAX_SEED,
    SWITCHES,
    Setup,
    defaults,
    open_file,
    open_library,
    with_settings,
)

#: pause between quarters while playing, milliseconds (the quarter itself takes more)
SPEEDS: dict[str, int] = {"slow": 1500, "normal": 600, "fast": 250, "fastest": 100}
NO_LESSON = "(none)"

#: the page's columns: the controls in a narrow column beside the views where the page is at
#: least this wide (px), above them where it is narrower; in a wider column from WIDE_PX
SIDE_BY_SIDE_PX = 900
WIDE_PX = 1180
#: the title bar in a neutral slate, so no layer's colour means "the app"
BAR_COLOUR = "#263238"

CSS = """
.margins-bar {
  background: BAR_COLOUR; color: #fff; font-size: 1.25rem; padding: 16px 24px; line-height: 1.6;
}
.margins-layout { container-type: inline-size; width: 100%; }
.margins-columns {
  display: grid; grid-template-columns: minmax(0, 1fr); gap: 14px; padding: 12px;
  align-items: start;
}
.margins-controls {
  display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 10px;
  align-items: start; min-width: 0;
}
@container (min-width: SIDE_BY_SIDE_PX) {
  .margins-columns { grid-template-columns: 300px minmax(0, 1fr); }
  .margins-controls {
    display: flex; flex-direction: column; align-items: stretch; position: sticky; top: 12px;
    max-height: calc(100vh - 24px); overflow-y: auto; padding: 2px; margin: -2px;
  }
  .margins-controls > * { flex-shrink: 0; }
}
@container (min-width: WIDE_PX) {
  .margins-columns { grid-template-columns: 380px minmax(0, 1fr); }
}
.margins-downloads .v-btn { text-transform: none; letter-spacing: 0.01em; max-width: 100%; }
.margins-speed .v-btn { padding: 0 9px; min-width: 0; letter-spacing: 0.02em; font-size: 0.8rem; }
.margins-main { max-width: 1120px; min-width: 0; width: 100%; }
.margins-chart-plot svg { max-width: 100%; height: auto; }
.margins-chart-plot .vega-embed { max-width: 100%; }
.margins-stat-sub { color: #666; font-size: 0.74rem; }
.margins-compared { font-size: 0.82rem; color: #444; margin-top: 6px; line-height: 1.35; }
.margins-view { margin-bottom: 14px !important; }
.margins-view .v-card-subtitle, .margins-view .v-card__subtitle {
  white-space: normal; opacity: 0.8; padding-bottom: 4px;
}
.margins-caption { color: #555; font-size: 0.86rem; margin: 0 0 6px 0; }
.margins-table { border-collapse: collapse; font-size: 0.82rem; width: 100%; }
.margins-table th, .margins-table td {
  padding: 3px 8px; border-bottom: 1px solid #e6e6e6; text-align: right; white-space: nowrap;
}
.margins-table th { color: #555; font-weight: 600; }
.margins-table td:first-child, .margins-table th:first-child { text-align: left; }
.margins-table td.margins-wrap { white-space: normal; text-align: left; min-width: 160px; }
.margins-table tr.margins-strong td { font-weight: 600; }
.margins-dot {
  display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 6px;
}
.margins-events { max-height: 300px; overflow-y: auto; font-size: 0.86rem; }
.margins-events div { padding: 3px 0; border-bottom: 1px solid #f0f0f0; line-height: 1.35; }
.margins-events .margins-period { font-weight: 600; font-variant-numeric: tabular-nums; }
.margins-events .margins-kind { color: #777; font-size: 0.78rem; }
.margins-headline { display: flex; gap: 10px; flex-wrap: wrap; margin-bottom: 12px; }
.margins-stat {
  background: #f3f5f7; border-radius: 8px; padding: 6px 14px; min-width: 140px;
}
.margins-stat-note { flex-basis: 100%; color: #666; font-size: 0.76rem; margin-top: -4px; }
.margins-stat .margins-stat-label { color: #555; font-size: 0.78rem; }
.margins-stat .margins-stat-value { font-size: 1.25rem; font-weight: 600; }
.margins-status { font-size: 0.86rem; color: #333; line-height: 1.4; margin-top: 8px; }
.margins-lesson ul, .margins-lesson ol { margin: 4px 0 8px 18px; padding-left: 6px; }
.margins-lesson p { margin: 4px 0; }
.margins-scroll { overflow-x: auto; }
.margins-view { scroll-margin-top: 12px; }
.margins-knob { margin: 4px 0 10px 0; }
.margins-knob-label { font-size: 0.9rem; }
.margins-knob .v-input__details, .margins-knob .v-messages { display: none; }
.margins-knob .v-slider { margin: 0 4px; }
.margins-knob .v-switch .v-input__control { height: 40px; }
.margins-help { font-size: 0.78rem; color: #666; line-height: 1.3; }
.margins-speed-label { font-size: 0.85rem; margin-top: 10px; }
.margins-controls .v-btn.bg-primary { background-color: #37474f !important; }
.margins-controls .text-primary { color: #37474f !important; }
.margins-knob .v-selection-control--dirty .v-switch__track {
  background-color: #37474f !important; opacity: 0.6;
}
.margins-knob .v-selection-control--dirty .v-switch__thumb { background-color: #37474f; }
.margins-controls .v-card-title { font-size: 1.05rem; padding-bottom: 2px; }
"""
for _name, _value in {
    "SIDE_BY_SIDE_PX": f"{SIDE_BY_SIDE_PX}px",
    "WIDE_PX": f"{WIDE_PX}px",
    "BAR_COLOUR": BAR_COLOUR,
}.items():
    CSS = CSS.replace(_name, _value)


# ---------------------------------------------------------------------------------------------
# building blocks
class Spec:
    """A chart's Vega-Lite spec, wrapped so the renderer passes it on without walking it.

    Reacton looks through every dict and list given to a component for nested elements; a spec
    holds every data row of its chart, so walking it each quarter cost more than drawing it.
    """

    __slots__ = ("value",)

    def __init__(self, value: dict[str, Any] | None) -> None:
        self.value = value


def spec_of(build: Callable[[], dict[str, Any] | None]) -> Spec:
    return Spec(build())


@solara.component
def ViewCard(name: str, title: str, caption: str, children: list = []):  # noqa: B006
    """A view: its title, one line saying what it shows, then the chart and controls."""
    line = solara.HTML(tag="p", unsafe_innerHTML=html.escape(caption), classes=["margins-caption"])
    return solara.Card(
        title=title,
        margin=0,
        classes=["margins-view", f"margins-view-{name}"],
        children=[line, *children],
    )


def _table(
    header: list[str],
    rows: list[list[str]],
    strong: set[int] = frozenset(),
    wrap: int | None = None,
) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for n, row in enumerate(rows):
        cells = "".join(
            f"<td class='margins-wrap'>{cell}</td>"
            if wrap is not None and k == wrap
            else f"<td>{cell}</td>"
            for k, cell in enumerate(row)
        )
        body.append(
            f"<tr class='margins-strong'>{cells}</tr>" if n in strong else f"<tr>{cells}</tr>"
        )
    return (
        f"<table class='margins-table'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _dot(colour: str) -> str:
    return f"<span class='margins-dot' style='background:{html.escape(colour)}'></span>"


@solara.component
def LessonCard(item: Lesson):
    """The lesson a teacher opened: what it is about, what to change, watch and ask."""
    watch = "".join(f"<li>{html.escape(w)}</li>" for w in item.watch)
    questions = "".join(f"<li>{html.escape(q)}</li>" for q in item.questions)
    with solara.Card(
        title=f"Lesson: {item.title}", margin=0, classes=["margins-view", "margins-lesson"]
    ):
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                f"<p>{html.escape(item.summary)}</p>"
                f"<p><b>Settings:</b> {html.escape(item.what_changes())}. "
                f"<b>Then:</b> {html.escape(item.change)}</p>"
                f"<p><b>Watch</b></p><ul>{watch}</ul>"
            ),
        )
        with solara.Details(summary="Questions for students", expand=False):
            solara.HTML(tag="ol", unsafe_innerHTML=questions)


# ---------------------------------------------------------------------------------------------
# the controls
@solara.component
def RunStatus(model: LiveEconomy, pending: Setup, serial: int = 0):
    """Where the run is, what it runs, and what Reset would change.

    ``serial`` (the snapshot's) changes every quarter, and so redraws it.
    """
    snap = model.snapshot
    if snap.finished:
        where = f"Finished: {snap.quarters} quarters, to {snap.period}. Reset to run again."
    elif snap.quarters:
        where = f"{snap.period}: quarter {snap.quarters} of {snap.horizon}."
    else:
        where = f"Ready: {snap.horizon} quarters from {snap.period_of(0)}."
    solara.HTML(
        tag="div",
        classes=["margins-status"],
        unsafe_innerHTML=(
            f"<div class='margins-quarter'><b>{html.escape(where)}</b></div>"
            f"<div>Running: {html.escape(model.setup.describe())}</div>"
        ),
    )
    if pending != model.setup:
        solara.Info(
            f"Press Reset to apply: {pending.describe()}", dense=True, classes=["margins-pending"]
        )


@solara.component
def Compared(previous: solara.Reactive[Any]):
    """The run kept at the last Reset, drawn thinner under this one; a button forgets it."""
    kept = previous.value
    if kept is None:
        solara.HTML(
            tag="div",
            classes=["margins-compared"],
            unsafe_innerHTML="Reset keeps the run so far, to draw it under the next one.",
        )
        return
    solara.HTML(
        tag="div",
        classes=["margins-compared"],
        unsafe_innerHTML=(
            f"<b>Compared with</b> (drawn thinner): {html.escape(kept.label)}, "
            f"{kept.snap.quarters} quarters to {html.escape(kept.snap.period)}."
        ),
    )
    solara.Button(
        "Forget the previous run",
        text=True,
        color="primary",
        on_click=lambda: previous.set(None),
        classes=["margins-forget"],
    )


@solara.component
def SpeedPicker(play_interval: solara.Reactive[int]):
    by_ms = {ms: name for name, ms in SPEEDS.items()}
    solara.HTML(
        tag="div",
        classes=["margins-speed-label"],
        unsafe_innerHTML="Speed (pause between quarters)",
    )
    solara.ToggleButtonsSingle(
        value=by_ms.get(play_interval.value, "normal"),
        values=list(SPEEDS),
        on_value=lambda name: play_interval.set(SPEEDS[name]),
        dense=True,
        classes=["margins-speed"],
    )


@solara.component
def LessonPicker(pending: Setup, on_lesson: Callable[[Lesson | None], None]):
    items = lessons()
    titles = [NO_LESSON, *(item.title for item in items)]
    current = next((item.title for item in items if item.id == pending.lesson), NO_LESSON)

    def pick(title: str) -> None:
        on_lesson(next((item for item in items if item.title == title), None))

    solara.Select("Lesson", values=titles, value=current, on_value=pick)


@solara.component_vue("toml_picker.vue")
def TomlPicker(label: str, event_picked: Callable[[dict], None]):
    """A button that opens a TOML file from the user's computer (or a file dropped on it)."""


@solara.component
def ScenarioPicker(pending: Setup, on_setup: Callable[[Setup], None], error: solara.Reactive[str]):
    names = library_names()
    values = names if not pending.opened.from_file else [*names, pending.opened.name]

    def pick(name: str) -> None:
        if name == pending.opened.name:
            return
        try:
            on_setup(defaults(open_library(name)))
        except ScenarioError as exc:
            error.set(str(exc))

    def picked(info: dict) -> None:
        name = str(info.get("name") or "scenario.toml")
        if info.get("error"):
            error.set(f"{name}: {info['error']}")
            return
        try:
            opened = open_file(name, str(info.get("text") or ""))
        except ScenarioError as exc:
            error.set(str(exc))
            return
        on_setup(defaults(opened))

    solara.Select("Scenario", values=values, value=pending.opened.name, on_value=pick)
    description = pending.opened.scenario.description
    if description:
        solara.Text(description, style={"font-size": "0.82rem", "color": "#555"})
    TomlPicker(label="Open a scenario file…", event_picked=picked)
    if error.value:
        solara.Error(error.value, classes=["margins-error"], dense=True)


@solara.component
def SettingsPanel(pending: Setup, on_setup: Callable[[Setup], None]):
    available = pending.available()

    def change(**settings: Any) -> None:
        on_setup(with_settings(pending, **settings))

    seed_error, set_seed_error = solara.use_state("")

    def seed(value: int | None) -> None:
        if value is None or not 0 <= value <= MAX_SEED:
            set_seed_error(
                f"Seed: must be a whole number from 0 to {MAX_SEED}, got {value}; "
                f"the run keeps seed {pending.seed}."
            )
            return
        set_seed_error("")
        change(seed=value)

    solara.InputInt(
        "Seed",
        value=pending.seed,
        on_value=seed,
        continuous_update=False,
        classes=["margins-seed"],
    )
    if seed_error:
        solara.Error(seed_error, dense=True, classes=["margins-seed-error"])
    for key, knob in KNOBS.items():
        value = getattr(pending, key)
        with solara.Div(classes=["margins-knob", f"margins-knob-{key}"]):
            solara.HTML(
                tag="div",
                classes=["margins-knob-label"],
                unsafe_innerHTML=(
                    f"{html.escape(knob.label)}: <b>{html.escape(knob.text(value))}</b>"
                ),
            )
            solara.SliderFloat(
                "",
                value=value,
                min=knob.lo,
                max=knob.hi,
                step=knob.step,
                disabled=not available[key],
                thumb_label=False,
                on_value=lambda v, key=key: change(**{key: v}),
            )
            solara.HTML(
                tag="div",
                classes=["margins-help"],
                unsafe_innerHTML=html.escape(
                    knob.help if available[key] else "This scenario has nothing it acts on."
                ),
            )
    for key, (label, help_text) in SWITCHES.items():
        with solara.Div(classes=["margins-knob", f"margins-knob-{key}"]):
            solara.Switch(
                label=label,
                value=getattr(pending, key),
                disabled=not available[key],
                on_value=lambda v, key=key: change(**{key: v}),
            )
            solara.HTML(
                tag="div",
                classes=["margins-help"],
                unsafe_innerHTML=html.escape(
                    help_text if available[key] else "This scenario has none."
                ),
            )
    solara.Button(
        "Scenario's own settings",
        text=True,
        color="primary",
        on_click=lambda: on_setup(with_settings(defaults(pending.opened), lesson=pending.lesson)),
    )


@solara.component
def Downloads(model: LiveEconomy, serial: int = 0):
    """The run so far and its scenario, as files (built when asked for); ``serial`` as above."""
    name = model.archive_name()
    with solara.Div(classes=["margins-downloads"]):
        solara.FileDownload(
            model.zip_bytes,
            filename=f"{name}.zip",
            mime_type="application/zip",
            label="Run so far (Parquet files, zip)",
        )
        solara.FileDownload(
            model.scenario_toml,
            filename=f"{model.file_stem()}.toml",
            mime_type="application/toml",
            label="Scenario (TOML)",
        )
    solara.Text(
        "The same files as margins run: manifest.json, scenario.toml and five Parquet frames.",
        style={"font-size": "0.78rem", "color": "#666"},
    )
