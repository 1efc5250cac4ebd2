"""Faults that are not a run's own — a full disk, a read-only directory, a worker lost, the
executor gone — are one ``error:`` line (exit status 1) and are never recorded as failed runs:
the next sweep runs those runs again without ``--retry-failed``. Resume trusts a finished run
only when its files are whole. Exit statuses mean one thing each.

Disk faults are injected by making the writer fail (as polars and the OS do on a full disk),
lost workers and a vanished scheduler by an executor whose futures fail or whose ``submit``
raises."""

from __future__ import annotations

import errno
import importlib
import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import Executor, Future
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cli.main import app
from runs import sweep
from runs.sweep import SweepError, SweepFailure, SweepReport, max_workers, run_chunk

ROOT = Path(__file__).resolve().parents[2]
SPEC = (
    '[sweep]\nname = "faults"\nquarters = 2\nreplications = 2\nseed = 3\n'
    '[vary]\n"demand.multiplier" = [0.8, 1.2]\n'
)
NO_SPACE = OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "faults.toml"
    path.write_text(SPEC)
    return path


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def one_error(result, code: int, *fragments: str) -> str:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def statuses(out: Path) -> dict[str, str]:
    return {
        p.name: json.loads((p / "result.json").read_text())["run"]["status"]
        for p in (out / "runs").iterdir()
        if not p.name.startswith(".")
    }


def strays(out: Path) -> list[str]:
    return sorted(
        str(p.relative_to(out)) for p in out.rglob("*") if ".tmp" in p.name or p.name == ".tmp"
    )


def test_a_full_disk_stops_the_sweep_records_nothing_and_resumes(
    spec: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = importlib.import_module("runs.sweep.worker")

    real = worker.write_json
    calls = {"n": 0}

    def write_json(path, data):
        calls["n"] += 1
        if calls["n"] > 3:  # the second run's record, and every one after
            raise NO_SPACE
        return real(path, data)

    monkeypatch.setattr(worker, "write_json", write_json)
    out = tmp_path / "out"
    result = invoke("sweep", str(spec), "--out", str(out), "--workers", "1")
    one_error(result, 1, "cannot write (No space left on device)", "1 of 4 runs done")
    assert statuses(out) == {"p000-r00": "ok"}  # nothing recorded as failed
    assert strays(out) == []  # no .tmp directory, no .summary.parquet.tmp

    monkeypatch.undo()
    again = invoke("sweep", str(spec), "--out", str(out), "--workers", "1")
    assert again.exit_code == 0, again.stderr
    assert "4 runs, 4 ok, 0 failed; ran 3" in again.stdout


def test_tables_that_cannot_be_written_are_one_line_and_no_stray_file(
    spec: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pl.DataFrame.write_parquet

    def write_parquet(self, file, *args, **kwargs):
        if str(file).endswith(".parquet.tmp"):
            Path(file).write_bytes(b"PAR1")
            raise pl.exceptions.ComputeError(
                "parquet: underlying IO error: Read-only file system (os error 30)"
            )
        return real(self, file, *args, **kwargs)

    monkeypatch.setattr(pl.DataFrame, "write_parquet", write_parquet)
    out = tmp_path / "out"
    result = invoke("sweep", str(spec), "--out", str(out), "--workers", "1")
    one_error(result, 1, "cannot write (Read-only file system)")
    assert strays(out) == []


def test_a_directory_that_cannot_be_created_is_one_line(
    spec: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def mkdir(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", mkdir)
    result = invoke("sweep", str(spec), "--out", str(tmp_path / "x" / "out"), "--workers", "1")
    one_error(result, 1, "cannot write (Permission denied)")


class FlakyExecutor(Executor):
    """Runs chunks at once in this process, except that a chunk holding one of ``lost`` fails
    as a future does when its worker (or the scheduler) goes away; after ``submits`` calls,
    ``submit`` itself raises, as a client whose scheduler is gone does."""

    def __init__(self, lost: set[str] = frozenset(), submits: int | None = None) -> None:
        self.lost, self.submits = set(lost), submits

    def submit(self, fn, chunk, *args, **kwargs):
        if self.submits is not None:
            if self.submits == 0:
                raise RuntimeError("Client is closed: the scheduler went away")
            self.submits -= 1
        future: Future = Future()
        if any(task.run_id in self.lost for task in chunk.tasks):
            future.set_exception(OSError("Stream is closed: the worker went away"))
        else:
            future.set_result(run_chunk(chunk))
        return future


def test_a_run_lost_twice_is_not_recorded_and_runs_on_resume(spec: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = SweepReport(out, 0, 0)
    summary = sweep(
        spec, out, executor=FlakyExecutor(lost={"p001-r00"}), progress=False, report=report
    )
    assert report.lost == ["p001-r00"]
    assert sorted(summary["run_id"]) == ["p000-r00", "p000-r01", "p001-r01"]
    assert set(statuses(out).values()) == {"ok"}  # the lost run is not recorded as failed
    again = sweep(spec, out, workers=1, progress=False)  # no retry flag
    assert again.height == 4 and (again["status"] == "ok").all()


def test_a_vanished_scheduler_stops_the_sweep_and_resumes(spec: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(SweepFailure, match="the executor stopped working"):
        sweep(spec, out, executor=FlakyExecutor(submits=1), workers=1, progress=False)
    assert "failed" not in statuses(out).values()
    assert strays(out) == []
    again = sweep(spec, out, workers=1, progress=False)
    assert again.height == 4 and (again["status"] == "ok").all()


def test_a_vanished_scheduler_is_one_line_in_the_cli(
    spec: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = importlib.import_module("runs.sweep.engine")

    real = engine.open_pool
    monkeypatch.setattr(
        engine, "open_pool", lambda executor, workers: real(FlakyExecutor(submits=1), 1)
    )
    result = invoke("sweep", str(spec), "--out", str(tmp_path / "out"))
    one_error(result, 1, "the executor stopped working", "run the same command again")


def test_runs_recorded_as_worker_lost_by_older_sweeps_run_again(spec: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    sweep(spec, out, workers=1, progress=False)
    record_path = out / "runs" / "p000-r01" / "result.json"
    record = json.loads(record_path.read_text())
    record["run"].update(status="failed", error="worker lost: BrokenProcessPool")
    record_path.write_text(json.dumps(record))
    report = SweepReport(out, 0, 0)
    summary = sweep(spec, out, workers=1, progress=False, report=report)
    assert report.ran == 1 and (summary["status"] == "ok").all()


def test_resume_reruns_a_finished_run_whose_files_are_broken(tmp_path: Path) -> None:
    spec = tmp_path / "panels.toml"
    spec.write_text(SPEC.replace("seed = 3", "seed = 3\npanels = true"))
    out = tmp_path / "out"
    sweep(spec, out, workers=1, progress=False)
    broken = out / "runs" / "p001-r01" / "firms.parquet"
    good = broken.read_bytes()
    broken.write_bytes(good[: len(good) // 2])  # truncated, as by a full disk or a crash
    report = SweepReport(out, 0, 0)
    sweep(spec, out, workers=1, progress=False, report=report)
    assert report.ran == 1
    assert pl.read_parquet(broken).height > 0
    (out / "runs" / "p000-r00" / "manifest.json").write_text("{")
    report = SweepReport(out, 0, 0)
    sweep(spec, out, workers=1, progress=False, report=report)
    assert report.ran == 1


def test_exit_status_1_means_some_runs_failed_and_2_means_bad_input(
    spec: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(SPEC.replace("quarters = 2", "quarters = 0"))
    one_error(invoke("sweep", str(bad), "--out", str(tmp_path / "o")), 2, "sweep.quarters")
    assert not (tmp_path / "o").exists()


def test_workers_are_bounded_by_the_machine(spec: Path, tmp_path: Path) -> None:
    n = max_workers() + 1
    for command in (["sweep", str(spec)], ["compare", "funding-dries-up", "--seeds", "2"]):
        result = invoke(*command, "--out", str(tmp_path / "o"), "--workers", str(n))
        one_error(result, 2, f"--workers: at most {max_workers()} on this machine")
    assert not (tmp_path / "o").exists()
    with pytest.raises(SweepError, match="at most"):
        sweep(spec, tmp_path / "o", workers=1000, progress=False)


def test_a_huge_grid_is_refused_before_it_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = importlib.import_module("runs.sweep.plan")

    def never(*args, **kwargs):
        raise AssertionError("the grid was built before its size was checked")

    monkeypatch.setattr(plan, "_check_values", never)
    monkeypatch.setattr(plan.itertools, "product", never)
    values = ", ".join(str(0.5 + i / 2000) for i in range(1600))
    path = tmp_path / "huge.toml"
    path.write_text(
        f'[sweep]\nname = "huge"\n[vary]\n"demand.multiplier" = [{values}]\n'
        f'"technology.chip_cost_decline" = [{values}]\n'
    )
    line = one_error(invoke("sweep", str(path), "--out", str(tmp_path / "o")), 2)
    assert "2,560,000 runs" in line and "at most 1,000,000" in line


UNGUARDED = """
from runs import sweep
sweep({{"sweep": {{"quarters": 1, "replications": 2}}}}, {out!r}, workers=2, progress=False)
print("finished")
"""


def test_sweep_from_an_unguarded_script_fails_fast_with_what_to_add(tmp_path: Path) -> None:
    script, out = tmp_path / "my_script.py", tmp_path / "out"
    script.write_text(textwrap.dedent(UNGUARDED.format(out=str(out))))
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert proc.returncode != 0 and "finished" not in proc.stdout
    assert 'if __name__ == "__main__":' in proc.stderr
    assert "my_script.py, line 3" in proc.stderr
    assert "BrokenProcessPool" not in proc.stderr and len(proc.stderr.splitlines()) < 12
    assert not out.exists()  # nothing started, nothing recorded as failed


def test_sweep_under_the_guard_is_not_refused(tmp_path: Path) -> None:
    from runs.sweep import check_main_guard

    script = tmp_path / "guarded.py"
    script.write_text(
        "import sys\nfrom runs.sweep import check_main_guard\n"
        'if __name__ == "__main__":\n    check_main_guard(2, "local")\n    print("ok")\n'
        'else:\n    sys.exit("imported")\n'
    )
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
    check_main_guard(2, "local")  # pytest's own entry point is guarded


def test_compare_reports_a_full_disk_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compare = importlib.import_module("runs.compare")

    def write_report(*args, **kwargs):
        raise NO_SPACE

    monkeypatch.setattr(compare, "write_report", write_report)
    out = tmp_path / "cmp"
    result = invoke(
        "compare", "funding-dries-up", "--seeds", "2", "--quarters", "2", "--workers", "1",
        "--out", str(out),
    )  # fmt: skip
    one_error(result, 1, f"--out {out}: cannot write (No space left on device)")


def test_sweep_into_a_read_only_file_system_is_one_line(spec: Path, tmp_path: Path) -> None:
    """Also without injection, where the test may mount one (root on Linux)."""
    mount = tmp_path / "ro"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip("cannot mount a read-only tmpfs here")
    try:
        result = invoke("sweep", str(spec), "--out", str(mount / "out"), "--workers", "1")
        one_error(result, 1, "Read-only file system")
        run = invoke("run", "--quarters", "1", "--out", str(mount / "run"))
        one_error(run, 1, "Read-only file system")
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_full_tmpfs_keeps_the_previous_output(tmp_path: Path) -> None:
    """A real full disk, where the test may mount a small tmpfs (root on Linux)."""
    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        out = mount / "run"
        assert invoke("run", "--quarters", "1", "--out", str(out)).exit_code == 0
        before = {p.name: p.read_bytes() for p in out.iterdir()}
        stat = os.statvfs(mount)
        (mount / "filler").write_bytes(b"\0" * (stat.f_bavail * stat.f_frsize - 24_000))
        result = invoke("run", "--quarters", "8", "--out", str(out))
        one_error(result, 1, f"--out {out}: cannot write (")  # polars' words vary
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
        assert sorted(p.name for p in mount.iterdir()) == ["filler", "run"]
    finally:
        subprocess.run(["umount", str(mount)], check=False)
