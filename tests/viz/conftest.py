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
