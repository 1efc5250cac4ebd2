"""Shared fixtures of the live app's tests: a short run of the baseline, stepped once a module."""

from __future__ import annotations

import pytest

from viz.live import LiveEconomy
from viz.setup import default_setup

QUARTERS = 6


@pytest.fixture(scope="module")
def stepped() -> LiveEconomy:
    """The baseline as the app runs it, six quarters in."""
    model = LiveEconomy(default_setup())
    for _ in range(QUARTERS):
        model.step()
    return model


@pytest.fixture(scope="module")
def snap(stepped: LiveEconomy):
    return stepped.snapshot


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, for every browser test of the session."""
    from browser_kit import chromium

    yield from chromium()


@pytest.fixture(scope="session")
def server(browser):
    """``margins viz`` on a free port, for every browser test of the session."""
    from browser_kit import margins_viz

    yield from margins_viz()
