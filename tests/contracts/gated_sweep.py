"""``margins`` whose model runs wait for tickets, so that a test decides how many runs a sweep
finishes before it interrupts it, instead of racing the clock (test helper, not a test).

    SWEEP_TEST_GATE=DIR python tests/contracts/gated_sweep.py sweep SPEC --out OUT --workers 2

Each run, in whichever process runs it, first takes a ticket: it renames one file
``DIR/ticket-*`` away (so each ticket admits exactly one run), or goes ahead when ``DIR/open``
exists, and otherwise waits for one to appear. The runs themselves are unchanged. Spawned
workers import this file as their main module, so the gate is installed in them too.

``DIR/interrupt`` (:func:`interrupt_inside_wait`) makes the sweep's process send itself SIGINT
at the moment a Ctrl-C is hardest to handle: its main thread, waiting for its runs, has just
taken the lock of the event it waits on, where Python may run the signal's handler before the
lock is released (after the C call that took it). It happens once, the next time the main
thread waits on an event.
"""

from __future__ import annotations

import importlib
import os
import signal
import threading
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


def interrupt_inside_wait(gate: Path) -> None:
    """Have the sweep interrupt itself the next time its main thread waits on an event."""
    (gate / "interrupt").write_text("")


def _install_interrupt(gate: Path) -> None:
    event_wait = threading.Event.wait

    def wait(self: threading.Event, timeout: float | None = None) -> bool:
        trigger = gate / "interrupt"
        if threading.current_thread() is threading.main_thread() and trigger.exists():
            trigger.unlink()
            # what `with self._cond:` in Event.wait does first, then the signal's handler
            # runs, as it may after any C call; a handler that raises leaves the lock held
            self._cond.acquire()
            signal.raise_signal(signal.SIGINT)
            self._cond.release()
        return event_wait(self, timeout)

    threading.Event.wait = wait


if GATE:
    _runs = importlib.import_module("runs.run")  # the module, not the function runs.run
    _run = _runs.run

    def _gated_run(*args, **kwargs):
        take_ticket(Path(GATE))
        return _run(*args, **kwargs)

    _runs.run = _gated_run

if __name__ == "__main__":
    from cli.main import main

    # The tests press Ctrl-C as a terminal would, on a command it runs in the foreground, whose
    # SIGINT is never ignored. A test runner started in the background by a shell without job
    # control has SIGINT ignored, its children inherit that, and Python keeps it ignored: the
    # sweep would rightly go on. So this command starts as a terminal's would.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if GATE:
        _install_interrupt(Path(GATE))  # in the sweep's process only, not in its workers
    main()
