"""The sweep directory ``OUT/``: opening and locking it, which runs are done, storing runs that
come back from remote workers, and the ``runs.parquet`` and ``summary.parquet`` tables."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl
from filelock import FileLock, Timeout

from runs.output import WRITE_ERRORS, OutputError, write_error
from runs.sweep.errors import SweepError
from runs.sweep.plan import Plan
from runs.sweep.records import TIMING_COLUMNS, commit_run, read_result, write_json
from runs.sweep.worker import Outcome


class SweepDir:
    """``OUT/``: ``sweep.json`` (what the sweep is), ``runs/<run_id>/`` (one per finished run),
    ``runs.parquet`` and ``summary.parquet`` (rebuilt from the run directories)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.runs = self.path / "runs"
        self._lock: FileLock | None = None

    def open(self, plan: Plan) -> None:
        """Create or reopen the directory for ``plan``: take the lock, check that it holds the
        same sweep, clear leftovers of killed workers."""
        out = self.path
        if out.exists() and not out.is_dir():
            raise OutputError(f"--out {out}: is a file, not a directory", user=True)
        try:
            out.mkdir(parents=True, exist_ok=True)
            self.runs.mkdir(exist_ok=True)
        except OSError as exc:
            raise write_error(f"--out {out}", exc) from None
        if not os.access(out, os.W_OK | os.X_OK):
            raise OutputError(f"--out {out}: cannot write (Permission denied)")
        self._take_lock()
        try:
            self._open(plan)
        except BaseException:
            self.close()
            raise

    def _open(self, plan: Plan) -> None:
        out = self.path
        meta_path = out / "sweep.json"
        if meta_path.exists():
            self._check_same(plan, meta_path)
        else:
            strays = [p.name for p in out.iterdir() if p.name not in ("runs", ".lock")]
            if strays or any(self.runs.iterdir()):
                raise SweepError(
                    f"--out {out}: not empty and not a sweep directory (no "
                    "sweep.json); choose a new or empty directory"
                )
            try:
                write_json(meta_path, _describe(plan))
                if plan.spec.text is not None:
                    (out / "spec.toml").write_text(plan.spec.text)
            except OSError as exc:
                meta_path.unlink(missing_ok=True)
                raise write_error(f"--out {out}", exc) from None
        shutil.rmtree(self.runs / ".tmp", ignore_errors=True)

    def _take_lock(self) -> None:
        """Hold ``OUT/.lock`` (:class:`filelock.FileLock`: flock on POSIX, a Windows lock on
        Windows) until :meth:`close`, so that two sweeps never write one directory."""
        lock = FileLock(self.path / ".lock", timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise SweepError(
                f"--out {self.path}: another sweep is running in this directory"
            ) from None
        except OSError as exc:
            raise write_error(f"--out {self.path}", exc) from None
        self._lock = lock

    def close(self) -> None:
        shutil.rmtree(self.runs / ".tmp", ignore_errors=True)
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _check_same(self, plan: Plan, meta_path: Path) -> None:
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            raise SweepError(
                f"--out {self.path}: sweep.json is unreadable; choose a new directory"
            ) from None
        if meta.get("digest") == plan.digest:
            return
        old = meta.get("scenario_digests", {})
        changed = [s for s, d in plan.scenario_digests.items() if s in old and old[s] != d]
        why = (
            f"scenario {', '.join(changed)} changed since it started"
            if changed
            else "it was started with a different spec"
        )
        raise SweepError(
            f"--out {self.path}: holds sweep {meta.get('name', '?')!r} but {why}; "
            "use a new --out directory to run this one"
        )

    def finished(self, plan: Plan) -> dict[str, str]:
        """Status (``ok`` / ``failed``) of the plan's runs that are done. A run directory whose
        files are not all there and readable (``result.json``, the manifest, each Parquet file
        of a run with panels) is incomplete: it is removed and the run counts as to do."""
        wanted = {t.run_id for t in plan.tasks}
        out = {}
        for entry in os.scandir(self.runs):
            if entry.name not in wanted:
                continue
            record = read_result(Path(entry.path))
            if (
                record is None
                or _lost(record)
                or not _files_whole(Path(entry.path), record, plan.spec.panels)
            ):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                out[entry.name] = record["run"]["status"]
        return out

    def finished_ids(self, run_ids: Iterable[str]) -> dict[str, str]:
        """Status of those of ``run_ids`` whose directories are complete."""
        out = {}
        for run_id in run_ids:
            record = read_result(self.runs / run_id)
            if record is not None:
                out[run_id] = record["run"]["status"]
        return out

    def forget(self, run_ids: Iterable[str]) -> None:
        for run_id in run_ids:
            shutil.rmtree(self.runs / run_id, ignore_errors=True)

    def store(self, outcome: Outcome) -> None:
        """Write a run's files that came back from a remote worker (atomically). Raises
        :class:`~runs.output.OutputError`."""
        assert outcome.files is not None
        scratch = self.runs / ".tmp"
        tmp = scratch / f"{outcome.run_id}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        try:
            scratch.mkdir(exist_ok=True)
            tmp.mkdir()
            for name, data in outcome.files.items():
                (tmp / Path(name).name).write_bytes(data)
            commit_run(tmp, self.runs / outcome.run_id)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise write_error(f"--out {self.path}", exc) from None

    def write_tables(self, plan: Plan | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Rebuild ``runs.parquet`` and ``summary.parquet`` from the run directories."""
        index, summary = collect(self.path, plan)
        for name, frame in (("runs", index), ("summary", summary)):
            tmp = self.path / f".{name}.parquet.tmp"
            try:
                frame.write_parquet(tmp)
                os.replace(tmp, self.path / f"{name}.parquet")
            except WRITE_ERRORS as exc:
                tmp.unlink(missing_ok=True)
                raise write_error(f"--out {self.path}", exc) from None
        return index, summary


def _lost(record: dict[str, Any]) -> bool:
    """A run recorded as failed because its worker was lost (as sweeps before this one did):
    not the run's own failure, so it is run again."""
    error = record["run"].get("error") or ""
    return record["run"]["status"] == "failed" and str(error).startswith("worker lost:")


def _files_whole(run_dir: Path, record: dict[str, Any], panels: bool) -> bool:
    """True when a finished run's files are there and readable: for a run that succeeded, its
    manifest and (with panels) every Parquet frame the manifest lists."""
    if record["run"]["status"] != "ok":
        return True
    try:
        manifest = json.loads((run_dir / "manifest.json").read_text())
        frames = manifest.get("frames", []) if panels else []
        for name in frames:
            pl.read_parquet_schema(run_dir / Path(name).name)
    except (OSError, ValueError, TypeError, AttributeError, pl.exceptions.PolarsError):
        return False
    return True


def _describe(plan: Plan) -> dict[str, Any]:
    spec = plan.spec
    return {
        "name": spec.name,
        "description": spec.description,
        "spec": spec.source,
        "digest": plan.digest,
        "scenario_digests": plan.scenario_digests,
        "scenarios": list(spec.scenarios),
        "parameters": list(plan.parameters),
        "points": len(plan.points),
        "replications": spec.replications,
        "runs": len(plan.tasks),
        "seed": spec.seed,
        "seeds": spec.seeds,
        "quarters": spec.quarters,
        "panels": spec.panels,
        "windows": [w.label for w in plan.windows],
        "grid": {k: list(v) for k, v in spec.grid.items()},
        "ranges": {k: {"low": r.low, "high": r.high, "log": r.log} for k, r in spec.ranges.items()},
        "sample": {"method": spec.method, "count": spec.count} if spec.ranges else None,
    }


def read_meta(out: str | Path) -> dict[str, Any]:
    """``sweep.json`` of a sweep directory. Raises :class:`SweepError`."""
    path = Path(out) / "sweep.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise SweepError(
            f"{out}: not a sweep directory (no sweep.json); run margins sweep SPEC --out DIR first"
        ) from None
    except (OSError, ValueError) as exc:
        raise SweepError(f"{path}: unreadable ({exc})") from None


def collect(
    out: str | Path, plan: Plan | None = None, batch: int = 2000
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The runs index and the summary of a sweep directory, one row per finished run, in run id
    order. Rows are turned into frames ``batch`` at a time, so memory stays small."""
    out = Path(out)
    meta = read_meta(out)
    parameters = [p for p in meta.get("parameters", []) if p != "scenario"]
    runs_dir = out / "runs"
    names = (
        sorted(e.name for e in os.scandir(runs_dir) if not e.name.startswith("."))
        if runs_dir.is_dir()
        else []
    )
    if plan is not None:
        wanted = {t.run_id for t in plan.tasks}
        names = [n for n in names if n in wanted]
    index_parts, figure_parts = [], []
    order: dict[str, None] = {}  # figure names in first-seen order
    for start in range(0, len(names), batch):
        rows, figures = [], []
        for name in names[start : start + batch]:
            record = read_result(runs_dir / name)
            if record is None:
                continue
            run = record["run"]
            params = run.get("parameters", {})
            rows.append(
                {
                    **{k: run[k] for k in ("run_id", "point", "replication", "scenario")},
                    **{p: _cell(params.get(p)) for p in parameters},
                    **{k: run[k] for k in ("quarters", "seed", "status", "error", *TIMING_COLUMNS)},
                }
            )
            figures.append({"run_id": run["run_id"], **record["summary"]})
            order.update(dict.fromkeys(record["summary"]))
        if rows:
            index_parts.append(pl.DataFrame(rows, schema=_index_schema(rows, parameters)))
            figure_parts.append(pl.DataFrame(figures, infer_schema_length=None))
    index = (
        pl.concat(index_parts, how="diagonal_relaxed")
        if index_parts
        else pl.DataFrame(schema=_index_schema([], parameters))
    )
    figures = (
        pl.concat(figure_parts, how="diagonal_relaxed")
        if figure_parts
        else pl.DataFrame(schema={"run_id": pl.String})
    )
    keys = ["run_id", "point", "replication", "scenario", *parameters, "seed", "status"]
    summary = pl.concat(
        [index.select(keys), figures.select(_typed(figures, list(order)))], how="horizontal"
    )
    return index, summary


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return value


def _index_schema(rows: list[dict], parameters: list[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "run_id": pl.String,
        "point": pl.Int64,
        "replication": pl.Int64,
        "scenario": pl.String,
    }
    for p in parameters:
        values = [r[p] for r in rows if r.get(p) is not None]
        if values and all(isinstance(v, bool) for v in values):
            schema[p] = pl.Boolean
        elif values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            schema[p] = pl.Int64
        elif values and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            schema[p] = pl.Float64
        else:
            schema[p] = pl.String
    schema.update(
        {
            "quarters": pl.Int64,
            "seed": pl.Int64,
            "status": pl.String,
            "error": pl.String,
            "seconds": pl.Float64,
            "worker": pl.String,
        }
    )
    return schema


def _typed(figures: pl.DataFrame, order: list[str]) -> list[pl.Expr]:
    """The figure columns in first-seen order, typed the same whatever runs failed: a figure
    that is null in every run is Float64, an always-empty list is a list of strings."""
    out = []
    for name in order:
        dtype = figures.schema.get(name)
        if dtype is None or dtype == pl.Null:
            out.append(
                pl.lit(None, dtype=pl.Float64).alias(name)
                if dtype is None
                else pl.col(name).cast(pl.Float64)
            )
        elif dtype == pl.List(pl.Null):
            out.append(pl.col(name).cast(pl.List(pl.String)))
        else:
            out.append(pl.col(name))
    return out
