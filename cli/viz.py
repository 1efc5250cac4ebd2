"""``margins viz``: serve the live app (``viz/app.py``) with Solara; registered on the main app
by :func:`register`. The CLI does not import the app: it finds its file and hands it to Solara's
server, which imports it in its own right."""

from __future__ import annotations

import errno
import importlib.util
import socket
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer


def app_file() -> Path:
    """``viz/app.py``, found without importing the ``viz`` package."""
    spec = importlib.util.find_spec("viz")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the viz package is not installed")
    return Path(spec.origin).with_name("app.py")


DEFAULT_PORT = 8765
#: the exit status after Ctrl+C (128 + SIGINT), as a shell reports an interrupted command
INTERRUPTED = 130
DEFAULT_HOST = "127.0.0.1"


def free_port(host: str = DEFAULT_HOST) -> int:
    """A port nothing listens on at ``host`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def check_bind(host: str, port: int) -> str | None:
    """None if the server can listen on ``host:port``, else why not (one line)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"--host {host}: not an address of this machine ({exc.strerror})"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"--port {port}: already in use on {host}; choose another with --port"
            return f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc})"
    return None


def is_loopback(host: str) -> bool:
    """True for an address only this computer can reach (127.0.0.1, ::1, localhost)."""
    import ipaddress

    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


NO_LOGIN_WARNING = (
    "warning: --host {host}: the app has no login: anyone who can reach this address can use "
    "it and run simulations on this computer; serve it beyond this computer only on a network "
    "you trust"
)


def viz(
    port: Annotated[
        int,
        typer.Option(
            "--port",
            "-p",
            metavar="P",
            help=f"Port to serve on, 1 to 65535, or 0 for any free port (default {DEFAULT_PORT}).",
            show_default=False,
        ),
    ] = DEFAULT_PORT,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            metavar="H",
            help=f"Address to listen on (default {DEFAULT_HOST}: this computer only). Use 0.0.0.0 "
            "to let other computers on the network open it: the app has no login, so anyone "
            "who can reach it can use it (a warning says so).",
            show_default=False,
        ),
    ] = DEFAULT_HOST,
    open_browser: Annotated[
        bool,
        typer.Option(
            "--open/--no-open",
            help="Open the page in the default web browser once it is up.",
            show_default=True,
        ),
    ] = False,
) -> None:
    """Serve the live app: watch the value chain run quarter by quarter in a web browser.

    Prints the address to open. In the page: pick a scenario or a lesson (or open a TOML file
    of your own), set the seed and the key settings, play, pause, step and reset; watch the
    money flow between firms, margins by layer, the profit pool, the markets, one market's
    supply and demand, a firm's income statement and the event log; download the run as the
    same Parquet files `margins run` writes. Lessons for teaching: docs/teaching.md.
    Ctrl+C stops the server.
    """
    from cli.common import fail

    if not 0 <= port <= 65535:
        fail(f"--port: must be between 0 and 65535, got {port}")
    if port == 0:
        try:
            port = free_port(host)
        except OSError as exc:
            fail(f"--host {host}: cannot listen there ({exc.strerror or exc})")
    problem = check_bind(host, port)
    if problem:
        fail(problem)
    if not is_loopback(host):
        typer.echo(NO_LOGIN_WARNING.format(host=host), err=True)

    # the page's libraries on this machine (fetched once), so that it works offline
    fetched = subprocess.run(
        [sys.executable, "-m", "viz.assets"], capture_output=True, text=True, check=False
    )
    for line in fetched.stderr.splitlines():
        if line.startswith("missing: "):
            typer.echo(f"warning: {line[9:]}: the page will fetch it from the internet", err=True)
        elif line.strip():
            typer.echo(f"viz: {line}", err=True)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown}:{port}/"
    typer.echo(f"Chasing Margins live app: {url}")
    if host in ("0.0.0.0", "::"):
        typer.echo(f"(listening on every address of this computer, port {port})")
    typer.echo("Lessons: docs/teaching.md · Ctrl+C stops the server", err=True)
    sys.stdout.flush()

    import click  # Solara's command line is click's own, not typer's copy of it
    from solara.__main__ import run as solara_run

    try:
        solara_run.main(
            args=[
                str(app_file()),
                "--host",
                host,
                "--port",
                str(port),
                "--open" if open_browser else "--no-open",
                "--production",
                "--no-check-version",
                "--theme-loader",
                "plain",
                "--log-level-uvicorn",
                "warning",
            ],
            standalone_mode=False,
        )
    except (KeyboardInterrupt, click.exceptions.Abort):
        # Ctrl+C: the server has stopped; quietly, with the shell's status for an interrupt
        typer.echo("stopped", err=True)
        sys.exit(INTERRUPTED)
    except OSError as exc:
        fail(f"--host {host} --port {port}: the server stopped ({exc.strerror or exc})")


def register(app: typer.Typer) -> None:
    """Add the ``viz`` command to ``app``."""
    app.command(name="viz")(viz)
