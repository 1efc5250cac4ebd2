"""Writing a run's directory so that a failure never leaves half of it: the files go into a
temporary directory beside the target (``.NAME.tmp-XXXXXXXX``), which is then renamed into place.

A previous run's output (a directory holding only a run's files) is swapped out whole: after a
failure — a full disk, a read-only file system, a permission refused — the previous output is
still there, whole, or there is none, and no temporary directory is left behind. A directory of
other files is written into only when asked (``force``): then the run's files replace those of
the same names one by one and the other files stay.

Every failure to write is one :class:`OutputError` with one line saying why.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import polars as pl

#: what a run writes (RunResult.write): the manifest, the scenario and one Parquet file per frame
FRAMES = ("firms", "markets", "flows", "models", "events")
RUN_FILES = frozenset({"manifest.json", "scenario.toml", *(f"{name}.parquet" for name in FRAMES)})
#: what ``margins run --chart`` writes beside them: still a run's own files
CHARTS = frozenset({"margins.png", "profit_pool.png"})
#: errors of a path the user chose badly (not the machine refusing): exit status 2, not 1
USER_ERRNOS = frozenset({errno.ENOTDIR, errno.EEXIST, errno.ENAMETOOLONG, errno.EINVAL})


class OutputError(Exception):
    """Files could not be written: the disk is full, the file system read-only, permission
    refused. ``user`` is True when the path itself is wrong (a file where a directory should
    be), so that nothing could ever be written there."""

    def __init__(self, message: str, user: bool = False) -> None:
        super().__init__(message, user)
        self.message, self.user = message, user

    def __str__(self) -> str:
        return self.message


def reason(exc: BaseException) -> str:
    """Why a write failed, in the operating system's words (``No space left on device``)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = " ".join(str(exc).split())
    found = re.search(r"(?:IO error|os error): ?([^()]*?) ?\(os error \d+\)", text)
    if found:
        return found.group(1).strip()
    found = re.search(r"\(os error (\d+)\)", text)
    if found:
        return os.strerror(int(found.group(1)))
    return text or type(exc).__name__


def write_error(where: str | Path, exc: BaseException) -> OutputError:
    user = isinstance(exc, OSError) and exc.errno in USER_ERRNOS
    return OutputError(f"{where}: cannot write ({reason(exc)})", user)


#: what a failed write raises: the operating system's errors, and polars' and pyarrow's
#: wrapping of them (polars reports a full disk as a ComputeError)
WRITE_ERRORS: tuple[type[BaseException], ...] = (OSError, pl.exceptions.PolarsError)


def is_run_output(path: Path) -> bool:
    """True for a directory a run wrote: a ``manifest.json`` and nothing but a run's files."""
    try:
        names = {entry.name for entry in os.scandir(path)}
    except OSError:
        return False
    return "manifest.json" in names and names <= RUN_FILES | CHARTS


def _is_empty(path: Path) -> bool:
    try:
        return not any(os.scandir(path))
    except OSError:
        return False


class Staged:
    """A run directory being written: :attr:`tmp` beside ``out`` until :meth:`commit` renames
    it into place (or :meth:`discard` removes it). Created before the run, so that a place that
    cannot be written fails before anything is computed.

    Raises :class:`OutputError`: ``out`` is not a directory, or holds files that are not a
    run's and ``force`` is not given (``user`` set), or cannot be written.
    """

    def __init__(self, out: str | Path, force: bool = False, label: str = "") -> None:
        self.out = Path(out)
        self.label = label or str(out)
        self.force = force
        if self.out.exists() and not self.out.is_dir():
            raise OutputError(f"{self.label}: is a file, not a directory", user=True)
        if (
            self.out.is_dir()
            and not force
            and not _is_empty(self.out)
            and not is_run_output(self.out)
        ):
            raise OutputError(
                f"{self.label}: not empty and not the output of a run (only a run's files and "
                "its manifest.json); choose another directory, or --force to write into it",
                user=True,
            )
        parent = self.out.absolute().parent
        self.tmp = parent / f".{self.out.name}.tmp-{uuid.uuid4().hex[:8]}"
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self.tmp.mkdir()
        except WRITE_ERRORS as exc:
            raise write_error(self.label, exc) from None

    def write(self, fill: Callable[[Path], None]) -> Path:
        """Fill :attr:`tmp` (``fill(tmp)``) and commit it; on any failure, leave ``out`` as it
        was and remove :attr:`tmp`."""
        try:
            fill(self.tmp)
            self.commit()
        except WRITE_ERRORS as exc:
            self.discard()
            raise write_error(self.label, exc) from None
        except BaseException:
            self.discard()
            raise
        return self.out

    def commit(self) -> None:
        out, tmp = self.out, self.tmp
        if out.is_dir() and not is_run_output(out) and not _is_empty(out):
            self._replace_files()  # --force: another directory's files stay
            return
        old = None
        if out.is_dir():
            old = out.absolute().parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
            os.rename(out, old)
        try:
            os.rename(tmp, out)
        except OSError:
            if old is not None:
                os.rename(old, out)  # the previous output back, whole
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def _replace_files(self) -> None:
        names = sorted(p.name for p in self.tmp.iterdir())
        names.sort(key=lambda n: n == "manifest.json")  # the manifest last: it says "done"
        for name in names:
            os.replace(self.tmp / name, self.out / name)
        self.tmp.rmdir()

    def discard(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
