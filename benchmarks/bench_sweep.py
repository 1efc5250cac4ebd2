"""Time a batch of baseline runs serially, on 2 local workers and on Dask; print the speed-up.

The batch is one point of the baseline with N replications (default 200 runs of the baseline's
40 quarters), per-quarter panels not kept. Timings are wall-clock seconds of
``runs.sweep.sweep`` into a fresh directory, the summary tables written:

- serial: in this process (imports already done);
- 2 workers: the default local pool, including spawning its workers (each imports the model);
- 2 workers, warm: a pool whose workers were started and had imported the model beforehand;
- Dask: a ``distributed.LocalCluster`` of 2 single-threaded worker processes, warmed the same
  way. Its per-run overhead is (Dask − warm local pool) / runs.

Every path must give the same summary; the script checks it.

    ./dev python benchmarks/bench_sweep.py                 # 200 runs of 40 quarters
    ./dev python benchmarks/bench_sweep.py --runs 40 --quarters 12    # a quick look
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing
import os
import platform
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, wait
from pathlib import Path

import polars as pl

from runs.sweep import TIMING_COLUMNS, default_workers, sweep, worker_init


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def timed(label: str, spec: dict, out: Path, **kwargs) -> float:
    start = time.perf_counter()
    sweep(spec, out, progress=False, **kwargs)
    seconds = time.perf_counter() - start
    runs = spec["sweep"]["replications"]
    print(f"{label:<22} {seconds:7.2f} s   {1000 * seconds / runs:6.1f} ms/run", flush=True)
    return seconds


def same(a: Path, b: Path) -> bool:
    sa, sb = (pl.read_parquet(p / "summary.parquet") for p in (a, b))
    ia, ib = (pl.read_parquet(p / "runs.parquet").drop(TIMING_COLUMNS) for p in (a, b))
    return sa.equals(sb, null_equal=True) and ia.equals(ib, null_equal=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--quarters", type=int, default=40)
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask measurement")
    args = parser.parse_args()
    spec = {
        "sweep": {
            "name": "bench",
            "scenario": "baseline",
            "quarters": args.quarters,
            "replications": args.runs,
            "seed": 0,
        }
    }
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{args.runs} baseline runs of {args.quarters} quarters; {default_workers()} CPUs "
        f"({cpu_model()}), Python {platform.python_version()}, load average {load:.2f}"
    )
    root = Path(tempfile.mkdtemp(prefix="bench-sweep-"))

    serial = timed("serial", spec, root / "serial", workers=1)
    cold = timed("2 workers", spec, root / "cold", workers=2)

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        2, mp_context=context, initializer=worker_init, initargs=(os.getpid(),)
    ) as pool:
        wait([pool.submit(importlib.import_module, "economy.model") for _ in range(4)])
        warm = timed("2 workers, warm", spec, root / "warm", executor=pool, workers=2)

    print(
        f"speed-up with 2 workers: {serial / cold:.2f}× (including worker start-up), "
        f"{serial / warm:.2f}× (warm)"
    )
    print(f"worker start-up: {cold - warm:.1f} s")
    paths = [root / "cold", root / "warm"]

    if not args.no_dask:
        from distributed import Client, LocalCluster

        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            client.run(importlib.import_module, "economy.model")
            dask = timed("Dask, 2 workers, warm", spec, root / "dask", executor=client)
        overhead = (dask - warm) / args.runs
        print(
            f"Dask overhead per run: {1000 * overhead:.1f} ms "
            f"({100 * (dask - warm) / warm:+.1f}% against the warm local pool)"
        )
        paths.append(root / "dask")
    identical = all(same(root / "serial", p) for p in paths)
    print(f"identical results on every path: {'yes' if identical else 'NO'}")
    print(f"outputs in {root}")


if __name__ == "__main__":  # spawned workers import this module: keep the work behind this
    main()
