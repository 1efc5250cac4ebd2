"""How the baseline's 2025–2026 levels respond to its main inputs (docs/calibration.md's table).

    ./dev python benchmarks/sensitivity.py           # seeds 0–2, paired
    ./dev python benchmarks/sensitivity.py 0 1 2 3 4

Each input is scaled by 0.5, 0.75, 1, 1.25 and 1.5 on the same seeds (paired: the only
difference between two runs of a seed is the input). Printed per input: each layer's 2025–2026
gross margin (operating margin for clouds and labs, whose public figures are operating) and the
response theory names for that input, with whether it has the expected sign and is monotone
over the five points.
"""

from __future__ import annotations

import itertools
import math
import sys

import polars as pl

from runs import run

WINDOW = ("2025", "2026")
POINTS = (0.5, 0.75, 1.0, 1.25, 1.5)
LAYERS = ("foundry", "chips", "cloud", "neocloud", "lab", "host", "app")
OPERATING = {"cloud", "neocloud", "lab"}  # public figures for these are operating margins

#: input → (dotted key, its baseline value, the response theory expects, its sign)
INPUTS = {
    "demand growth": ("demand.multiplier", 1.0, "capex of clouds and neoclouds", +1),
    "Nvidia's parts cost": ("firms.nvidia.component_cost_usd", None, "Nvidia's chip price", +1),
    "funding sentiment": ("firms.investors.sentiment", None, "labs' R&D (training)", +1),
    "inference efficiency": (
        "technology.inference_efficiency_gain",
        None,
        "token price",
        -1,
    ),
    "foundry capacity": ("firms.tsmc.capacity_h100e", None, "foundry slot price", -1),
}


def baseline_value(key: str) -> float:
    from runs.scenario import load_scenario

    scenario = load_scenario("baseline")
    section, *rest = key.split(".")
    if section == "firms":
        return float(getattr(scenario.firms[rest[0]].params, rest[1]))
    return float(getattr(getattr(scenario, section), rest[0]))


def measure(key: str, value: float, seed: int) -> dict[str, float]:
    result = run("baseline", seed=seed, overrides={key: value})
    f = result.firms.filter(pl.col("period").str.slice(0, 4).is_in(WINDOW))
    by_layer = f.group_by("layer").agg(
        pl.col("revenue_usd").sum(),
        pl.col("gross_profit_usd").sum(),
        pl.col("operating_income_usd").sum(),
        pl.col("capex_usd").sum(),
        pl.col("rnd_usd").sum(),
    )
    out: dict[str, float] = {}
    for layer, rev, gp, oi, capex, rnd in by_layer.iter_rows():
        out[layer] = (oi if layer in OPERATING else gp) / rev if rev > 0 else math.nan
        out[f"capex:{layer}"], out[f"rnd:{layer}"] = capex, rnd
    m = result.markets.filter(
        pl.col("period").str.slice(0, 4).is_in(WINDOW) & (pl.col("book") == "")
    )
    price = {k: m.filter(pl.col("market") == k)["price_usd"].mean() for k in ("tokens", "foundry")}
    nvidia = f.filter(pl.col("firm") == "nvidia")["price_usd"].mean()
    out["capex of clouds and neoclouds"] = out.get("capex:cloud", 0.0) + out.get(
        "capex:neocloud", 0.0
    )
    out["labs' R&D (training)"] = out.get("rnd:lab", 0.0)
    out["Nvidia's chip price"] = nvidia
    out["token price"] = price["tokens"]
    out["foundry slot price"] = price["foundry"]
    return out


def main(seeds: list[int]) -> None:
    print(f"2025–2026 levels, seeds {', '.join(map(str, seeds))} (paired), inputs × {POINTS}")
    for name, (key, base, response, sign) in INPUTS.items():
        base = baseline_value(key) if base is None else base
        rows = []
        for factor in POINTS:
            runs = [measure(key, base * factor, seed) for seed in seeds]
            rows.append({k: math.fsum(r[k] for r in runs) / len(runs) for k in runs[0]})
        print(f"\n{name} ({key}, baseline {base:g})")
        header = "".join(f"{f'×{p:g}':>10}" for p in POINTS)
        print(f"  {'':36}{header}")
        for layer in LAYERS:
            label = f"{layer} {'operating' if layer in OPERATING else 'gross'} margin"
            print(f"  {label:36}" + "".join(f"{r.get(layer, math.nan):>10.1%}" for r in rows))
        values = [r[response] for r in rows]
        steps = [b - a for a, b in itertools.pairwise(values)]
        signed = sign * (values[-1] - values[0]) > 0
        monotone = all(sign * s >= 0 for s in steps)
        print(
            f"  {response:36}"
            + "".join(f"{v:>10.4g}" for v in values)
            + f"   expected {'rising' if sign > 0 else 'falling'}:"
            f" sign {'ok' if signed else 'WRONG'}, {'monotone' if monotone else 'not monotone'}"
        )


if __name__ == "__main__":
    main([int(s) for s in sys.argv[1:]] or [0, 1, 2])
