"""Progress of a sweep on stderr: a Rich bar on a terminal, else a line every few seconds."""

from __future__ import annotations

import time
from typing import Any

#: seconds between progress lines when the output is not a terminal
PROGRESS_INTERVAL_S = 10.0


class Progress:
    """Done / total, failures and time left: a Rich bar on a terminal, else a line every
    :data:`PROGRESS_INTERVAL_S` seconds (and at the end), on stderr."""

    def __init__(
        self,
        name: str,
        total: int,
        done: int,
        failed: int,
        mode: str = "auto",
        interval: float = PROGRESS_INTERVAL_S,
        console: Any = None,
    ) -> None:
        from rich.console import Console

        self.name, self.total, self.done, self.failed = name, total, done, failed
        self.console = console or Console(stderr=True, highlight=False)
        if mode == "auto":
            mode = "bar" if self.console.is_terminal else "lines"
        self.mode, self.interval = mode, interval
        self.start = time.monotonic()
        self.done_before = done
        self.last_line = 0.0
        self._bar: Any = None

    def __enter__(self) -> Progress:
        if self.mode == "bar":
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as Bar

            self._bar = Bar(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[failed]} failed"),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                console=self.console,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(
                f"sweep {self.name}", total=self.total, completed=self.done, failed=self.failed
            )
        elif self.mode == "lines":
            self._line()
        return self

    def advance(self, ok: int, failed: int) -> None:
        self.done += ok + failed
        self.failed += failed
        if self._bar is not None:
            self._bar.update(self._task, advance=ok + failed, failed=self.failed)
        elif self.mode == "lines" and time.monotonic() - self.last_line >= self.interval:
            self._line()

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
        elif self.mode == "lines":
            self._line()

    def _line(self) -> None:
        self.last_line = time.monotonic()
        elapsed = self.last_line - self.start
        new = self.done - self.done_before
        left = self.total - self.done
        eta = f", about {human_duration(elapsed / new * left)} left" if new and left else ""
        print(
            f"sweep {self.name}: {self.done}/{self.total} done, {self.failed} failed, "
            f"{human_duration(elapsed)} elapsed{eta}",
            file=self.console.file,
            flush=True,
        )


def human_duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``2 h 10 min``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
