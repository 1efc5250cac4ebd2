"""Print the baseline's 2025–2026 margins per layer and firm (the figures of calibration.md)."""

import polars as pl

from runs import run


def margins(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    revenue = pl.col("revenue_usd").sum()
    return frame.group_by(key).agg(
        (pl.col("gross_profit_usd").sum() / revenue).round(3).alias("gross_margin"),
        (pl.col("operating_income_usd").sum() / revenue).round(3).alias("operating_margin"),
        (revenue / 1e9).round(1).alias("revenue_bn_usd"),
    ).sort(key)


def main() -> None:
    firms = run("baseline", seed=0).firms
    window = firms.filter(pl.col("period").str.slice(0, 4).is_in(["2025", "2026"]))
    with pl.Config(tbl_rows=40):
        print(margins(window, "layer"))
        print(margins(window, "firm"))
    chips = window.filter(pl.col("layer") == "chips").group_by("firm").agg(
        pl.col("revenue_usd").sum())
    nvidia = chips.filter(pl.col("firm") == "nvidia")["revenue_usd"][0]
    print(f"Nvidia share of accelerator revenue: {nvidia / chips['revenue_usd'].sum():.1%}")


if __name__ == "__main__":
    main()
