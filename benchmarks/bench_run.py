"""Time a baseline run in-process (imports excluded), and the same economy scaled up.

The scaled economies clone every app, host and customer segment 10× and 100× (with their
demand split across the clones, so the economy's size in dollars stays the same while the
number of firms and orders grows). Prints one line per size: firms, median and best seconds.

    ./dev python benchmarks/bench_run.py            # 40 quarters, 5 repeats
    ./dev python benchmarks/bench_run.py --quick    # fewer repeats
"""

from __future__ import annotations

import argparse
import copy
import platform
import statistics
import time

from runs.run import run
from runs.scenario import load_raw, validate

SPLIT_KEYS = ("users", "api_spend_usd", "compute_spend_usd", "opening_cash_usd", "api_tokens_q")


def scaled(factor: int):
    """The baseline with every app, host and segment cloned ``factor`` times."""
    raw, source = load_raw("baseline")
    raw = copy.deepcopy(raw)
    firms = raw["firms"]
    for firm_id in [f for f, spec in firms.items() if spec["role"] in ("app", "host", "segment")]:
        spec = firms.pop(firm_id)
        for n in range(factor):
            clone = dict(spec)
            for key in SPLIT_KEYS:
                if key in clone:
                    clone[key] = clone[key] / factor
            # the first clone keeps the id so events and references still resolve
            firms[firm_id if n == 0 else f"{firm_id}_{n}"] = clone
    return validate(raw, source)


def time_runs(scenario, quarters: int, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(scenario, quarters=quarters, seed=0)
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quarters", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 repeats, 1 for 100x")
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, {args.quarters} quarters")
    for factor in (1, 10, 100):
        scenario = scaled(factor)
        repeats = 2 if args.quick else args.repeats
        if factor == 100:
            repeats = 1 if args.quick else max(1, repeats // 2)
        times = time_runs(scenario, args.quarters, repeats)
        print(
            f"{factor:>4}x  firms={len(scenario.firms):>5}  "
            f"median={statistics.median(times) * 1e3:9.1f} ms  "
            f"best={min(times) * 1e3:9.1f} ms  runs={len(times)}"
        )


if __name__ == "__main__":
    main()
