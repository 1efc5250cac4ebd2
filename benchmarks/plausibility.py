"""Plausible paths: the checks a reader would make of the baseline's long-run behaviour.

    ./dev python benchmarks/plausibility.py       # 120 quarters; seeds 0–4 (0–9 for defaults)

Prints, per check, what was measured and whether it holds:

* over 120 quarters on seeds 0–4, no layer's yearly gross margin below −100 % or operating
  margin below −200 %, and no firm's revenue above $10 trillion a quarter;
* in the baseline on seeds 0–9, no firm defaults before 2030 and no chip designer or foundry
  within its first 40 quarters; later defaults are listed with the event that logged them;
* layer gross margins move like real firms': the median quarter-on-quarter change of each
  layer's gross margin, 2025–2030, at most 5 pp;
* CoreWeave's capacity grows through 2027.

It also lists the firms their owners closed (``exit`` events), with their period.
"""

from __future__ import annotations

import itertools
import math
import sys
from statistics import median

import polars as pl

from runs import run


def layer_years(firms: pl.DataFrame) -> pl.DataFrame:
    return (
        firms.with_columns(year=pl.col("period").str.slice(0, 4))
        .group_by("year", "layer")
        .agg(
            pl.col("revenue_usd").sum(),
            pl.col("gross_profit_usd").sum(),
            pl.col("operating_income_usd").sum(),
        )
        .filter(pl.col("revenue_usd") >= 1e6)  # margins of a layer with no revenue mean nothing
        .with_columns(
            gm=pl.col("gross_profit_usd") / pl.col("revenue_usd"),
            om=pl.col("operating_income_usd") / pl.col("revenue_usd"),
        )
    )


def main(quarters: int = 120) -> int:
    failures = 0

    def report(ok: bool, text: str) -> None:
        nonlocal failures
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {text}")

    worst_gm, worst_om, top_revenue = math.inf, math.inf, 0.0
    worst_gm_at = worst_om_at = ""
    swings: dict[str, list[float]] = {}
    for seed in range(5):
        r = run("baseline", quarters=quarters, seed=seed)
        years = layer_years(r.firms)
        for year, layer, gm, om in years.select("year", "layer", "gm", "om").iter_rows():
            if gm < worst_gm:
                worst_gm, worst_gm_at = gm, f"{layer} {year} seed {seed}"
            if om < worst_om:
                worst_om, worst_om_at = om, f"{layer} {year} seed {seed}"
        top_revenue = max(top_revenue, float(r.firms["revenue_usd"].max()))
        quarterly = (
            r.firms.filter(pl.col("period") < "2031")
            .group_by("quarter", "layer")
            .agg(pl.col("gross_profit_usd").sum(), pl.col("revenue_usd").sum())
            .filter(pl.col("revenue_usd") >= 1e6)
            .with_columns(gm=pl.col("gross_profit_usd") / pl.col("revenue_usd"))
            .sort("quarter")
        )
        for layer in quarterly["layer"].unique().sort().to_list():
            gm = quarterly.filter(pl.col("layer") == layer)["gm"].to_list()
            swings.setdefault(layer, []).extend(abs(b - a) for a, b in itertools.pairwise(gm))
    report(worst_gm >= -1.0, f"worst yearly layer gross margin {worst_gm:.1%} ({worst_gm_at})")
    report(worst_om >= -2.0, f"worst yearly layer operating margin {worst_om:.1%} ({worst_om_at})")
    report(top_revenue <= 1e13, f"largest firm revenue in a quarter ${top_revenue / 1e9:,.0f} B")
    for layer, moves in sorted(swings.items()):
        m = median(moves) if moves else 0.0
        report(
            m <= 0.05, f"{layer}: median quarter-on-quarter gross-margin change {m * 100:.1f} pp"
        )

    early, upstream_early, later, closed = [], [], [], []
    for seed in range(10):
        r = run("baseline", quarters=quarters, seed=seed)
        exits = r.events.filter(pl.col("kind") == "exit")
        closed += [
            (seed, firm, period) for firm, period in exits.select("firm", "period").iter_rows()
        ]
        firsts = (
            r.firms.filter(pl.col("defaulted"))
            .group_by("firm", "role")
            .agg(pl.col("period").min(), pl.col("quarter").min())
        )
        for firm, role, period, quarter in firsts.iter_rows():
            row = (seed, firm, period)
            if period < "2030":
                early.append(row)
            if role in ("chip_designer", "foundry") and quarter < 40:
                upstream_early.append(row)
            later.append(row)
        if seed == 0:
            cw = r.firms.filter((pl.col("firm") == "coreweave") & (pl.col("period") < "2028"))
            cap = cw.sort("quarter")["capacity_h100e"].to_list()
            report(
                cap[-1] > cap[0] and cap[-1] >= max(cap) * 0.95,
                f"CoreWeave capacity 2025Q1 {cap[0] / 1e6:.2f} M → "
                f"2027Q4 {cap[-1] / 1e6:.2f} M H100e",
            )
    report(not early, f"defaults before 2030 (seeds 0–9): {early or 'none'}")
    report(
        not upstream_early,
        f"chip or foundry defaults within 40 quarters: {upstream_early or 'none'}",
    )
    print(f"all defaults (seed, firm, first period): {sorted(later, key=lambda x: x[2])}")
    print(
        f"firms closed by their owners (seed, firm, period): {sorted(closed, key=lambda x: x[2])}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 120))
