"""An unsupervised anomaly score for money events, usable before any label exists.

`model.anomaly_score` is a robust z-score of the event's amount on a log scale:

- for a cold-start account (fewer than `COLD_START_EVENTS` events of this type let
  through), against everyone's amounts for this event type: the population's median
  and inter-quartile spread, from a streaming log-histogram;
- for an account with history, against its own mean amount, on the population's spread.

Positive means larger than usual (3 ≈ an amount as unusual as three standard
deviations). It is a feature: models learn what it is worth; rules may use it too.
State is a fixed 160-bin histogram per event type (bounded memory), learned from
events that were let through; it warms up again after a restart and gives no score
until `MIN_POPULATION` amounts were seen.
"""

from __future__ import annotations

import math
from array import array

from walletguard.events.model import MONEY_OUT, EventType

BINS = 160
BIN_WIDTH = 0.1
"""log10 of amount units: 0.1 wide bins from 1 unit to 10^16 units."""
MIN_POPULATION = 200
COLD_START_EVENTS = 5
_IQR_TO_SIGMA = 1.349


class PopulationStats:
    """Streaming distribution of log amounts per money-out event type."""

    def __init__(self) -> None:
        self._hist: dict[str, array[int]] = {}
        self._n: dict[str, int] = {}
        self._cache: dict[str, tuple[int, float, float]] = {}

    def observe(self, kind: EventType, units: int) -> None:
        """Learn the amount (in units) of an event of `kind` that was let through."""
        if kind not in MONEY_OUT or units <= 0:
            return
        name = kind.value
        hist = self._hist.get(name)
        if hist is None:
            hist = self._hist[name] = array("q", [0] * BINS)
        hist[_bin(math.log10(units))] += 1
        self._n[name] = self._n.get(name, 0) + 1

    def center_spread(self, kind: str) -> tuple[float, float] | None:
        """(median, robust sigma) of log10 amounts, or None while warming up."""
        n = self._n.get(kind, 0)
        if n < MIN_POPULATION:
            return None
        cached = self._cache.get(kind)
        # quantiles move slowly: recompute after every 1 % growth of the population
        if cached is not None and n < cached[0] * 1.01:
            return cached[1], cached[2]
        hist = self._hist[kind]
        q25, q50, q75 = (_quantile(hist, n, q) for q in (0.25, 0.5, 0.75))
        spread = max((q75 - q25) / _IQR_TO_SIGMA, BIN_WIDTH)
        self._cache[kind] = (n, q50, spread)
        return q50, spread

    def score(
        self, kind: EventType, units: int, own_count: int, own_mean_units: int | None
    ) -> float | None:
        """The robust z-score of an amount of `units` for an event of `kind`, for an account
        with `own_count` such events of mean `own_mean_units` (see the module docstring)."""
        if units <= 0 or kind not in MONEY_OUT:
            return None
        stats = self.center_spread(kind.value)
        if stats is None:
            return None
        center, spread = stats
        if own_count >= COLD_START_EVENTS and own_mean_units:
            center = math.log10(own_mean_units)
        return round((math.log10(units) - center) / spread, 3)


def _bin(log_units: float) -> int:
    return min(BINS - 1, max(0, int(log_units / BIN_WIDTH)))


def _quantile(hist: array[int], n: int, q: float) -> float:
    target = q * n
    seen = 0
    for i, count in enumerate(hist):
        if seen + count >= target and count:
            inside = (target - seen) / count
            return (i + inside) * BIN_WIDTH
        seen += count
    return BINS * BIN_WIDTH
