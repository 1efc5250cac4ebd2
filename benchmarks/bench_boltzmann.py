"""The baseline run's CPU time against Mesa's BoltzmannWealth example, timed in one process.

A baseline run is 40 quarters on seed 0 with its frames built and nothing written; the yardstick
is ``mesa.examples.BoltzmannWealth()`` (100 agents on a 10×10 grid) stepped 100 times. Imports
and one warm-up of each are excluded; the repeats are interleaved (run, yardstick, run, …) so
that both see the same machine load. Prints each median of CPU time (``time.process_time``),
their ratio, and the machine (python version, CPU count, load average).

    ./dev python benchmarks/bench_boltzmann.py              # 5 repeats
    ./dev python benchmarks/bench_boltzmann.py --repeats 9
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import mesa  # noqa: F401  (before the scenario loader: see runs/run.py)
from mesa.examples import BoltzmannWealth

from runs.run import run
from runs.scenario import load_scenario


def baseline_once(scenario) -> float:
    start = time.process_time()
    run(scenario, quarters=40, seed=0)
    return time.process_time() - start


def boltzmann_once(steps: int = 100) -> float:
    start = time.process_time()
    model = BoltzmannWealth()
    for _ in range(steps):
        model.step()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    scenario = load_scenario("baseline")
    baseline_once(scenario)  # warm-up: caches, lazy imports
    boltzmann_once()
    runs, yardstick = [], []
    for _ in range(args.repeats):
        runs.append(baseline_once(scenario))
        yardstick.append(boltzmann_once())
    run_s, bw_s = statistics.median(runs), statistics.median(yardstick)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {load}"
    )
    print(f"baseline 40 quarters     median {run_s * 1e3:8.1f} ms CPU over {args.repeats} repeats")
    print(f"BoltzmannWealth 100 steps median {bw_s * 1e3:8.1f} ms CPU over {args.repeats} repeats")
    print(f"ratio {run_s / bw_s:.1f}x")


if __name__ == "__main__":
    main()
