"""Where a sweep's chunks run: in this process, on a pool of local worker processes, or on a
Dask cluster. Each is a :class:`Pool` the engine submits chunks to and stops at the end."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from runs.sweep.errors import SweepError
from runs.sweep.records import one_line
from runs.sweep.worker import worker_init

#: seconds to wait for a Dask scheduler before giving up
CONNECT_TIMEOUT_S = 10.0


@dataclass
class Pool:
    """Where chunks run: an executor (None: in this process), how many chunks it runs at once,
    and whether its workers write run directories themselves (they share our disk)."""

    executor: Executor | None
    slots: int
    writes: bool
    label: str
    restart: Callable[[], Executor] | None = None
    close: Callable[[], None] = lambda: None
    kill: Callable[[], None] = lambda: None


def default_workers() -> int:
    """The CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def parse_executor(text: str) -> tuple[str, str | None]:
    """``local`` → ("local", None); ``dask://HOST:PORT`` → ("dask", "tcp://HOST:PORT").
    Raises :class:`SweepError`."""
    if text == "local":
        return "local", None
    if text.startswith("dask://"):
        host, sep, port = text[len("dask://"):].rpartition(":")
        if sep and host and port.isdigit() and 0 < int(port) < 65536 and "/" not in host:
            return "dask", f"tcp://{host}:{port}"
    raise SweepError(f"--executor {text}: not an executor; use local or dask://HOST:PORT "
                     "(the address of a Dask scheduler, e.g. dask://10.0.0.5:8786)")


def open_pool(executor: str | Executor | Any = "local", workers: int | None = None) -> Pool:
    """The pool a sweep runs on. ``executor`` is ``"local"``, ``"dask://HOST:PORT"``, a
    :class:`concurrent.futures.Executor` or a ``distributed.Client``. Raises :class:`SweepError`
    (before any run) when it cannot be used."""
    if workers is not None and workers < 1:
        raise SweepError(f"--workers: must be at least 1, got {workers}")
    if isinstance(executor, Executor):  # a process pool shares our disk: its workers write
        return Pool(executor, workers or getattr(executor, "_max_workers", None)
                    or default_workers(), isinstance(executor, ProcessPoolExecutor),
                    f"the given {type(executor).__name__}")
    if hasattr(executor, "get_executor") and hasattr(executor, "nthreads"):  # a Dask Client
        return _dask_pool(executor, workers, owned=False)
    if not isinstance(executor, str):
        raise SweepError(f"executor: {executor!r} is not an executor; use 'local', "
                         "'dask://HOST:PORT', a concurrent.futures.Executor or a Dask Client")
    kind, address = parse_executor(executor)
    if kind == "dask":
        return _connect_dask(executor, address, workers)
    n = workers or default_workers()
    if n == 1:
        return Pool(None, 1, True, "1 process (serial)")

    def start() -> Executor:
        executor = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=worker_init, initargs=(os.getpid(),))
        with sigint_ignored():  # workers start with Ctrl-C ignored: the sweep stops them
            executor.submit(int)  # spawns the workers now (returns at once)
        return executor

    pool = Pool(start(), n, True, f"{n} local workers")
    pool.restart = start
    pool.close = lambda: pool.executor.shutdown(wait=True, cancel_futures=True)
    pool.kill = lambda: _kill_local(pool.executor)
    return pool


def _kill_local(executor: Executor | None) -> None:
    """Stop a process pool now: cancel what is queued and terminate its workers."""
    if not isinstance(executor, ProcessPoolExecutor):
        return
    terminate = getattr(executor, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        terminate()
        return
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(timeout=5)


def _connect_dask(text: str, address: str, workers: int | None) -> Pool:
    try:
        from distributed import Client
    except ImportError:
        raise SweepError(f"--executor {text}: Dask is not installed; install the extra: "
                         "pip install 'chasing-margins[dask]' (or uv sync --extra dask)") from None
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise SweepError(f"--executor {text}: cannot reach a Dask scheduler at {address} "
                         f"within {CONNECT_TIMEOUT_S:g} s ({one_line(exc)})") from None
    return _dask_pool(client, workers, owned=True)


def _dask_pool(client: Any, workers: int | None, owned: bool) -> Pool:
    threads = sum(client.nthreads().values())
    if threads == 0:
        with contextlib.suppress(Exception):
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
        threads = sum(client.nthreads().values())
    if threads == 0:
        if owned:
            client.close()
        raise SweepError(f"--executor dask://{client.scheduler.address.split('://')[-1]}: the "
                         "scheduler has no workers; start some with: dask worker ADDRESS")
    executor = client.get_executor(pure=False)
    pool = Pool(executor, workers or threads, False,
                f"Dask at {client.scheduler.address} ({threads} threads)")

    def close() -> None:
        executor.shutdown(wait=False)
        if owned:
            client.close()

    pool.close = pool.kill = close
    return pool


@contextlib.contextmanager
def sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT while processes are spawned, so that they inherit the ignoring (Python
    keeps an ignored SIGINT ignored) and a Ctrl-C during their start-up is the sweep's alone."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
