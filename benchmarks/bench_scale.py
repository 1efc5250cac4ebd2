"""Whole-process cost of scaled economies: ``margins run --scale K`` in a child process.

For each K it runs ``margins run baseline --scale K`` twice, for a short and a long count of
quarters (8 and 40 by default), and reads the child's CPU time (user + system) and peak memory
(max RSS) from ``os.wait4``. The difference of the two CPU times over the difference of the
quarter counts is the cost of a quarter with start-up (imports, loading, writing) cancelled; over
the scenario's firm count (every agent: firms, segments, chip buyers, investors) it is the cost of
a firm-quarter. Between two K it prints the exponent of cost growth, ``log(cost ratio) / log(firm
ratio)`` (1: linear in the firms). From the long run's ``firms.parquet`` it reads the share of
the producing firms that have defaulted by its last quarter.

    ./dev python benchmarks/bench_scale.py                       # K = 1, 10, 100; 8 and 40 quarters
    ./dev python benchmarks/bench_scale.py --scales 10 100 --short 4 --long 12
    ./dev python benchmarks/bench_scale.py --scales 1000 --short 1 --long 2

Prints the machine first (Python, CPU count, load average) and one line per run, then one per K.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Child:
    cpu_s: float
    max_rss_mb: float
    firms: int  # agents of the scaled scenario
    defaulted: int  # producing firms defaulted by the last quarter
    producing: int  # producing firms (the firms frame's)


def machine() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {load}"
    )


def firm_count(scale: int) -> int:
    from runs.scenario import load_scenario

    return len(load_scenario("baseline", scale=scale).firms)


def run_child(scale: int, quarters: int, out: Path) -> Child:
    """``margins run baseline --scale K --quarters Q`` in a child process, measured by wait4."""
    cmd = [
        sys.executable,
        "-m",
        "cli.main",
        "run",
        "baseline",
        "--scale",
        str(scale),
        "--quarters",
        str(quarters),
        "--seed",
        "0",
        "--out",
        str(out),
        "--force",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited with {proc.returncode}: {err.strip()}")
    import polars as pl

    firms = pl.read_parquet(out / "firms.parquet")
    last = firms.filter(pl.col("quarter") == firms["quarter"].max())
    return Child(
        cpu_s=usage.ru_utime + usage.ru_stime,
        max_rss_mb=usage.ru_maxrss / 1024,  # kB on Linux
        firms=firm_count(scale),
        defaulted=int(last["defaulted"].sum()),
        producing=last.height,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--short", type=int, default=8, help="quarters of the short run")
    parser.add_argument("--long", type=int, default=40, help="quarters of the long run")
    args = parser.parse_args()
    if not 1 <= args.short < args.long:
        parser.error("--short must be at least 1 and less than --long")
    print(machine())
    print(f"margins run baseline --scale K, {args.short} and {args.long} quarters, seed 0")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for scale in args.scales:
            runs = {}
            for quarters in (args.short, args.long):
                child = run_child(scale, quarters, Path(tmp) / f"k{scale}-q{quarters}")
                runs[quarters] = child
                print(
                    f"  K={scale:<5} quarters={quarters:<3} firms={child.firms:<6} "
                    f"cpu={child.cpu_s:9.2f} s  max_rss={child.max_rss_mb:8.1f} MB  "
                    f"defaulted={child.defaulted}/{child.producing}",
                    flush=True,
                )
            short, long = runs[args.short], runs[args.long]
            per_quarter = (long.cpu_s - short.cpu_s) / (args.long - args.short)
            rows.append((scale, long.firms, per_quarter, long))
            print(
                f"K={scale:<5} firms={long.firms:<6} cpu per quarter={per_quarter * 1e3:10.1f} ms  "
                f"per firm-quarter={per_quarter / long.firms * 1e6:9.1f} µs  "
                f"defaulted at the end={long.defaulted / max(long.producing, 1):6.1%}  "
                f"peak RSS={long.max_rss_mb:.0f} MB ({args.long} quarters)",
                flush=True,
            )
            print(machine(), flush=True)
    for (k1, n1, c1, _), (k2, n2, c2, _) in itertools.pairwise(rows):
        if c1 > 0 and c2 > 0 and n2 != n1:
            exponent = math.log(c2 / c1) / math.log(n2 / n1)
            print(
                f"K={k1} → K={k2}: cost per quarter ×{c2 / c1:.1f} for ×{n2 / n1:.1f} the firms, "
                f"exponent {exponent:.2f}"
            )


if __name__ == "__main__":
    main()
