"""``margins`` whose model runs wait for tickets, so that a test decides how many runs a sweep
finishes before it interrupts it, instead of racing the clock (test helper, not a test).

    SWEEP_TEST_GATE=DIR python tests/contracts/gated_sweep.py sweep SPEC --out OUT --workers 2

Each run, in whichever process runs it, first takes a ticket: it renames one file
``DIR/ticket-*`` away (so each ticket admits exactly one run), or goes ahead when ``DIR/open``
exists, and otherwise waits for one to appear. The runs themselves are unchanged. Spawned
workers import this file as their main module, so the gate is installed in them too.
"""

from __future__ import annotations

import importlib
import os
import time
from pathlib import Path

GATE = os.environ.get("SWEEP_TEST_GATE")


def take_ticket(gate: Path) -> None:
    while not (gate / "open").exists():
        for ticket in sorted(gate.glob("ticket-*")):
            try:
                ticket.rename(gate / f"taken-{ticket.name}-{os.getpid()}")
                return
            except FileNotFoundError:  # another worker took it first
                continue
        time.sleep(0.01)


def issue(gate: Path, count: int) -> None:
    """Let ``count`` more runs start."""
    gate.mkdir(parents=True, exist_ok=True)
    first = len(list(gate.iterdir()))
    for n in range(first, first + count):
        (gate / f"ticket-{n:04d}").write_text("")


def open_gate(gate: Path) -> None:
    """Let every run start."""
    (gate / "open").write_text("")


if GATE:
    _runs = importlib.import_module("runs.run")  # the module, not the function runs.run
    _run = _runs.run

    def _gated_run(*args, **kwargs):
        take_ticket(Path(GATE))
        return _run(*args, **kwargs)

    _runs.run = _gated_run

if __name__ == "__main__":
    from cli.main import main

    main()
