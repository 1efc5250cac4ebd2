"""Time a baseline run in-process (imports excluded), and the same economy scaled up.

The scaled economies are ``margins run --scale K``'s (:mod:`runs.scenario.scale`): every app,
host and customer segment cloned K times at 1/K the size, so the economy is the baseline's K times
over — the same economy with K times the firms and orders. Prints the machine, then one line per
K: firms, CPU time of the run (median and best), and the CPU time of a firm-quarter.

    ./dev python benchmarks/bench_run.py                   # K = 1, 10, 100; 40 quarters
    ./dev python benchmarks/bench_run.py --quick           # 1 repeat a K
    ./dev python benchmarks/bench_run.py --scales 1 10 --quarters 8

The whole-process cost (start-up cancelled by two quarter counts), the growth exponent, defaults
and peak memory are ``benchmarks/bench_scale.py``'s.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

from runs.run import run
from runs.scenario import Scenario, load_scenario


def scaled(factor: int) -> Scenario:
    """The baseline with every app, host and segment cloned ``factor`` times."""
    return load_scenario("baseline", scale=factor)


def time_runs(scenario: Scenario, quarters: int, repeats: int) -> list[float]:
    """CPU seconds of ``repeats`` runs (this process's, so other jobs on the machine count less
    than in wall time)."""
    out = []
    for _ in range(repeats):
        start = time.process_time()
        run(scenario, quarters=quarters, seed=0)
        out.append(time.process_time() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quarters", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3, help="runs a K (one for K ≥ 100)")
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--quick", action="store_true", help="one run a K")
    args = parser.parse_args()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {load}; {args.quarters} quarters, seed 0, CPU time in-process"
    )
    for factor in args.scales:
        scenario = scaled(factor)
        repeats = 1 if args.quick or factor >= 100 else args.repeats
        times = time_runs(scenario, args.quarters, repeats)
        firms = len(scenario.firms)
        best = min(times)
        print(
            f"{factor:>5}x  firms={firms:>5}  median={statistics.median(times):9.2f} s  "
            f"best={best:9.2f} s  per firm-quarter={best / firms / args.quarters * 1e6:8.1f} µs  "
            f"runs={len(times)}",
            flush=True,
        )


if __name__ == "__main__":
    main()
