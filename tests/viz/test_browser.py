"""The real page in headless Chromium: ``margins viz`` serves it, Playwright drives it.

The page loads with every view (and no request fails: the page's libraries are on this machine),
Step advances the quarter, a slider with Reset changes the run,
a bad TOML file shows its error, a lesson opens, and the downloads are readable Parquet and TOML.
Screenshots of every view go to ``tests/viz/screenshots/`` (not committed; those of
``test_browser_app.py`` named ``app-*`` are).

Needs Debian's ``chromium`` (``.ci/run`` installs it); skipped, saying so, where it is missing.
"""

from __future__ import annotations

import io
import re
import sys
import tomllib
import zipfile
from pathlib import Path

import polars as pl
import pytest
from browser_kit import (
    ROOT,
    SHOTS,
    VIEWS,
    open_page,
    quarter,
    revenue,
    serve,
    step,
    wait_drawn,
)

from cli.viz import free_port
from runs.run import FRAMES
from runs.scenario import ScenarioError, validate
from viz.lessons import lessons
from viz.setup import open_file

pytestmark = [pytest.mark.browser, pytest.mark.slow]
BAD_TOML = '[scenario]\nextends = "baseline"\n\n[firms.nvidia]\nfoo = 1\n'


@pytest.fixture(scope="module")
def browser_page(browser, server: str):
    with open_page(browser, server) as page:
        yield page


def test_the_page_loads_with_every_view(browser_page) -> None:
    page = browser_page
    for name in VIEWS:
        page.locator(f".margins-view-{name}").wait_for(state="visible", timeout=60_000)
        caption = page.locator(f".margins-view-{name} .margins-caption").first.inner_text()
        assert len(caption) > 40, name  # one line saying what the view shows
    page.locator(".margins-view-network svg.marks").wait_for(state="visible", timeout=60_000)
    assert "Ready" in quarter(page)
    page.screenshot(path=SHOTS / "00-page-loaded.png")
    assert page.problems == [], page.problems


def test_step_advances_the_quarter_and_every_view_draws(browser_page) -> None:
    page = browser_page
    step(page, 1)
    assert "quarter 1 of 40" in quarter(page)
    step(page, 9)
    assert "quarter 10 of 40" in quarter(page)
    wait_drawn(page)
    page.screenshot(path=SHOTS / "01-page-after-10-quarters.png")
    for n, name in enumerate(VIEWS, start=2):
        page.locator(f".margins-view-{name}").screenshot(path=SHOTS / f"{n:02d}-{name}.png")
    for n, card in enumerate(page.locator(".margins-controls > .v-card").all()):
        card.scroll_into_view_if_needed()
        card.screenshot(path=SHOTS / f"20-controls-{n}.png")
    assert page.problems == [], page.problems


def test_a_slider_and_reset_change_the_run(browser_page) -> None:
    page = browser_page
    page.get_by_role("button", name="Reset").click()
    page.locator(".margins-quarter", has_text="Ready").wait_for()
    step(page, 4)
    before = revenue(page)
    knob = page.locator(".margins-knob-demand_growth")
    for _ in range(30):  # the keyboard, as a user without a mouse moves it: one step a press
        if "×1.50" in knob.locator(".margins-knob-label").inner_text():
            break
        knob.locator("[role=slider]").press("ArrowRight")
        page.wait_for_timeout(150)
    page.locator(".margins-pending", has_text="demand growth ×1.50").wait_for()
    assert "as the scenario defines it" in page.locator(".margins-status").inner_text()
    page.get_by_role("button", name="Reset").click()
    page.locator(".margins-status", has_text="demand growth ×1.50").wait_for()
    assert "Ready" in quarter(page)
    step(page, 4)
    assert revenue(page) != before, "the same run after changing demand growth"


def test_a_bad_toml_file_shows_its_error_and_changes_nothing(browser_page, tmp_path) -> None:
    page = browser_page
    before = page.locator(".margins-status").inner_text()
    bad = tmp_path / "broken.toml"
    bad.write_text(BAD_TOML)
    with pytest.raises(ScenarioError) as expected:
        open_file("broken.toml", BAD_TOML.encode())
    page.locator(".margins-toml-input").set_input_files(str(bad))
    error = page.locator(".margins-error")
    error.wait_for()
    shown = " ".join(error.inner_text().split())
    assert " ".join(str(expected.value).split()) in shown
    assert shown.startswith("broken.toml: firms.nvidia.foo: unknown key")
    assert page.locator(".margins-status").inner_text() == before
    error.scroll_into_view_if_needed()
    page.locator(".margins-controls > .v-card").nth(2).screenshot(
        path=SHOTS / "21-bad-toml-error.png"
    )


def test_a_lesson_opens_from_the_picker(browser_page) -> None:
    page = browser_page
    item = lessons()[2]
    page.locator(".v-select", has_text="Lesson").click()
    page.get_by_role("option", name=item.title).click()
    card = page.locator(".margins-lesson")
    card.wait_for()
    assert item.title in card.inner_text()
    page.get_by_role("button", name="Reset").click()
    page.locator(".margins-quarter", has_text="Ready").wait_for()
    step(page, 3)
    wait_drawn(page)
    card.screenshot(path=SHOTS / "22-lesson.png")
    page.locator(".margins-view-inspector").screenshot(path=SHOTS / "23-lesson-inspector.png")
    page.locator(".margins-view-firm").screenshot(path=SHOTS / "24-lesson-firm.png")
    status = page.locator(".margins-status").inner_text()
    for change in item.setup().changes():
        assert change in status


def test_downloads_are_readable(browser_page, tmp_path) -> None:
    page = browser_page
    with page.expect_download() as info:
        page.get_by_role("button", name=re.compile("Run so far")).click()
    # named after the scenario and what the lesson opened changes (labs do not launch apps)
    assert info.value.suggested_filename.startswith("baseline-labs-do-not-launch-apps-seed0-")
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.suffix == ".zip"
    archive = zipfile.ZipFile(path)
    names = {Path(n).name for n in archive.namelist()}
    assert names == {"manifest.json", "scenario.toml", *(f"{f}.parquet" for f in FRAMES)}
    for name in archive.namelist():
        if name.endswith(".parquet"):
            frame = pl.read_parquet(io.BytesIO(archive.read(name)))
            assert frame.height > 0, name
    with page.expect_download() as info:
        page.get_by_role("button", name=re.compile("Scenario \\(TOML\\)")).click()
    toml = tmp_path / info.value.suggested_filename
    info.value.save_as(toml)
    scenario = validate(tomllib.loads(toml.read_text()), toml.name)
    assert scenario.name and scenario.firms
    assert page.problems == [], page.problems


def test_solara_run_serves_the_same_page_and_a_lesson_opens_from_its_address(browser) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    command = [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(ROOT / "viz" / "app.py"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-open",
        "--production",
        "--no-check-version",
    ]
    item = lessons()[1]
    server = serve(command, SHOTS / "solara-run.log", base)
    url = next(server)
    try:
        with open_page(browser, f"{url}?lesson={item.id}") as page:
            page.locator(".margins-lesson", has_text=item.title).wait_for(timeout=60_000)
            page.locator(".margins-view-network svg.marks").wait_for(state="visible")
            for change in item.setup().changes():
                assert change in page.locator(".margins-status").inner_text()
            assert page.problems == [], page.problems
    finally:
        server.close()
