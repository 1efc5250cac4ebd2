"""A capacity owner's fleet: cohorts of installed accelerators, the build pipeline, their
depreciation, power and early retirement (clouds own one; so may a lab, host or app that owns
compute)."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agents.technology import Technology


@dataclass(slots=True)
class Cohort:
    """Accelerators installed in one quarter: how many, their cost, power and depreciation."""

    quarter: int
    h100e: float
    cost_usd: float  # chips plus data-centre shell, capitalised
    life_quarters: int
    kw_per_h100e: float

    def depreciation(self, quarter: int) -> float:
        age = quarter - self.quarter
        return self.cost_usd / self.life_quarters if 0 <= age < self.life_quarters else 0.0

    def alive(self, quarter: int) -> bool:
        return quarter - self.quarter < self.life_quarters


class CapacityBook:
    """Installed accelerators and the pipeline of those being built, for one owner.

    Data-centre construction takes ``build_lag`` quarters from chip delivery to service (a build
    lag, as in time-to-build models, Kydland & Prescott 1982). Capitalised cost is depreciated
    straight-line over ``life_quarters``; energy is paid per hour used.
    """

    def __init__(self, build_lag: int, life_quarters: int) -> None:
        self.cohorts: list[Cohort] = []
        self.pipeline: deque[list[Cohort]] = deque([[] for _ in range(build_lag)])
        self.life_quarters = life_quarters

    def installed(self, quarter: int) -> float:
        return sum(c.h100e for c in self.cohorts if c.alive(quarter))

    def in_pipeline(self) -> float:
        return sum(c.h100e for batch in self.pipeline for c in batch)

    def advance(self, quarter: int) -> None:
        self.cohorts.extend(self.pipeline.popleft() if self.pipeline else [])
        self.pipeline.append([])
        self.cohorts = [c for c in self.cohorts if c.alive(quarter)]

    def add(self, cohort: Cohort, immediately: bool = False) -> None:
        if immediately or not self.pipeline:
            self.cohorts.append(cohort)
        else:
            self.pipeline[-1].append(cohort)

    def depreciation(self, quarter: int) -> float:
        return sum(c.depreciation(quarter) for c in self.cohorts)

    def kw_per_h100e(self, quarter: int) -> float:
        """Average power of the installed fleet, kW per H100e (0 when there is none)."""
        total = self.installed(quarter)
        if total <= 0:
            return 0.0
        return math.fsum(c.h100e * c.kw_per_h100e for c in self.cohorts if c.alive(quarter)) / total

    def installed_kw(self, quarter: int) -> float:
        """Power the installed fleet draws at full use, kW."""
        return math.fsum(c.h100e * c.kw_per_h100e for c in self.cohorts if c.alive(quarter))

    def energy_usd(self, hours_used: float, quarter: int, usd_per_kwh: float) -> float:
        return hours_used * self.kw_per_h100e(quarter) * usd_per_kwh

    def retire(self, quarter: int, keep) -> tuple[float, float]:
        """Retire the installed cohorts for which ``keep(cohort)`` is false, before the end of
        their life; return the H100e retired and their remaining book value (written off)."""
        gone = [c for c in self.cohorts if c.alive(quarter) and not keep(c)]
        if not gone:
            return 0.0, 0.0
        self.cohorts = [c for c in self.cohorts if c not in gone]
        book = math.fsum(
            c.cost_usd * max(0.0, 1.0 - (quarter - c.quarter) / c.life_quarters) for c in gone
        )
        return math.fsum(c.h100e for c in gone), book

    def liquidate(self) -> float:
        """Remove everything (a default); return the H100e removed."""
        n = sum(c.h100e for c in self.cohorts) + self.in_pipeline()
        self.cohorts.clear()
        for batch in self.pipeline:
            batch.clear()
        return n


def opening_cohorts(
    h100e: float, cost_usd: float, mean_age: int, life: int, tech: Technology
) -> list[Cohort]:
    """An opening fleet as it was built: equal cohorts installed over the ``2·mean_age + 1``
    quarters before the start (at most a life's worth), each drawing the power of its year, so
    it retires a cohort at a time rather than all at once."""
    if h100e <= 0:
        return []
    n = max(1, min(2 * mean_age + 1, life))
    return [Cohort(-age, h100e / n, h100e / n * cost_usd, life, tech.kw(-age)) for age in range(n)]
