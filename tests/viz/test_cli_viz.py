"""``margins viz``: its help, and one-line errors before any server starts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from cli.viz import DEFAULT_HOST, check_bind, free_port

ROOT = Path(__file__).resolve().parents[2]


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_viz_is_a_command_with_full_help() -> None:
    assert "viz" in invoke("--help").stdout
    result = invoke("viz", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for fragment in ("--port", "--host", "127.0.0.1", "--open", "Parquet", "teaching"):
        assert fragment in text, fragment


def one_line_error(result, fragment: str) -> None:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], lines
    assert result.stdout == ""


def test_a_port_out_of_range() -> None:
    one_line_error(invoke("viz", "--port", "70000"), "--port: must be between 0 and 65535")


def test_a_port_in_use() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind((DEFAULT_HOST, 0))
        busy.listen()
        port = busy.getsockname()[1]
        one_line_error(invoke("viz", "--port", str(port)), f"--port {port}: already in use")


def test_a_host_that_is_not_here() -> None:
    one_line_error(invoke("viz", "--host", "no-such-host.invalid"), "--host no-such-host.invalid")


def test_a_free_port_can_be_bound() -> None:
    port = free_port()
    assert 0 < port < 65536
    assert check_bind(DEFAULT_HOST, port) is None


@pytest.mark.slow
def test_ctrl_c_stops_the_server_quietly_with_status_130() -> None:
    """Ctrl+C in the terminal (SIGINT to the process group) stops it: status 130, no traceback."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "viz", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5):
                    break
            except OSError:
                time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "Abort" not in err, err
    assert err.strip().splitlines()[-1] == "stopped"
    assert f"http://127.0.0.1:{port}/" in out
