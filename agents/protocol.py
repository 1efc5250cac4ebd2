"""The protocol types firms speak: what is published to them at the start of a quarter.

The economy builds one :class:`Observation` a quarter (step 1 of the protocol); firms decide from
it and from their own books.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agents.world import Program


@dataclass(slots=True)
class SegmentView:
    """What firms can see of a customer segment this quarter."""

    users: float
    tokens_per_seat: float
    free_tokens_per_user: float
    ads_usd_per_free_user: float
    user_growth_q: float
    seats_sold: float = 0.0

    def free_users(self, seats_sold: float | None = None) -> float:
        """Users on the free tier: those without a paid seat, where the segment has one."""
        if self.free_tokens_per_user <= 0:
            return 0.0
        sold = self.seats_sold if seats_sold is None else seats_sold
        return max(0.0, self.users - sold)


class SegmentsView(dict[str, SegmentView]):
    def free_tokens_m(self) -> float:
        """M tokens all free-tier users of every segment use this quarter."""
        return sum(s.free_users() * s.free_tokens_per_user for s in self.values())


@dataclass(slots=True)
class Observation:
    """What is published at the start of a quarter (step 1), updated as markets clear."""

    quarter: int
    period: str
    foundry_price: float
    chip_price: float
    compute_price: float
    token_price: float
    reference_compute_price: float
    reference_token_price: float
    token_demand_growth: float
    best_api_quality: float
    open_quality: float
    seat_quality_elasticity: float
    reference_quality: float
    quality_doubling: float
    segments: SegmentsView
    programs: list[Program] = field(default_factory=list)
    compute_volume_now: float = 0.0
    compute_unmet_now: float = 0.0
    frontier_quality: float = 0.0

    def programs_of_partner(self, firm_id: str) -> list[Program]:
        return [p for p in self.programs if p.partner == firm_id and p.active(self.quarter)]

    def segments_quality_factor(self, quality: float) -> float:
        """What users pay for a plan on a model of ``quality``, relative to one on the best model
        of the quarter: users judge a model against the frontier on offer, so willingness to pay
        for seats does not grow without bound as every model improves."""
        value = 2.0 ** ((quality - self.frontier_quality) / self.quality_doubling)
        return value ** self.seat_quality_elasticity


