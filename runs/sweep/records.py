"""A finished run on disk: its ``result.json`` record (the index row and the summary), written
in a scratch directory and moved into place in one rename, so a run is done when it is there."""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path
from typing import Any

from runs.sweep.plan import RunTask

#: columns of ``runs.parquet`` that describe how a run was executed, not what it computed
TIMING_COLUMNS = ("seconds", "worker")


def index_row(
    task: RunTask, status: str, error: str | None, quarters: int | None, seconds: float
) -> dict[str, Any]:
    """The run's row of ``runs.parquet``, as ``result.json`` records it."""
    return {
        "run_id": task.run_id,
        "point": task.point,
        "replication": task.replication,
        "scenario": task.scenario,
        "parameters": task.overrides,
        "quarters": quarters,
        "seed": task.seed,
        "status": status,
        "error": error,
        "seconds": seconds,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }


def one_line(exc: BaseException) -> str:
    """An exception as one line: ``Type: message`` (control characters escaped, the length
    capped)."""
    from runs.scenario.errors import clean

    text = clean(" ".join(str(exc).split()), 1000)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def write_json(path: Path, data: Any) -> None:
    """JSON in the dict's own order (the summary's column order), floats exact."""
    path.write_text(json.dumps(data, indent=1, default=str))


def commit_run(tmp: Path, final: Path) -> bool:
    """Move a finished run directory into place in one rename. If another process got there
    first (the same run, so the same result), keep theirs. True if ``tmp`` became ``final``."""
    try:
        os.rename(tmp, final)
        return True
    except OSError:
        if (final / "result.json").is_file():
            shutil.rmtree(tmp, ignore_errors=True)
            return False
        raise


def read_result(run_dir: Path) -> dict[str, Any] | None:
    """A run directory's ``result.json``, or None when it is missing or incomplete."""
    try:
        record = json.loads((run_dir / "result.json").read_text())
        complete = record["run"]["status"] in ("ok", "failed") and "summary" in record
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return record if complete else None
