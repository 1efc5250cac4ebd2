"""Technology trends shared by every firm: cost and energy per H100e, tokens per hour, quality.

All trends are exogenous inputs (the scenario's ``[technology]`` table) compounding per quarter
from the start of the run. Sources for the defaults: Stanford AI Index 2025 (hardware cost per unit
of performance falls about 30% a year; energy efficiency improves about 40% a year); MIT FutureTech
(algorithmic inference efficiency 3–10× a year); the scaling-law literature (Kaplan et al. 2020,
Hoffmann et al. 2022) for quality rising with the logarithm of training compute.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from agents.params import param


@dataclass(frozen=True, slots=True)
class Technology:
    hours_per_quarter: float = param(2190.0, 2000.0, 2200.0, "hours in a quarter")
    chip_cost_decline: float = param(
        0.30, 0.0, 0.9, "yearly fall in the cost of building one H100e of accelerator"
    )
    energy_efficiency_gain: float = param(
        0.40, 0.0, 3.0, "yearly gain in H100e per kW (power per H100e falls by 1/(1+x))"
    )
    kw_per_h100e: float = param(1.3, 0.1, 5.0, "kW per H100e incl. cooling and overhead, at start")
    energy_usd_per_kwh: float = param(0.08, 0.0, 1.0, "electricity price")
    inference_efficiency_gain: float = param(
        2.5, 1.0, 20.0, "yearly multiple of tokens served per H100e-hour (algorithms + hardware)"
    )
    training_efficiency_gain: float = param(
        2.0, 1.0, 20.0, "yearly multiple of effective training compute per H100e-hour"
    )
    quality_per_decade: float = param(
        10.0, 0.1, 15.0, "quality points per tenfold effective training compute"
    )
    quality_doubling: float = param(
        5.0, 1.0, 100.0, "quality points that double what a buyer pays per token"
    )
    reference_quality: float = param(
        90.0, 0.0, 300.0, "quality whose tokens are worth one quality-adjusted token"
    )
    knowledge_diffusion: float = param(
        0.05,
        0.0,
        1.0,
        "share of its gap to the frontier's training stock a lab closes each "
        "quarter without paying for it (distillation, papers, people moving)",
    )
    training_stock_retention: float = param(
        0.85, 0.0, 1.0, "share of the effective training stock that stays relevant each quarter"
    )

    def cost_factor(self, quarter: int) -> float:
        """Cost of building an H100e relative to the start."""
        return (1.0 - self.chip_cost_decline) ** (quarter / 4.0)

    def kw(self, quarter: int) -> float:
        return self.kw_per_h100e / (1.0 + self.energy_efficiency_gain) ** (quarter / 4.0)

    def energy_usd_per_hour(self, quarter: int) -> float:
        """Electricity for one H100e-hour of a chip bought in ``quarter``."""
        return self.kw(quarter) * self.energy_usd_per_kwh

    def inference_factor(self, quarter: int) -> float:
        return self.inference_efficiency_gain ** (quarter / 4.0)

    def training_factor(self, quarter: int) -> float:
        return self.training_efficiency_gain ** (quarter / 4.0)

    def quality(self, effective_stock: float) -> float:
        """Quality on the absolute scale from an effective training-compute stock (H100e-hours)."""
        return self.quality_per_decade * math.log10(max(effective_stock, 1.0))

    def token_value(self, quality: float) -> float:
        """Quality-adjusted tokens per token: what one token of this quality is worth to a buyer."""
        return 2.0 ** ((quality - self.reference_quality) / self.quality_doubling)
