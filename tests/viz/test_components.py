"""The page without a browser: Solara renders it to widgets, and the tests click and type.

The run controls step and reset; the views redraw; settings wait for Reset; a bad
scenario file shows the CLI's message and changes nothing.
"""

from __future__ import annotations

import time

import ipyvuetify as v
import pytest
import solara
import solara.widgets

from viz.app import Page, address_problem, first_setup
from viz.chart import VegaView
from viz.controls import PAUSE, PLAY
from viz.lessons import lessons

SHORT = '[scenario]\nextends = "baseline"\nname = "short"\nquarters = 3\n'
VIEWS = ("network", "margins", "profit-pool", "markets", "inspector", "firm", "events")


@pytest.fixture
def page():
    _, rc = solara.render(Page(), handle_error=False)
    yield rc
    rc.close()


def texts(rc) -> list[str]:
    return [w.unsafe_innerHTML or "" for w in rc.find(solara.widgets.HTML).widgets]


def status(rc) -> str:
    return next(t for t in texts(rc) if "margins-quarter" in t)


def click(rc, label: str) -> None:
    rc.find(v.Btn, children=[label]).widget.click()


def view_classes(rc) -> set[str]:
    return {
        c.class_.split()[-1].removeprefix("margins-view-")
        for c in rc.find(v.Card).widgets
        if "margins-view-" in (c.class_ or "")
    }


def alerts(rc) -> list[str]:
    return [" ".join(str(c) for c in a.children) for a in rc.find(v.Alert).widgets]


def slider(rc, knob: str) -> v.Slider:
    return rc.find(v.Html, class_=f"margins-knob margins-knob-{knob}").find(v.Slider).widget


def test_every_view_is_on_the_page_with_its_one_line(page) -> None:
    assert view_classes(page) >= set(VIEWS)
    captions = [t for t in texts(page) if t and "margins" not in t]
    assert len(captions) >= len(VIEWS)
    assert "Ready: " in status(page)


def test_step_advances_a_quarter_and_redraws_every_chart(page) -> None:
    click(page, "Step")
    assert "quarter 1 of" in status(page)
    click(page, "Step")
    assert "quarter 2 of" in status(page)
    charts = page.find(VegaView).widgets
    assert len(charts) >= 6
    assert all(chart.spec and chart.datasets and chart.serial >= 1 for chart in charts)
    assert all("datasets" not in chart.spec for chart in charts)  # data travels on its own


def test_a_slider_waits_for_reset_then_changes_the_run(page) -> None:
    click(page, "Step")
    slider(page, "demand_growth").v_model = 2.0
    assert any("Press Reset to apply" in a and "demand growth ×2.00" in a for a in alerts(page))
    assert "as the scenario defines it" in status(page)  # the run has not changed yet
    click(page, "Reset")
    assert "Ready: " in status(page)
    assert "demand growth ×2.00" in status(page)
    assert not any("Press Reset" in a for a in alerts(page))


def test_a_switch_and_the_scenarios_own_settings(page) -> None:
    switch = (
        page.find(v.Html, class_="margins-knob margins-knob-custom_silicon").find(v.Switch).widget
    )
    switch.v_model = False
    assert any("no custom silicon" in a for a in alerts(page))
    click(page, "Scenario's own settings")
    assert not any("Press Reset" in a for a in alerts(page))


def test_a_bad_scenario_file_shows_the_error_and_changes_nothing(page) -> None:
    before = status(page)
    picker = page.find(v.VuetifyTemplate, label="Open a scenario file…").widget
    picker.vue_picked(
        {
            "name": "bad.toml",
            "text": '[scenario]\nextends = "baseline"\n[firms.nvidia]\nfoo = 1\n',
            "error": None,
        }
    )
    assert any("bad.toml: firms.nvidia.foo: unknown key" in a for a in alerts(page))
    assert status(page) == before
    assert not any("Press Reset" in a for a in alerts(page))
    picker.vue_picked(
        {
            "name": "good.toml",
            "text": '[scenario]\nextends = "baseline"\nname = "mine"\n',
            "error": None,
        }
    )
    assert not any("unknown key" in a for a in alerts(page))
    assert any("Press Reset to apply: good.toml" in a for a in alerts(page))
    click(page, "Reset")
    assert "good.toml" in status(page)


def test_picking_a_lesson_sets_everything(page) -> None:
    item = lessons()[0]
    page.find(v.Select, label="Lesson").widget.v_model = item.title
    titles = [c.children for c in page.find(v.CardTitle).widgets]
    assert any(f"Lesson: {item.title}" in str(t) for t in titles)
    click(page, "Reset")
    for change in item.setup().changes():
        assert change in status(page)


def test_a_lesson_opens_from_its_address() -> None:
    item = lessons()[1]
    setup, found = first_setup(f"lesson={item.id}")
    assert found == item and setup == item.setup()
    setup, found = first_setup("lesson=no-such-lesson")
    assert found is None and setup.lesson == ""


def test_the_page_also_renders_inside_solaras_app_layout() -> None:
    _, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    try:
        assert view_classes(rc) >= set(VIEWS)
    finally:
        rc.close()


def test_unticking_follow_shows_a_quarter_slider_without_a_traceback(page) -> None:
    for _ in range(3):
        click(page, "Step")
    follow = page.find(v.Checkbox, label="Follow the latest quarter").widget
    follow.v_model = False  # raised "SliderInt() got an unexpected keyword argument 'style'"
    slider = page.find(v.Html, class_="margins-quarter-picker").find(v.Slider).widget
    slider.v_model = 0
    inspector = [t for t in texts(page) if t.startswith("2025Q1:")]
    assert inspector, "the inspector shows the quarter picked"
    click(page, "Step")
    assert any(t.startswith("2025Q1:") for t in texts(page))  # it stays on it


def test_a_negative_seed_is_refused_visibly(page) -> None:
    seed = page.find(v.TextField, label="Seed").widget
    seed.v_model = "-3"
    seed.fire_event("keyup.enter", None)
    assert any("got -3" in a and "keeps seed 0" in a for a in alerts(page))
    assert not any("Press Reset" in a for a in alerts(page))  # nothing changes


def test_an_unknown_lesson_in_the_address_says_so() -> None:
    assert address_problem("lesson=no-such-lesson").startswith("No lesson 'no-such-lesson'")
    assert lessons()[0].id in address_problem("lesson=no-such-lesson")
    assert address_problem(f"lesson={lessons()[0].id}") == ""
    assert address_problem("") == ""


def test_playing_stops_and_shows_play_when_the_run_ends(page) -> None:
    short = {"name": "short.toml", "text": SHORT, "error": None}
    page.find(v.VuetifyTemplate, label="Open a scenario file…").widget.vue_picked(short)
    click(page, "Reset")
    click(page, "fastest")
    click(page, PLAY)
    deadline = time.monotonic() + 60
    while "Finished" not in status(page) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "Finished: 3 quarters" in status(page)
    deadline = time.monotonic() + 10
    while not page.find(v.Btn, children=[PLAY]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert page.find(v.Btn, children=[PLAY]).widget.disabled
    assert not page.find(v.Btn, children=[PAUSE])
