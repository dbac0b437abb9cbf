"""The simulator streams: memory follows the population, not the number of days."""

from __future__ import annotations

import tracemalloc

from walletguard.enrich.geo import country_points
from walletguard.simulate import SimConfig, simulate
from walletguard.simulate.places import ip_ranges


def _peak(days: int) -> tuple[int, int]:
    config = SimConfig(seed=3, users=120, days=days, attack_rate=50)
    tracemalloc.start()
    try:
        count = sum(1 for _ in simulate(config))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return count, peak


def test_memory_does_not_grow_with_days() -> None:
    ip_ranges(), country_points()  # load the shared tables outside the measurement
    short_events, short_peak = _peak(2)
    long_events, long_peak = _peak(7)
    assert long_events > 2.5 * short_events
    assert long_peak < 1.5 * short_peak + 512 * 1024, (short_peak, long_peak)
