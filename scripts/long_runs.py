"""Run every library scenario for many quarters on several seeds and check the outputs are sane.

    ./dev python scripts/long_runs.py                  # 400 quarters, seeds 0-5, 2 workers
    ./dev python scripts/long_runs.py --quarters 120 --seeds 2

Checks each run finishes with every number finite (no NaN where a value exists, no infinity)
and no negative stock (capacity, cash of a firm in business is allowed to be anything ≥ the
write-off). Prints one line per run and a summary; exits 1 if any run fails.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def check(args: tuple[str, int, int]) -> tuple[str, int, str, float]:
    import polars as pl

    from runs import run

    name, seed, quarters = args
    start = time.perf_counter()
    try:
        result = run(name, quarters=quarters, seed=seed)
    except Exception as exc:
        return name, seed, f"error: {type(exc).__name__}: {exc}", time.perf_counter() - start
    problems = []
    for frame_name, frame in result.frames.items():
        for column, dtype in frame.schema.items():
            if dtype == pl.Float64:
                bad = frame.filter(pl.col(column).is_infinite()).height
                if bad:
                    problems.append(f"{frame_name}.{column}: {bad} infinite")
    firms = result.firms
    stocks = ("capacity_h100e", "revenue_usd", "cost_of_revenue_usd", "capex_usd", "debt_usd")
    for column in stocks:
        bad = firms.filter(pl.col(column) < -1e-6).height
        if bad:
            problems.append(f"firms.{column}: {bad} negative")
    nan_money = firms.filter(
        pl.col("revenue_usd").is_nan() | pl.col("operating_income_usd").is_nan()
    ).height
    if nan_money:
        problems.append(f"firms: {nan_money} NaN revenue or operating income")
    markets = result.markets.filter(pl.col("volume") > 0)
    if markets.filter(pl.col("price_usd").is_nan() | (pl.col("price_usd") < 0)).height:
        problems.append("markets: a traded book without a finite price")
    status = "ok" if not problems else "; ".join(problems)
    return name, seed, status, time.perf_counter() - start


def main() -> int:
    from runs.scenario import library_names

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quarters", type=int, default=400)
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("scenarios", nargs="*")
    args = parser.parse_args()
    names = args.scenarios or [n for n in library_names() if "/" not in n]
    jobs = [(n, s, args.quarters) for n in names for s in range(args.seeds)]
    failed = 0
    with ProcessPoolExecutor(args.workers) as pool:
        for name, seed, status, seconds in pool.map(check, jobs):
            failed += status != "ok"
            print(f"{name:32s} seed {seed}  {seconds:6.1f} s  {status}", flush=True)
    print(f"{len(jobs) - failed} of {len(jobs)} runs of {args.quarters} quarters sane")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
