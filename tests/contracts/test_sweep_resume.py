"""Resume contract, tested by really interrupting ``margins sweep`` on 2 workers: stopped with
Ctrl-C (SIGINT to the process group, as a terminal sends it), then its process killed with
SIGKILL (as ``kill -9`` does; its workers must then exit by themselves). Each time, running the
same command again finishes only what is missing: no finished run is redone, lost or
duplicated, and the result equals an uninterrupted sweep. A worker process that dies midway
costs only its own runs.

Nothing here races the clock: the sweeps run through ``gated_sweep.py``, whose runs each wait
for a ticket, so a test lets exactly N runs finish, waits until they have (a count of run
directories), and only then interrupts. Timeouts are safety nets for a hung sweep, never
measurements."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from gated_sweep import interrupt_inside_wait, issue, open_gate

from runs import sweep
from runs.sweep import TIMING_COLUMNS, plan_sweep

ROOT = Path(__file__).resolve().parents[2]
GATED = Path(__file__).with_name("gated_sweep.py")
#: safety net: how long a wait may last before the test calls the sweep hung
HUNG_S = 600
# 48 runs of 8 quarters
SPEC = """
[sweep]
name = "resume"
quarters = 8
replications = 8
seed = 99
windows = ["2025", "2026"]

[vary]
"demand.multiplier" = [0.8, 1.0, 1.25]
"firms.nvidia.list_price_usd" = [20000.0, 30000.0]
"""
TOTAL = 48
POSIX = pytest.mark.skipif(os.name != "posix", reason="process groups and signals")


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "resume.toml"
    path.write_text(SPEC)
    return path


@pytest.fixture(scope="module")
def reference(spec_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same spec, uninterrupted, serially in this process."""
    out = tmp_path_factory.mktemp("reference") / "out"
    sweep(spec_file, out, workers=1, progress=False)
    return out


def start(spec_file: Path, out: Path, gate: Path) -> subprocess.Popen:
    """``margins sweep`` on 2 workers in its own process group, its runs waiting for tickets
    from ``gate``."""
    gate.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, str(GATED), "sweep", str(spec_file), "--out", str(out), "--workers", "2"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # the workers start however small the batch (its first run does not run in the sweep)
        env={**os.environ, "SWEEP_TEST_GATE": str(gate), "MARGINS_SERIAL_BELOW_S": "0"},
    )


def finished(out: Path) -> set[str]:
    runs = out / "runs"
    return (
        {p.name for p in runs.iterdir() if not p.name.startswith(".")} if runs.exists() else set()
    )


def wait_until(condition, what: str, proc: subprocess.Popen | None = None) -> None:
    """Poll ``condition`` until it holds (the deadline only catches a hung sweep)."""
    deadline = time.monotonic() + HUNG_S
    while not condition():
        assert proc is None or proc.poll() is None, f"the sweep ended early: {proc.communicate()}"
        assert time.monotonic() < deadline, f"hung: {what}"
        time.sleep(0.02)


def wait_for_runs(proc: subprocess.Popen, out: Path, count: int) -> None:
    wait_until(lambda: len(finished(out)) >= count, f"{count} runs finished", proc)


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def pool_workers(pid: int) -> list[int]:
    """The sweep's worker processes: the children of its fork server (or its spawned
    children), not multiprocessing's resource tracker nor the fork server itself."""

    def cmdline(child: int) -> bytes:
        try:
            return Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            return b""

    mine = children(pid)
    servers = [child for child in mine if b"multiprocessing.forkserver" in cmdline(child)]
    forked = [worker for server in servers for worker in children(server)]
    return forked + [child for child in mine if b"spawn_main" in cmdline(child)]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def snapshot(out: Path) -> dict[str, tuple[int, int]]:
    """Each finished run's result.json: (inode, mtime in ns), to tell a redone run apart."""
    out_runs = out / "runs"
    return {
        name: ((s := (out_runs / name / "result.json").stat()).st_ino, s.st_mtime_ns)
        for name in finished(out)
    }


def resume(spec_file: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cli.main",
            "sweep",
            str(spec_file),
            "--out",
            str(out),
            "--workers",
            "2",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HUNG_S,
        check=False,
        env={**os.environ, "MARGINS_SERIAL_BELOW_S": "0"},
    )


def assert_complete_and_equal(spec_file: Path, out: Path, reference: Path, before: dict) -> None:
    ids = [t.run_id for t in plan_sweep(spec_file).tasks]
    assert sorted(finished(out)) == ids  # nothing lost, nothing extra
    assert not any((out / "runs" / ".tmp").glob("*"))
    index = pl.read_parquet(out / "runs.parquet")
    assert index["run_id"].to_list() == ids  # no duplicates
    after = snapshot(out)
    assert {r: after[r] for r in before} == before, "a finished run was redone"
    ref_index = pl.read_parquet(reference / "runs.parquet")
    assert index.drop(TIMING_COLUMNS).equals(ref_index.drop(TIMING_COLUMNS), null_equal=True)
    summary, ref = (pl.read_parquet(p / "summary.parquet") for p in (out, reference))
    assert summary.equals(ref, null_equal=True)


@POSIX
def test_interrupted_sweeps_resume_without_redoing_runs(
    spec_file: Path, reference: Path, tmp_path: Path
) -> None:
    out, gate = tmp_path / "out", tmp_path / "gate"
    # 1. Ctrl-C: the sweep stops its workers, writes the index of what is done, exits 130
    issue(gate, 4)  # four runs may finish; the others wait
    proc = start(spec_file, out, gate)
    wait_for_runs(proc, out, 4)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C
    stdout, stderr = proc.communicate(timeout=HUNG_S)
    assert proc.returncode == 130, (stdout, stderr)
    assert "Traceback" not in stderr
    done = len(finished(out))
    assert done == 4
    assert f"interrupted: {done} of {TOTAL} runs done; run the same command again" in stderr
    partial = pl.read_parquet(out / "runs.parquet")
    assert partial.height == done and partial["status"].unique().to_list() == ["ok"]
    before = snapshot(out)

    # 2. the same command, its process killed outright midway: its workers exit by themselves
    issue(gate, 4)
    proc = start(spec_file, out, gate)
    wait_for_runs(proc, out, done + 4)
    workers = pool_workers(proc.pid)
    assert len(workers) == 2
    proc.kill()
    proc.wait(timeout=HUNG_S)
    assert proc.returncode == -signal.SIGKILL
    wait_until(lambda: not any(alive(pid) for pid in workers), "orphaned workers exit")
    after_kill = snapshot(out)
    assert {r: after_kill[r] for r in before} == before, "a finished run was redone"
    assert len(after_kill) == done + 4

    # 3. the same command, ungated, finishes the rest
    again = resume(spec_file, out)
    assert again.returncode == 0, again.stderr
    assert f"{TOTAL} runs, {TOTAL} ok, 0 failed; ran {TOTAL - len(after_kill)} " in again.stdout, (
        again.stdout
    )
    assert f"({len(after_kill)} done before)" in again.stdout
    assert_complete_and_equal(spec_file, out, reference, after_kill)


@POSIX
def test_ctrl_c_inside_the_pools_wait_stops_the_sweep(spec_file: Path, tmp_path: Path) -> None:
    """A Ctrl-C that arrives while the sweep's main thread holds a lock inside the executor's
    wait (the event its runs' results set) still stops the sweep, with exit status 130 and what
    finished kept: had it raised there, the lock would stay held, the executor's thread would
    block on it and the sweep would never exit."""
    out, gate = tmp_path / "out", tmp_path / "gate"
    issue(gate, 4)
    proc = start(spec_file, out, gate)
    wait_for_runs(proc, out, 4)  # both workers now wait inside a run for a ticket
    interrupt_inside_wait(gate)
    stdout, stderr = proc.communicate(timeout=HUNG_S)
    assert not (gate / "interrupt").exists(), "the sweep did not interrupt itself"
    assert proc.returncode == 130, (stdout, stderr)
    assert "Traceback" not in stderr
    assert len(finished(out)) == 4
    assert f"interrupted: 4 of {TOTAL} runs done; run the same command again" in stderr
    assert pl.read_parquet(out / "runs.parquet").height == 4


@POSIX
def test_a_dead_worker_loses_only_its_runs(
    spec_file: Path, reference: Path, tmp_path: Path
) -> None:
    """A worker process killed mid-run (as by the OOM killer): the sweep starts a new pool,
    runs again what had not finished, and completes with every run ok; no finished run is
    redone."""
    out, gate = tmp_path / "out", tmp_path / "gate"
    issue(gate, 4)
    proc = start(spec_file, out, gate)
    wait_for_runs(proc, out, 4)  # both workers now wait inside a run for a ticket
    before = snapshot(out)
    victim = pool_workers(proc.pid)[0]
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: not alive(victim), "the killed worker is gone", proc)
    open_gate(gate)
    stdout, stderr = proc.communicate(timeout=HUNG_S)
    assert proc.returncode == 0, stderr
    assert f"{TOTAL} runs, {TOTAL} ok, 0 failed" in stdout, stdout
    assert_complete_and_equal(spec_file, out, reference, before)


def test_stopping_the_local_pool_stops_only_its_workers() -> None:
    """The pool knows its workers by the process ids they report, not by the executor's
    private state: stopping it ends them and leaves this process's other children alone."""
    import multiprocessing
    from multiprocessing.connection import wait

    from runs.sweep import LocalWorkers

    context = multiprocessing.get_context("spawn")
    other = context.Process(target=time.sleep, args=(3600,), daemon=True)  # not a worker
    other.start()
    try:
        local = LocalWorkers(2)
        pool = local.pool()
        assert pool.executor.submit(sum, [1, 2]).result(timeout=HUNG_S) == 3
        # both report as they start; the first answer needs only one
        wait_until(lambda: len(local.workers()) == 2, "both workers report")
        workers = local.workers()
        pool.kill()
        # ended: each one's sentinel is ready at once (is_alive may race the executor's reaping)
        assert len(wait([p.sentinel for p in workers], timeout=0)) == 2
        assert other.is_alive()
    finally:
        other.kill()
        other.join()
