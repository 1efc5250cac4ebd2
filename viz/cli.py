"""``margins viz``: registered on the main app by :func:`register`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the ``viz`` command to ``app`` (filled in by the web app)."""
