"""Where a sweep's chunks run: in this process, on a pool of local worker processes, or on a
Dask cluster. Each is a :class:`Pool` the engine submits chunks to and stops at the end."""

from __future__ import annotations

import ast
import contextlib
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import wait as wait_for
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from runs.sweep.errors import SweepError
from runs.sweep.records import one_line
from runs.sweep.worker import worker_init

#: seconds to wait for a Dask scheduler before giving up
CONNECT_TIMEOUT_S = 10.0
#: seconds a terminated local worker has to exit before it is killed
STOP_TIMEOUT_S = 5.0
#: local worker processes per CPU at most (more only share the CPUs and multiply memory)
WORKERS_PER_CPU = 4
#: tasks kept in flight on Dask at most
MAX_DASK_SLOTS = 10_000
#: what the local workers' fork server imports once, before it forks them: the caller's main
#: module (as "spawn" would import it in every worker) and the model with the run's code
PRELOAD = ["__main__", "runs.sweep.worker", "runs.run", "economy.model"]


@dataclass
class Pool:
    """Where chunks run: an executor (None: in this process), how many chunks it runs at once,
    and whether its workers write run directories themselves (they share our disk)."""

    executor: Executor | None
    slots: int
    writes: bool
    label: str
    restart: Callable[[], Executor] | None = None
    #: a local pool not started yet (``executor`` is None until the sweep calls it)
    start: Callable[[], Executor] | None = None
    close: Callable[[], None] = lambda: None
    kill: Callable[[], None] = lambda: None


def default_workers() -> int:
    """The CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def max_workers() -> int:
    """The most local worker processes a sweep starts on this machine."""
    return WORKERS_PER_CPU * default_workers()


def check_workers(workers: int | None, local: bool = True) -> None:
    """Refuse a number of workers this machine (or a Dask cluster) cannot use. Raises
    :class:`SweepError`."""
    if workers is None:
        return
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SweepError(f"--workers: must be a whole number of at least 1, got {workers!r}")
    if local and workers > max_workers():
        raise SweepError(
            f"--workers: at most {max_workers()} on this machine ({WORKERS_PER_CPU} per CPU, "
            f"{default_workers()} CPUs), got {workers}"
        )
    if not local and workers > MAX_DASK_SLOTS:
        raise SweepError(f"--workers: at most {MAX_DASK_SLOTS:,} tasks in flight, got {workers}")


def check_main_guard(workers: int | None, executor: Any) -> None:
    """Refuse, before anything starts, a sweep on local worker processes called from the top
    level of a script without ``if __name__ == "__main__":``. The workers' fork server (or, under
    "spawn", each worker) starts by importing the script again, so the unguarded call would run
    there and break every worker. Raises :class:`SweepError`."""
    if executor != "local" or workers == 1 or (workers is None and default_workers() == 1):
        return
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or not path:
        return  # interactive, -c or stdin: nothing is imported again
    line = _module_level_line(main)
    if line is None or _guarded(Path(path), line):
        return
    name = Path(path).name
    raise SweepError(
        f"{name}, line {line}: sweep() is called at the top level of the script, which every "
        'worker process imports again; put the call under  if __name__ == "__main__":  '
        "(or pass workers=1 to run in this process)"
    )


def _module_level_line(main: Any) -> int | None:
    """The line of the main module's top-level code that is running now, if any."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals is main.__dict__ and frame.f_code.co_name == "<module>":
            return frame.f_lineno
        frame = frame.f_back
    return None


def _guarded(path: Path, line: int) -> bool:
    """True when ``line`` of the script lies under ``if __name__ == "__main__":`` (or the
    script cannot be read, so nothing is refused on a guess)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return True
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_main_test(node.test):
            end = node.end_lineno or node.lineno
            if any(child.lineno <= line <= (child.end_lineno or end) for child in node.body):
                return True
    return False


def _is_main_test(test: ast.expr) -> bool:
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    texts = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return bool(names and texts) and isinstance(test.ops[0], ast.Eq)


def parse_executor(text: str) -> tuple[str, str | None]:
    """``local`` → ("local", None); ``dask://HOST:PORT`` → ("dask", "tcp://HOST:PORT").
    Raises :class:`SweepError`."""
    if text == "local":
        return "local", None
    if text.startswith("dask://"):
        host, sep, port = text[len("dask://") :].rpartition(":")
        if sep and host and port.isdigit() and 0 < int(port) < 65536 and "/" not in host:
            return "dask", f"tcp://{host}:{port}"
    raise SweepError(
        f"--executor {text}: not an executor; use local or dask://HOST:PORT "
        "(the address of a Dask scheduler, e.g. dask://10.0.0.5:8786)"
    )


def open_pool(executor: str | Executor | Any = "local", workers: int | None = None) -> Pool:
    """The pool a sweep runs on. ``executor`` is ``"local"``, ``"dask://HOST:PORT"``, a
    :class:`concurrent.futures.Executor` or a ``distributed.Client``. Raises :class:`SweepError`
    (before any run) when it cannot be used."""
    check_workers(workers, local=executor == "local")
    if isinstance(executor, Executor):  # a process pool shares our disk: its workers write
        return Pool(
            executor,
            workers or default_workers(),
            isinstance(executor, ProcessPoolExecutor),
            f"the given {type(executor).__name__}",
        )
    if hasattr(executor, "get_executor") and hasattr(executor, "nthreads"):  # a Dask Client
        return _dask_pool(executor, workers, owned=False)
    if not isinstance(executor, str):
        raise SweepError(
            f"executor: {executor!r} is not an executor; use 'local', "
            "'dask://HOST:PORT', a concurrent.futures.Executor or a Dask Client"
        )
    kind, address = parse_executor(executor)
    if kind == "dask":
        return _connect_dask(executor, address, workers)
    n = workers or default_workers()
    if n == 1:
        return Pool(None, 1, True, "1 process (serial)")
    return LocalWorkers(n).pool(deferred=True)


def worker_context() -> multiprocessing.context.BaseContext:
    """How local workers start: forked from a fork server that imported the model once
    (:data:`PRELOAD`), so that a sweep pays the imports once, not once per worker, and a
    replacement for a lost worker starts at once; "spawn" where there is no fork server
    (Windows). Neither forks the sweep's own process, whose threads (polars') a fork would copy
    mid-flight. The fork server is this process's own, shared by every pool it starts."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


class LocalWorkers:
    """A :class:`~concurrent.futures.ProcessPoolExecutor` of ``n`` worker processes (started as
    :func:`worker_context` says) that the sweep can stop at once, through public interfaces
    only: each worker reports its process id when it starts
    (:func:`~runs.sweep.worker.worker_init`), and stopping terminates those of
    :func:`multiprocessing.active_children` that reported, so that no other child of this
    process is touched and a reused process id is never signalled.

    The workers start with Ctrl-C ignored (the sweep stops them) and exit by themselves when
    the sweep's process dies. When a worker dies, the pool breaks; :meth:`start` gives the
    sweep a new one."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.context = worker_context()
        self.pids: set[int] = set()
        self.reports: list[Any] = []  # one queue of reported pids per executor started

    def pool(self, deferred: bool = False) -> Pool:
        """The pool, its workers started now, or (``deferred``) when the sweep calls
        :attr:`Pool.start`."""
        pool = Pool(None if deferred else self.start(), self.n, True, f"{self.n} local workers")
        pool.restart = self.start
        if deferred:
            pool.start = self.start

        def close() -> None:
            if pool.executor is not None:
                pool.executor.shutdown(wait=True, cancel_futures=True)

        pool.close = close
        pool.kill = lambda: self.kill(pool.executor)
        return pool

    def start(self) -> ProcessPoolExecutor:
        """A new executor with all ``n`` workers started now."""
        reports = self.context.SimpleQueue()
        self.reports.append(reports)
        executor = ProcessPoolExecutor(
            self.n,
            mp_context=self.context,
            initializer=worker_init,
            initargs=(os.getpid(), reports),
        )
        with sigint_held():  # workers start without Ctrl-C: the sweep stops them
            for _ in range(self.n):  # one process per submission while none is idle
                executor.submit(int)
        return executor

    def workers(self) -> list[BaseProcess]:
        """The live worker processes (of every executor started) that have reported."""
        for reports in self.reports:
            while not reports.empty():
                self.pids.add(reports.get())
        return [p for p in multiprocessing.active_children() if p.pid in self.pids]

    def kill(self, executor: Executor | None) -> None:
        """Stop now: cancel what is queued and terminate the workers (SIGKILL if SIGTERM has
        not ended one within :data:`STOP_TIMEOUT_S`). A worker has ended when its
        :attr:`~multiprocessing.Process.sentinel` is ready; ``is_alive`` is not asked, since
        the executor's own thread may be reaping the same processes."""
        processes = self.workers()
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(Exception):
                process.terminate()
        running = {process.sentinel: process for process in processes}
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while running and (left := deadline - time.monotonic()) > 0:
            for sentinel in wait_for(list(running), timeout=left):
                running.pop(sentinel)
        for process in running.values():
            with contextlib.suppress(Exception):
                process.kill()
        if running:
            wait_for(list(running))


def _connect_dask(text: str, address: str, workers: int | None) -> Pool:
    try:
        from distributed import Client
    except ImportError:
        raise SweepError(
            f"--executor {text}: Dask is not installed; install the extra: "
            "pip install 'chasing-margins[dask]' (or uv sync --extra dask)"
        ) from None
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise SweepError(
            f"--executor {text}: cannot reach a Dask scheduler at {address} "
            f"within {CONNECT_TIMEOUT_S:g} s ({one_line(exc)})"
        ) from None
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
        raise SweepError(
            f"--executor dask://{client.scheduler.address.split('://')[-1]}: the "
            "scheduler has no workers; start some with: dask worker ADDRESS"
        )
    executor = client.get_executor(pure=False)
    pool = Pool(
        executor,
        workers or threads,
        False,
        f"Dask at {client.scheduler.address} ({threads} threads)",
    )

    def close() -> None:
        executor.shutdown(wait=False)
        if owned:
            client.close()

    pool.close = pool.kill = close
    return pool


class Interrupts:
    """Ctrl-C during a sweep. Until a pool runs, it raises :class:`KeyboardInterrupt` at once, as
    Python's own handler does (a run in this process stops where it is). Once :meth:`defer` is
    called (a pool is starting), it is only noted, and the sweep raises it at :meth:`check`,
    between its waits for results. Raised wherever the main thread happens to be, it can land
    inside the executor's own code between taking one of its locks and the ``with`` block that
    would release it (the event a result sets, a future's condition, the queue of work ids);
    the executor's thread then blocks on that lock for good, and so does the sweep, when it
    stops the pool or exits. A second Ctrl-C while the sweep is stopping is only noted too."""

    def __init__(self) -> None:
        self.deferring = False
        self.pending = False

    def defer(self) -> None:
        self.deferring = True

    def check(self) -> None:
        """Raise the Ctrl-C noted since the last check, if any."""
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt

    def handle(self, signum: int, frame: Any) -> None:
        if not self.deferring:
            signal.default_int_handler(signum, frame)
        self.pending = True


@contextlib.contextmanager
def interrupts() -> Iterator[Interrupts]:
    """Handle Ctrl-C as :class:`Interrupts` says while the block runs, then restore the handler
    and raise a Ctrl-C noted but not raised yet. Only Python's default handler is replaced, and
    only from the main thread: a handler the caller installed, or an ignored SIGINT (as a
    command started in the background by a shell without job control inherits it), stays."""
    import threading

    state = Interrupts()
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield state
        return
    previous = signal.signal(signal.SIGINT, state.handle)
    try:
        yield state
    finally:
        signal.signal(signal.SIGINT, previous)
    state.check()


@contextlib.contextmanager
def sigint_held() -> Iterator[None]:
    """Keep Ctrl-C from the processes started in the block, and keep it for this one: SIGINT is
    blocked in this thread while they start, so that they inherit it blocked (the fork server,
    and the workers it forks, never receive it: the sweep stops them), and a Ctrl-C meanwhile
    waits, pending, until this process unblocks it and handles it. Where signals cannot be
    blocked (Windows), it is ignored while they start instead (:func:`sigint_ignored`)."""
    if not hasattr(signal, "pthread_sigmask"):
        with sigint_ignored():
            yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


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
