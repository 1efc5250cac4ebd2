"""Price competition between identical sellers: Bertrand (1883) and its logit version.

Homogeneous good (``theory/bertrand``): two clouds with spare capacity sell the same compute
hour; the cheaper takes the market, so each undercuts to marginal cost and the Lerner index
falls to 0 (the test asks for below 0.05).

Differentiated good (``theory/bertrand-logit``): two identical labs sell API tokens; buyers split
by logit shares s_j = p_j^−x / Σ_k p_k^−x of the segment's constant-elasticity demand D(p), so a
lab's residual demand s_j·D(p_j) has elasticity x(1−s_j) + ε_D and the symmetric Bertrand–Nash
equilibrium (s = 1/2) has Lerner index 1/(x(1−s) + ε_D) (Anderson, de Palma & Thisse 1992).
The test uses that formula because it is the exact first-order condition of the demand system
the economy implements (the choice share times the aggregate curve at the seller's own price);
1/(x(1−s)), the markup of a fixed market size, ignores the aggregate term. With ε_D = 0.1 (the
smallest ``api_elasticity``) the two differ by 2.5% at x = 8 and 5% at x = 4, so the test cannot
pass on the wrong formula's account by much. The labs' marginal cost is stable: three identical
clouds with spare capacity supply compute at energy cost, there is no training, no decay of the
training stock, no diffusion and no technology trend.
"""

from __future__ import annotations

import pytest
from theory_common import MC, compute_prices, lerner, tail_mean

from runs import run

STARTS = {
    "b-cheaper": {},
    "equal": {"firms.cloud_b.ask_usd_per_hour": 0.5},
    "a-at-monopoly": {"firms.cloud_a.ask_usd_per_hour": 0.2, "firms.cloud_b.ask_usd_per_hour": 1.0},
}


@pytest.mark.parametrize("start", STARTS)
def test_homogeneous_duopoly_prices_at_marginal_cost(start):
    result = run("theory/bertrand", quarters=24, seed=0, overrides=STARTS[start])
    measured = tail_mean([lerner(p) for p in compute_prices(result.markets)])
    assert 0.0 <= measured < 0.05, f"{start}: Lerner {measured:.4f}"
    for cloud in ("cloud_a", "cloud_b"):
        asks = result.firms.filter(firm=cloud).sort("quarter")["price_usd"].to_list()
        assert lerner(asks[-1]) < 0.05


def nash_lerner(x: float, eps_d: float = 0.1, share: float = 0.5) -> float:
    return 1.0 / (x * (1.0 - share) + eps_d)


def logit_duopoly(x: float) -> tuple[list[float], float]:
    """Each lab's Lerner index (its ask against its token cost, mean of the last 4 quarters)
    and the market's (volume-weighted trade price)."""
    result = run(
        "theory/bertrand-logit",
        quarters=30,
        seed=0,
        overrides={"markets.token_choice_elasticity": x},
    )
    assert compute_prices(result.markets)[-1] == pytest.approx(MC)  # cost stable: compute at MC
    labs = [
        tail_mean(
            [
                lerner(p)
                for p in result.firms.filter(firm=lab).sort("quarter")["price_usd"].to_list()
            ]
        )
        for lab in ("lab_a", "lab_b")
    ]
    market = result.markets.filter(market="tokens", book="").sort("quarter")
    return labs, tail_mean([lerner(p) for p in market["price_usd"].to_list()])


def test_logit_duopoly_prices_at_the_differentiated_nash_markup():
    """x = 8, ε_D = 0.1: Nash Lerner 1/4.1 = 0.244 (1/(x(1−s)) = 0.25)."""
    labs, market = logit_duopoly(8.0)
    target = nash_lerner(8.0)
    for measured in (*labs, market):
        assert measured == pytest.approx(target, rel=0.15), (
            f"Lerner {measured:.4f}, Nash {target:.4f} (1/(x(1−s)) = {nash_lerner(8, 0):.4f})"
        )


def test_logit_duopoly_at_the_default_choice_elasticity():
    labs, market = logit_duopoly(4.0)
    target = nash_lerner(4.0)
    for measured in (*labs, market):
        assert measured == pytest.approx(target, rel=0.15)
