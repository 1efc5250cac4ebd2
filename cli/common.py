"""What every command of the CLI shares: one-line errors and the console tables print on."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

#: exit statuses, one meaning each (documented in ``margins --help`` and docs/batches.md)
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_STATUS_HELP = (
    "Exit status: 0 all done; 1 some runs failed (the count is printed) or files could not be "
    "written (a full disk, a read-only or forbidden directory); 2 bad input, nothing ran; "
    "130 interrupted."
)


def echo_error(message: str) -> None:
    """``error: message`` on stderr: one line, control characters escaped, length capped."""
    from runs.scenario.errors import clean

    typer.echo("error: " + clean(" ".join(str(message).split()), 1000), err=True)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print ``error: message`` as one line on stderr and exit with status 2 (bad input), or
    ``code``."""
    echo_error(message)
    raise typer.Exit(code)


def fail_output(exc: Exception, after: str = "") -> NoReturn:
    """A file that could not be written: exit 2 when the path itself is wrong, else 1."""
    fail(f"{exc}{after}", EXIT_BAD_INPUT if getattr(exc, "user", False) else EXIT_FAILED)


def console() -> Console:
    console = Console(highlight=False, markup=False)
    if not console.is_terminal:  # piped or captured: print tables whole rather than truncated
        console.width = max(console.width, 160)
    return console
