"""What the browser tests share: serving the app, Debian's Chromium driven by Playwright, a page
that notes every failed request and page error, and reading the run's quarter off the page."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cli.viz import free_port

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
VIEWS = ("network", "margins", "profit-pool", "markets", "inspector", "firm", "events")
CHART_VIEWS = ("network", "margins", "profit-pool", "markets", "inspector", "firm")
STARTUP_SECONDS = 120


def serve(command: list[str], log: Path, url: str) -> Iterator[str]:
    """Start a server, wait until ``url`` answers, yield it, stop the server."""
    SHOTS.mkdir(exist_ok=True)
    with open(log, "w") as out:
        proc = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if proc.poll() is not None:
                pytest.fail(f"margins viz exited ({proc.returncode}):\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"margins viz did not answer in {STARTUP_SECONDS} s:\n" + log.read_text()
                )
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def margins_viz() -> Iterator[str]:
    """``margins viz`` on a free port of 127.0.0.1, as a user starts it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = SHOTS / "server.log"
    yield from serve([sys.executable, "-m", "cli.main", "viz", "--port", str(port)], log, url)
    assert f"Chasing Margins live app: {url}" in log.read_text()


def chromium():
    """Debian's Chromium, headless, driven by Playwright (its own browser download is not used)."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed: `apt-get install -y chromium` (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


#: page errors that are not the app's: the widget manager's "null does not exist" is raised in the
#: browser about one run in four after a download click, for a widget id it no longer holds; the
#: download itself is complete and checked below
BENIGN_PAGE_ERRORS = {"null does not exist"}


@contextmanager
def open_page(browser, url: str, width: int = 1440, height: int = 900):
    """A new tab at ``url`` that notes every failed request and page error (``page.problems``)
    and every message it sends its server (``page.sent``)."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    problems: list[str] = []
    page.on(
        "response",
        lambda r: problems.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None,
    )
    page.on("requestfailed", lambda r: problems.append(f"failed {r.url}"))
    page.on(
        "pageerror",
        lambda e: None if str(e) in BENIGN_PAGE_ERRORS else problems.append(f"page error {e}"),
    )
    page.problems = problems
    sent: list[str] = []  # what the page sent its server over the websocket
    page.on(
        "websocket",
        lambda ws: ws.on("framesent", lambda f: sent.append(f if isinstance(f, str) else "")),
    )
    page.sent = sent
    try:
        page.goto(url)
        yield page
    finally:
        context.close()


def quarter(page) -> str:
    return page.locator(".margins-quarter").inner_text()


def wait_quarter(page, n: int) -> None:
    page.wait_for_function(
        "n => (document.querySelector('.margins-quarter') || {}).innerText?.includes("
        "`quarter ${n} of`)",
        arg=n,
        timeout=30_000,
    )


def wait_drawn(page) -> None:
    """Every chart has drawn its marks (Vega redraws a moment after the data arrives)."""
    for name in CHART_VIEWS:
        page.locator(f".margins-view-{name} svg.marks").first.wait_for(state="visible")
    page.wait_for_timeout(700)


def revenue(page) -> str:
    return page.locator(".margins-stat").nth(1).locator(".margins-stat-value").inner_text()


def step(page, times: int) -> None:
    for _ in range(times):
        # read the status once (it may change between two reads while the page re-renders);
        # a status caught mid-render says "quarter" without its number: read it again
        text = quarter(page)
        for _ in range(50):
            if "quarter" not in text or re.search(r"quarter (\d+) of", text):
                break
            page.wait_for_timeout(100)
            text = quarter(page)
        match = re.search(r"quarter (\d+) of", text)
        done = int(match.group(1)) if match else 0
        page.get_by_role("button", name="Step").click()
        wait_quarter(page, done + 1)
