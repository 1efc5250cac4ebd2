"""Print the baseline's 2025–2026 levels over several seeds (the figures of docs/calibration.md).

./dev python benchmarks/calibration_table.py            # seeds 0-4
./dev python benchmarks/calibration_table.py 0 1 2 3 4 5 6 7
./dev python benchmarks/calibration_table.py 0 1 2 3 4 --set markets.plan_choice_in=ratios

``--set KEY=VALUE`` (repeatable) changes a scenario value as ``margins run --set`` does: what a
mechanism contributes is the difference with it switched off.
"""

import argparse

import polars as pl

from runs import run

WINDOW = ("2025", "2026")


def _margins(frame: pl.DataFrame, key: str) -> dict[str, tuple[float, float]]:
    agg = frame.group_by(key).agg(
        (pl.col("gross_profit_usd").sum() / pl.col("revenue_usd").sum()).alias("gm"),
        (pl.col("operating_income_usd").sum() / pl.col("revenue_usd").sum()).alias("om"),
    )
    return {row[0]: (row[1], row[2]) for row in agg.iter_rows()}


def levels(seed: int, overrides: dict | None = None) -> dict[str, float]:
    result = run("baseline", seed=seed, overrides=overrides or {})
    firms = result.firms.filter(pl.col("period").str.slice(0, 4).is_in(WINDOW))
    layer, firm = _margins(firms, "layer"), _margins(firms, "firm")
    chips = (
        firms.filter(pl.col("layer") == "chips").group_by("firm").agg(pl.col("revenue_usd").sum())
    )
    nvidia = chips.filter(pl.col("firm") == "nvidia")["revenue_usd"].sum()
    markets = result.markets.filter(
        pl.col("period").str.slice(0, 4).is_in(WINDOW) & (pl.col("book") == "")
    )
    price = {
        m: markets.filter(pl.col("market") == m)["price_usd"].mean()
        for m in ("compute", "tokens", "chips")
    }
    return {
        "Nvidia gross margin": firm["nvidia"][0],
        "AMD gross margin": firm["amd"][0],
        "TSMC gross margin": firm["tsmc"][0],
        "hyperscale cloud operating margin": layer["cloud"][1],
        "neocloud operating margin": layer["neocloud"][1],
        "lab gross margin": layer["lab"][0],
        "lab operating margin": layer["lab"][1],
        "app gross margin": layer["app"][0],
        "host operating margin": layer["host"][1],
        "Nvidia share of accelerator revenue": nvidia / chips["revenue_usd"].sum(),
        "compute price, USD per H100e-hour": price["compute"],
        "token price, USD per M quality-adjusted tokens": price["tokens"],
        "chip price, USD per H100e": price["chips"],
    }


def main() -> None:
    from cli.main import parse_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seeds", nargs="*", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    seeds, overrides = args.seeds, parse_settings(args.settings)
    rows = [levels(s, overrides) for s in seeds]
    changed = "".join(f", {k} = {v}" for k, v in overrides.items())
    print(
        f"baseline{changed}, {WINDOW[0]}–{WINDOW[-1]}, seeds {', '.join(map(str, seeds))}: "
        "mean [min, max]"
    )
    for key in rows[0]:
        values = [r[key] for r in rows]
        pct = "margin" in key or "share" in key
        fmt = (lambda v: f"{100 * v:7.1f}%") if pct else (lambda v: f"{v:8.2f}")
        print(
            f"  {key:48s} {fmt(sum(values) / len(values))}  "
            f"[{fmt(min(values)).strip()}, {fmt(max(values)).strip()}]"
        )


if __name__ == "__main__":
    main()
