"""Time batches of baseline runs serially, on 2 local workers and on Dask; print the speed-ups.

Every figure is the wall time of ``runs.sweep.sweep`` into a fresh directory (summary tables
written), measured in a fresh Python process of its own (this script run with ``--one``), with
the imports done before the clock starts, so that no measurement inherits another's fork server
or warm workers. Each line gives the load average (1 minute) at its start: the speed-up needs
the cores to be free.

The big batch is one point of the baseline with N replications (default 200 runs of the
baseline's 40 quarters), per-quarter panels not kept:

- serial: in the sweep's process;
- 2 workers: the default local pool, including starting it (a fork server imports the model
  once, then forks both workers);
- 2 workers, warm: a pool started, its workers ready, before the clock starts;
- Dask: a ``distributed.LocalCluster`` of 2 single-threaded worker processes, warmed the same
  way. Its per-run overhead is (Dask − warm local pool) / runs.

Then the cost of starting 2 local workers (until both have answered, the model imported), by
the fork server and, for comparison, by "spawn" (each worker importing the model itself); and
small batches (runs of 8 quarters) serially and on 2 workers, with the sweep's serial fallback
(:data:`runs.sweep.engine.SERIAL_BELOW_S`) and without it (``MARGINS_SERIAL_BELOW_S=0``).

Every path must give the same summary; the script checks it.

    ./dev python benchmarks/bench_sweep.py                 # 200 runs of 40 quarters
    ./dev python benchmarks/bench_sweep.py --runs 40 --quarters 12 --no-dask   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SMALL = (4, 12, 30)  # runs of 8 quarters in the small batches
SMALL_QUARTERS = 8


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def spec_of(runs: int, quarters: int) -> dict:
    return {
        "sweep": {
            "name": "bench",
            "scenario": "baseline",
            "quarters": quarters,
            "replications": runs,
            "seed": 0,
        }
    }


# --------------------------------------------------------------------------------------------
# one measurement, in this (fresh) process
def one(mode: str, runs: int, quarters: int, out: Path) -> float:
    """Seconds of one measurement (``mode``), the imports done first."""
    import importlib

    from runs.sweep import LocalWorkers, sweep

    importlib.import_module("economy.model")
    spec = spec_of(runs, quarters)
    if mode in ("serial", "workers"):
        start = time.perf_counter()
        sweep(spec, out, workers=1 if mode == "serial" else 2, progress=False)
        return time.perf_counter() - start
    if mode == "warm":
        pool = LocalWorkers(2).pool()
        try:
            _ready(pool.executor)
            start = time.perf_counter()
            sweep(spec, out, executor=pool.executor, workers=2, progress=False)
            return time.perf_counter() - start
        finally:
            pool.close()
    if mode in ("start-forkserver", "start-spawn"):
        return _start_cost(mode.removeprefix("start-"))
    if mode == "dask":
        from distributed import Client, LocalCluster

        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            client.run(importlib.import_module, "economy.model")
            start = time.perf_counter()
            sweep(spec, out, executor=client, progress=False)
            return time.perf_counter() - start
    raise SystemExit(f"unknown mode {mode}")


def _ready(executor) -> None:
    """Both workers up, with what a sweep's worker imports (the fork server's preload)."""
    from runs.sweep.executors import PRELOAD

    futures = [executor.submit(exec, "import " + ", ".join(PRELOAD[1:])) for _ in range(4)]
    for future in futures:
        future.result()


def _start_cost(method: str) -> float:
    """Seconds from creating a pool of 2 workers to both having the model imported."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from runs.sweep import LocalWorkers, worker_init

    start = time.perf_counter()
    if method == "forkserver":
        pool = LocalWorkers(2).pool()
        _ready(pool.executor)
        seconds = time.perf_counter() - start
        pool.close()
        return seconds
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        2, mp_context=context, initializer=worker_init, initargs=(os.getpid(),)
    ) as executor:
        _ready(executor)
        return time.perf_counter() - start


# --------------------------------------------------------------------------------------------
# the driver: each measurement in a process of its own
def measure(mode: str, runs: int, quarters: int, out: Path, env: dict | None = None) -> float:
    before = load()
    proc = subprocess.run(
        [sys.executable, __file__, "--one", mode, str(runs), str(quarters), str(out)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    if proc.returncode != 0:
        raise SystemExit(f"{mode}: {proc.stderr.strip()}")
    seconds = json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]
    label = f"{mode}{' ' + ','.join(f'{k}={v}' for k, v in env.items()) if env else ''}"
    per_run = f"{1000 * seconds / runs:7.1f} ms/run" if runs else ""
    print(f"  {label:<38} {seconds:7.2f} s {per_run}   load {before:.2f}", flush=True)
    return seconds


def same(a: Path, b: Path) -> bool:
    import polars as pl

    from runs.sweep import TIMING_COLUMNS

    sa, sb = (pl.read_parquet(p / "summary.parquet") for p in (a, b))
    ia, ib = (pl.read_parquet(p / "runs.parquet").drop(TIMING_COLUMNS) for p in (a, b))
    return sa.equals(sb, null_equal=True) and ia.equals(ib, null_equal=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--quarters", type=int, default=40)
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask measurement")
    parser.add_argument("--no-small", action="store_true", help="skip the small batches")
    parser.add_argument("--one", nargs=4, metavar=("MODE", "RUNS", "QUARTERS", "OUT"))
    args = parser.parse_args()
    if args.one:
        mode, runs, quarters, out = args.one
        print(json.dumps({"seconds": one(mode, int(runs), int(quarters), Path(out))}))
        return

    print(
        f"{os.cpu_count()} CPUs ({cpu_model()}), Python {platform.python_version()}, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    root = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    n, q = args.runs, args.quarters
    print(f"{n} baseline runs of {q} quarters:")
    serial = measure("serial", n, q, root / "serial")
    cold = measure("workers", n, q, root / "cold")
    warm = measure("warm", n, q, root / "warm")
    print(
        f"  speed-up with 2 workers: {serial / cold:.2f}× (including starting them), "
        f"{serial / warm:.2f}× (warm)"
    )
    paths = [root / "cold", root / "warm"]
    if not args.no_dask:
        dask = measure("dask", n, q, root / "dask")
        print(
            f"  Dask overhead per run: {1000 * (dask - warm) / n:.1f} ms "
            f"({100 * (dask - warm) / warm:+.1f}% against the warm local pool)"
        )
        paths.append(root / "dask")
    identical = all(same(root / "serial", p) for p in paths)

    print("starting 2 local workers (until both answer, the model imported):")
    measure("start-forkserver", 0, 0, root / "unused")
    measure("start-spawn", 0, 0, root / "unused")

    if not args.no_small:
        print(f"small batches, runs of {SMALL_QUARTERS} quarters:")
        for runs in SMALL:
            base = root / f"small-{runs}"
            s = measure("serial", runs, SMALL_QUARTERS, base / "serial")
            w = measure("workers", runs, SMALL_QUARTERS, base / "workers")
            f = measure(
                "workers", runs, SMALL_QUARTERS, base / "forced", {"MARGINS_SERIAL_BELOW_S": "0"}
            )
            print(
                f"  {runs} runs: 2 workers {s / w:.2f}× serial with the fallback, "
                f"{s / f:.2f}× without"
            )
            identical = identical and same(base / "serial", base / "workers")
            identical = identical and same(base / "serial", base / "forced")
    print(f"identical results on every path: {'yes' if identical else 'NO'}")
    print(f"outputs in {root}")


if __name__ == "__main__":  # the workers' fork server imports this module: keep the work here
    main()
