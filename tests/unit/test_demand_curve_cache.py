"""The demand curves' price grid is cached per (points, elasticity) and the cache is bounded:
more elasticities than it keeps evict the oldest, and a grid computed again is the same."""

from __future__ import annotations

import numpy as np

from agents import demand


def test_the_grid_cache_keeps_at_most_its_size_and_recomputes_the_same_bids() -> None:
    demand._grid.cache_clear()
    first = demand.isoelastic_steps(1e9, 2.0, 1.1, 2.5)
    for i in range(demand.GRID_CACHE + 10):
        demand.isoelastic_steps(1e9, 2.0, 1.2 + i / 1000, 2.5)
    info = demand._grid.cache_info()
    assert info.currsize == demand.GRID_CACHE
    assert info.misses == demand.GRID_CACHE + 11  # every elasticity was new
    again = demand.isoelastic_steps(1e9, 2.0, 1.1, 2.5)  # evicted: computed afresh
    assert demand._grid.cache_info().misses == info.misses + 1
    for a, b in zip(first, again, strict=True):
        assert np.array_equal(a, b)
