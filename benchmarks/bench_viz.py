"""Time one quarter of the live app, server-side: the step plus redrawing every view.

Two measures, each over a whole run of the baseline (40 quarters), in-process, no browser:

- ``specs``: ``LiveEconomy.step()`` (the quarter and its snapshot) plus building the Vega-Lite
  spec or rows of every view (network, margins, profit pool, markets, quarter inspector, firm
  statement, event log, headline);
- ``views``: the same quarters without the step: the views' share of ``specs``;
- ``page``: the real page rendered with Solara's test renderer (widgets without a browser) and
  Mesa's Step button clicked: the step, every component re-rendered, every widget updated.

Prints the median, 90th percentile and worst quarter of each, in milliseconds.

    ./dev python benchmarks/bench_viz.py            # 3 runs of each
    ./dev python benchmarks/bench_viz.py --quick    # 1 run of each
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time


def time_specs(quarters: int, views_only: list[float] | None = None) -> list[float]:
    """Each quarter's step and views; the views' part alone appended to ``views_only``."""
    from viz import charts, inspector, network, views
    from viz.live import LiveEconomy

    model = LiveEconomy()
    out = []
    for _ in range(quarters):
        start = time.perf_counter()
        model.step()
        stepped = time.perf_counter()
        snap = model.snapshot
        network.network_spec(snap)
        charts.margins_spec(snap)
        charts.profit_pool_spec(snap)
        charts.markets_spec(snap)
        found = inspector.inspect(
            snap,
            snap.quarters - 1,
            inspector.pick_book(inspector.book_choices(snap, snap.quarters - 1), "compute"),
        )
        if found is not None:
            charts.inspector_spec(found)
        charts.firm_spec(snap, "openai")
        views.statement(snap, "openai")
        views.event_rows(snap)
        views.headline(snap)
        end = time.perf_counter()
        out.append(end - start)
        if views_only is not None:
            views_only.append(end - stepped)
    return out


def time_page(quarters: int) -> list[float]:
    import ipyvuetify as v
    import solara

    from viz.app import Page

    _, rc = solara.render(Page(), handle_error=False)
    step = rc.find(v.Btn, children=["Step"]).widget
    out = []
    for _ in range(quarters):
        start = time.perf_counter()
        step.click()
        out.append(time.perf_counter() - start)
    rc.close()
    return out


def summary(name: str, times: list[float]) -> str:
    ms = sorted(t * 1e3 for t in times)
    p90 = ms[int(0.9 * (len(ms) - 1))]
    return (
        f"{name:<6} quarters={len(ms):>4}  median={statistics.median(ms):7.1f} ms  "
        f"p90={p90:7.1f} ms  worst={ms[-1]:7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quarters", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one run of each")
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores, "
        f"baseline, {args.quarters} quarters a run, {runs} run(s)"
    )
    from viz.app import settle_imports

    time_specs(2)  # build the chart templates once, as the app does on its first quarter
    settle_imports()  # as the server does once it has imported the app
    views_only: list[float] = []
    specs = [t for _ in range(runs) for t in time_specs(args.quarters, views_only)]
    print(summary("specs", specs))
    print(summary("views", views_only))
    page = [t for _ in range(runs) for t in time_page(args.quarters)]
    print(summary("page", page))


if __name__ == "__main__":
    main()
