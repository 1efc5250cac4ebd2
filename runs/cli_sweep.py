"""``margins sweep`` and ``margins summarize``: registered on the main app by :func:`register`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the batch commands to ``app`` (filled in by the sweep machinery)."""
