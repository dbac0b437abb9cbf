"""Facts the models use beyond the rule catalogue's: calendar facts and the anomaly score."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from walletguard.rules.types import ValueType

B, INT, N = ValueType.BOOL, ValueType.INT, ValueType.NUMBER
NIGHT_HOURS = range(7)
"""00:00–06:59 local time counts as night (as the fraud-detection handbook does)."""


def _local_weekday(c: Any) -> int:
    """The weekday on the client's clock: UTC shifted by the whole hours of its offset
    (the engine keeps the local hour, not the offset; half-hour zones are off by at most
    30 minutes around midnight). 1970-01-01 was a Thursday (3)."""
    event = c.event
    shift = (event.local_hour - int(event.ts // 3600) % 24) % 24
    if shift > 14:
        shift -= 24
    return (int((event.ts + shift * 3600) // 86400) + 3) % 7


def _anomaly(c: Any) -> float | None:
    population = c.population
    if population is None:
        return None
    event = c.event
    score: float | None = population.score(
        event.type,
        c.keys.units,
        c.profile.amount_count(event.type.value),
        c.profile.amount_mean_units(event.type.value),
    )
    return score


SCORING_SPECS: list[tuple[str, ValueType, Callable[[Any], Any], str]] = [
    (
        "event.local_weekday",
        INT,
        _local_weekday,
        "day of the week on the client's clock (0 = Monday)",
    ),
    ("event.is_weekend", B, lambda c: _local_weekday(c) >= 5, "Saturday or Sunday, local time"),
    ("event.is_night", B, lambda c: c.event.local_hour in NIGHT_HOURS, "00:00–06:59 local time"),
    (
        "model.anomaly_score",
        N,
        _anomaly,
        "robust z-score of the amount: against everyone's for a new account, "
        "against its own usual amount otherwise (docs/scoring.md)",
    ),
]
