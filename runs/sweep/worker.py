"""Running a chunk of runs in a worker process (or in the sweep's own process): each run's
scenario, model run and summary, written as a run directory or handed back as bytes."""

from __future__ import annotations

import os
import select
import shutil
import signal
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from market.calendar import Window
from runs.output import WRITE_ERRORS, write_error
from runs.scenario import apply_overrides, validate
from runs.sweep.plan import RunTask
from runs.sweep.records import commit_run, index_row, one_line, write_json
from runs.sweep.summary import summarize_run

#: in a pool's worker, the sweep's process id and a test of whether that process has ended
#: (set by :func:`worker_init`)
_sweep: tuple[int, Callable[[], bool]] | None = None


@dataclass(frozen=True, slots=True)
class Chunk:
    """Runs sent to a worker together, with everything they need (no files are read there)."""

    tasks: tuple[RunTask, ...]
    bases: dict[str, tuple[dict[str, Any], str]]
    quarters: int | None
    panels: bool
    windows: tuple[Window, ...]
    out: str | None = None
    parent_pid: int | None = None


@dataclass(slots=True)
class Outcome:
    """What a worker hands back for one run: its status and, if it did not write them, its files."""

    run_id: str
    status: str
    files: dict[str, bytes] | None = None


def run_chunk(chunk: Chunk) -> list[Outcome]:
    """Run the chunk's runs one after the other. With ``chunk.out`` each run's directory is
    written there (atomically); without, its files come back as bytes for the caller to write."""
    outcomes = []
    for task in chunk.tasks:
        if chunk.parent_pid is not None and _orphaned(chunk.parent_pid):
            break  # the sweep that sent this is gone: stop rather than run orphaned
        outcomes.append(_run_task(task, chunk))
    return outcomes


def _orphaned(sweep_pid: int) -> bool:
    """True when the sweep ``sweep_pid`` has ended."""
    if _sweep is not None and _sweep[0] == sweep_pid:
        return _sweep[1]()
    return os.getppid() != sweep_pid and not _exists(sweep_pid)  # a pool the caller made


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def ended(pid: int) -> Callable[[], bool]:
    """A test of whether the process ``pid`` (running now) has ended. A worker forked by a fork
    server is not the sweep's child, and the server outlives the sweep while any worker runs, so
    the worker asks after the sweep's process itself: by a pidfd where the system has them
    (Linux), which names that one process and never one that reuses its id; else by its parent
    when the sweep started it directly, or by the id."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return lambda: True
    except (AttributeError, OSError):  # no pidfds here
        if os.getppid() == pid:
            return lambda: os.getppid() != pid
        return lambda: not _exists(pid)
    return lambda: bool(select.select([fd], [], [], 0)[0])  # readable once it has ended


def _run_task(task: RunTask, chunk: Chunk) -> Outcome:
    """Run one task. The run's own error (the simulation raising) is its recorded failure; a
    failure to write its files (a full disk, a read-only directory) is not the run's: it is
    raised as :class:`~runs.output.OutputError` and the run stays to do."""
    try:
        return _attempt(task, chunk)
    except WRITE_ERRORS as exc:
        where = chunk.out if chunk.out is not None else "a temporary directory"
        raise write_error(where, exc) from None


def _attempt(task: RunTask, chunk: Chunk) -> Outcome:
    from runs.run import manifest
    from runs.run import run as run_scenario

    if chunk.out is not None:
        scratch = Path(chunk.out) / ".tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        tmp = scratch / f"{task.run_id}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    else:
        import tempfile

        tmp = Path(tempfile.mkdtemp(prefix=f"sweep-{task.run_id}-"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        start = time.perf_counter()
        summary: dict[str, Any] = {}
        try:
            raw, source = chunk.bases[task.scenario]
            scenario = validate(apply_overrides(raw, task.overrides, source), source)
            result = run_scenario(scenario, quarters=chunk.quarters, seed=task.seed)
            summary = summarize_run(result.frames, chunk.windows)
            quarters = result.quarters
            status, error, trace = "ok", None, None
        except Exception as exc:  # a run that raises is recorded and the sweep goes on
            status, error, quarters = "failed", one_line(exc), chunk.quarters
            summary, trace = {}, traceback.format_exc()
        if status == "ok" and chunk.panels:
            result.write_files(tmp)
        elif status == "ok":
            write_json(tmp / "manifest.json", manifest(scenario, task.seed, quarters))
        else:
            (tmp / "error.txt").write_text(trace or "")
        row = index_row(task, status, error, quarters, time.perf_counter() - start)
        write_json(tmp / "result.json", {"run": row, "summary": summary})
        if chunk.out is None:
            files = {p.name: p.read_bytes() for p in sorted(tmp.iterdir())}
            return Outcome(task.run_id, status, files)
        commit_run(tmp, Path(chunk.out) / task.run_id)
        return Outcome(task.run_id, status)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def worker_init(parent_pid: int | None = None, pids: Any = None) -> None:
    """Set up a local pool's worker: leave Ctrl-C to the sweep (which stops its workers
    itself), tell the sweep its process id on ``pids`` (a queue) so that the sweep can stop it,
    and exit if the sweep's process (``parent_pid``) dies, rather than wait forever for work."""
    global _sweep
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if pids is not None:
        pids.put(os.getpid())
    if parent_pid is None:
        return
    import threading

    gone = ended(parent_pid)
    _sweep = (parent_pid, gone)

    def watch() -> None:
        while not gone():
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="sweep-parent-watch", daemon=True).start()
