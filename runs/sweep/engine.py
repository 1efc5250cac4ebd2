"""The sweep itself: plan, open the directory, run what is missing on a pool, recover from lost
workers, and write the tables, also when interrupted."""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from runs.output import OutputError
from runs.sweep.errors import SweepError, SweepFailure
from runs.sweep.executors import Interrupts, Pool, check_main_guard, interrupts, open_pool
from runs.sweep.plan import Plan, RunTask, plan_sweep
from runs.sweep.progress import Progress
from runs.sweep.records import one_line
from runs.sweep.spec import SweepSpec
from runs.sweep.store import SweepDir
from runs.sweep.worker import Chunk, Outcome, run_chunk

#: runs per task submitted to a pool, at most; fewer when there are few runs per worker
MAX_CHUNK = 4
#: tasks in flight per worker slot
IN_FLIGHT_PER_SLOT = 2
#: seconds of serial work (estimated from the batch's first runs) under which local workers are
#: not started and the batch runs on in this process: starting them costs a fresh interpreter
#: importing the model (1.3-2 s on the development machine, docs/performance.md "Batches"),
#: which 2 workers win back only on at least twice that much work. The environment variable
#: MARGINS_SERIAL_BELOW_S sets it (0: always start the workers).
SERIAL_BELOW_S = 4.0
#: seconds between looks at a Ctrl-C while runs are out on a pool (:class:`Interrupts`)
POLL_S = 0.25


@dataclass
class SweepReport:
    """How a call of :func:`sweep` went (the CLI prints it)."""

    out: Path
    total: int
    done_before: int
    done: int = 0
    ran: int = 0
    failed: int = 0
    seconds: float = 0.0
    pool: str = ""
    interrupted: bool = False
    errors: list[tuple[str, str]] = field(default_factory=list)
    #: runs whose worker was lost twice in this call (not recorded: the next call runs them)
    lost: list[str] = field(default_factory=list)


def sweep(
    spec: SweepSpec | Plan | str | Path | Mapping[str, Any],
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    executor: str | Executor | Any = "local",
    progress: str | bool = "auto",
    retry_failed: bool = False,
    report: SweepReport | None = None,
) -> pl.DataFrame:
    """Run every point × replication of a spec and return the summary, one row per run.

    Args:
        spec: a shipped spec's name, a TOML path, a dict with the same tables, or a loaded spec.
        out: the sweep's directory (default ``out/<spec name>``). Running the same spec into
            the same directory again runs only the runs that are missing.
        workers: local worker processes (default: one per CPU; 1 runs serially in this
            process), or the tasks kept in flight on Dask (default: its thread count). Local
            workers start only for a batch worth it: its first runs run in this process, and
            when the rest would take under :data:`SERIAL_BELOW_S` seconds serially, it does too.
        executor: ``"local"``, ``"dask://HOST:PORT"``, a ``distributed.Client`` or any
            :class:`concurrent.futures.Executor`.
        progress: ``"auto"`` (a bar on a terminal, else a line every few seconds on stderr),
            ``"bar"``, ``"lines"``, or False.
        retry_failed: run again the runs that failed before (a run's own error is kept: it
            fails again on the same parameters and seed). A run whose worker was lost, or that
            could not be written, is never recorded as failed: the next call runs it.
        report: filled in with what happened (for the CLI).

    Returns:
        ``summary.parquet`` as a polars DataFrame: run id, point, replication, scenario, the
        varied parameters, seed and status, then the figures of :func:`summarize_run`.

    Raises:
        SpecError: the spec is wrong (nothing ran). SweepError: the output directory or the
        executor cannot be used (nothing ran). OutputError: files could not be written (a full
        disk, a read-only directory). SweepFailure: the executor failed while running (its
        scheduler gone). KeyboardInterrupt: interrupted. In the last three cases what finished
        is kept, and calling again finishes the rest.
    """
    check_main_guard(workers, executor)
    serial_below_s()  # a bad MARGINS_SERIAL_BELOW_S fails here, before anything runs
    plan = spec if isinstance(spec, Plan) else plan_sweep(spec)
    out = Path(out) if out is not None else Path("out") / plan.spec.name
    report = report if report is not None else SweepReport(out, len(plan.tasks), 0)
    report.out, report.total = out, len(plan.tasks)
    pool = open_pool(executor, workers)  # a bad executor fails here, before anything is written
    store = SweepDir(out)
    with interrupts() as ctrl_c:
        try:
            store.open(plan)
            finished = store.finished(plan)
            if retry_failed:
                store.forget(r for r, status in finished.items() if status == "failed")
                finished = {r: s for r, s in finished.items() if s != "failed"}
            report.done_before = len(finished)
            todo = [t for t in _submission_order(plan.tasks) if t.run_id not in finished]
            report.pool = pool.label if todo else "nothing to run"
            mode = (
                "off"
                if progress is False or not todo
                else ("auto" if progress is True else progress)
            )
            started = time.perf_counter()
            try:
                with Progress(
                    plan.spec.name,
                    len(plan.tasks),
                    len(finished),
                    sum(s == "failed" for s in finished.values()),
                    mode,
                ) as bar:
                    if todo:
                        _execute(plan, todo, pool, store, bar, report, ctrl_c)
            except BaseException:
                pool.kill()  # stop the workers first, so that the tables count every finished run
                with contextlib.suppress(OutputError):  # the first error is the one to report
                    _, summary = store.write_tables(plan)
                    _count(report, summary, started)
                raise
            # the tables show what is done
            _, summary = store.write_tables(plan)
            _count(report, summary, started)
            ctrl_c.check()
        except BaseException as exc:
            report.interrupted = isinstance(exc, KeyboardInterrupt)
            pool.kill()
            raise
        else:
            pool.close()
        finally:
            store.close()  # the workers are gone: clear their scratch space, release the lock
    return summary


def _count(report: SweepReport, summary: pl.DataFrame, started: float) -> None:
    report.seconds = time.perf_counter() - started
    report.done = summary.height
    report.ran = report.done - report.done_before
    report.failed = summary.filter(pl.col("status") == "failed").height


def _submission_order(tasks: Sequence[RunTask]) -> list[RunTask]:
    """Replication by replication, so an interrupted sweep has covered every point evenly."""
    return sorted(tasks, key=lambda t: (t.replication, t.point))


def _chunk(plan: Plan, tasks: Sequence[RunTask], out: str | None, pool: Pool) -> Chunk:
    used = {t.scenario for t in tasks}
    return Chunk(
        tuple(tasks),
        {k: v for k, v in plan.bases.items() if k in used},
        plan.spec.quarters,
        plan.spec.panels,
        plan.windows,
        out,
        os.getpid() if pool.executor is not None and pool.writes else None,
    )


def _execute(
    plan: Plan,
    todo: list[RunTask],
    pool: Pool,
    store: SweepDir,
    bar: Progress,
    report: SweepReport,
    ctrl_c: Interrupts,
) -> None:
    """Run ``todo`` on ``pool``: chunks of a few runs, at most a few chunks per slot in flight.
    While a pool runs, a Ctrl-C is raised only between waits (:class:`Interrupts`)."""
    out = str(store.runs) if pool.writes else None
    size = max(1, min(MAX_CHUNK, math.ceil(len(todo) / (pool.slots * 4))))

    def handle(outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            if outcome.files is not None:
                store.store(outcome)
        failed = sum(o.status == "failed" for o in outcomes)
        bar.advance(len(outcomes) - failed, failed)

    if pool.executor is None and pool.start is not None:
        todo = _first_here(plan, todo, pool, out, handle, report, ctrl_c)
    if pool.executor is None:
        for start in range(0, len(todo), size):
            handle(run_chunk(_chunk(plan, todo[start : start + size], out, pool)))
        return

    queue: list[list[RunTask]] = [todo[i : i + size] for i in range(0, len(todo), size)]
    queue.reverse()  # pop() takes from the end
    attempts: dict[str, int] = {}
    inflight: dict[Future, list[RunTask]] = {}
    limit = pool.slots * IN_FLIGHT_PER_SLOT
    ctrl_c.defer()
    while queue or inflight:
        ctrl_c.check()
        while queue and len(inflight) < limit:
            tasks = queue.pop()
            try:
                future = pool.executor.submit(run_chunk, _chunk(plan, tasks, out, pool))
            except Exception as exc:  # the executor is gone (e.g. Dask's scheduler)
                raise SweepFailure(f"the executor stopped working ({one_line(exc)})") from None
            inflight[future] = tasks
        done, _ = wait(list(inflight), timeout=POLL_S, return_when=FIRST_COMPLETED)
        ctrl_c.check()
        broken = False
        for future in done:
            tasks = inflight.pop(future)
            try:
                handle(future.result())
            except OutputError:
                raise  # a full disk, a read-only directory: no run can be written
            except Exception as exc:
                broken = broken or isinstance(exc, BrokenProcessPool)
                _recover(tasks, exc, attempts, queue, store, handle, report)
        if broken:  # a worker process died: the pool is unusable, start a new one
            if pool.restart is None:
                raise SweepFailure("the executor's worker pool broke (a worker process died)")
            for future, tasks in list(inflight.items()):  # lost with the pool
                inflight.pop(future)
                _recover(
                    tasks,
                    RuntimeError("the worker pool broke"),
                    attempts,
                    queue,
                    store,
                    handle,
                    report,
                )
            with contextlib.suppress(Exception):
                pool.executor.shutdown(wait=False, cancel_futures=True)
            pool.executor = pool.restart()


def serial_below_s() -> float:
    """:data:`SERIAL_BELOW_S`, or the environment's ``MARGINS_SERIAL_BELOW_S``."""
    text = os.environ.get("MARGINS_SERIAL_BELOW_S", "")
    try:
        value = float(text) if text.strip() else SERIAL_BELOW_S
    except ValueError:
        raise SweepError(
            f"MARGINS_SERIAL_BELOW_S={text}: not a number of seconds (0: always start the workers)"
        ) from None
    return value if math.isfinite(value) and value > 0 else 0.0


def _first_here(
    plan: Plan,
    todo: list[RunTask],
    pool: Pool,
    out: str | None,
    handle: Callable[[list[Outcome]], None],
    report: SweepReport,
    ctrl_c: Interrupts,
) -> list[RunTask]:
    """A local pool not started yet: run the batch's first runs in this process and start the
    workers only if the rest would take longer than :func:`serial_below_s` serially; otherwise
    leave the pool unstarted, so that the rest runs here too. Returns what is left to run.

    The first run of a process also pays one-time costs (the scenario schema built, the
    machine described), so when it alone says the workers would pay, a second run decides."""
    threshold = serial_below_s()
    for _ in range(2 if threshold > 0 else 0):
        if not todo:
            break
        started = time.perf_counter()
        handle(run_chunk(_chunk(plan, todo[:1], out, pool)))
        todo = todo[1:]
        if (time.perf_counter() - started) * len(todo) < threshold:
            report.pool = pool.label = (
                f"1 process (serial: too little work to pay for starting {pool.slots} workers)"
            )
            return todo
    if todo:
        ctrl_c.defer()  # from its start on, a Ctrl-C waits for the sweep's loop
        pool.executor = pool.start()
    return todo


def _recover(
    tasks: list[RunTask],
    exc: BaseException,
    attempts: dict[str, int],
    queue: list[list[RunTask]],
    store: SweepDir,
    handle: Callable[[list[Outcome]], None],
    report: SweepReport,
) -> None:
    """A chunk that never came back (its worker died, its scheduler went away): runs it
    finished are on disk; the rest are tried once more, one per task. A run lost twice is
    counted as lost in ``report`` but not recorded, so that the next sweep runs it again."""
    finished = store.finished_ids([t.run_id for t in tasks])
    handle([Outcome(r, s) for r, s in finished.items()])
    for task in tasks:
        if task.run_id in finished:
            continue
        attempts[task.run_id] = attempts.get(task.run_id, 0) + 1
        if attempts[task.run_id] >= 2:
            report.lost.append(task.run_id)
            report.errors.append((task.run_id, f"worker lost: {one_line(exc)}"))
            handle([Outcome(task.run_id, "failed")])
        else:
            queue.append([task])
