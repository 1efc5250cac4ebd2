"""What every command of the CLI shares: one-line errors and the console tables print on."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console


def echo_error(message: str) -> None:
    typer.echo("error: " + " ".join(str(message).split()), err=True)


def fail(message: str) -> NoReturn:
    """Print ``error: message`` as one line on stderr and exit with status 2."""
    echo_error(message)
    raise typer.Exit(2)


def console() -> Console:
    console = Console(highlight=False, markup=False)
    if not console.is_terminal:  # piped or captured: print tables whole rather than truncated
        console.width = max(console.width, 160)
    return console
