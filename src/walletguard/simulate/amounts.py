"""Money in the simulator: integer cents from the moment an amount exists.

Random draws are made on a log scale and turned straight into whole cents, rounded
to the granularity people use (whole yuan for a top-up, cents for a coffee), so no
amount is ever carried as a float.
"""

from __future__ import annotations

import random

NICE_TOPUPS = (5000, 10000, 20000, 30000, 50000, 100000, 200000, 300000, 500000)
"""Round top-up amounts in cents of the wallet currency (before the currency's scale)."""


def cents_text(cents: int) -> str:
    """`1234` → `"12.34"`: the contract's decimal string for an amount in cents."""
    if cents < 0:
        raise ValueError("amounts are never negative")
    whole, frac = divmod(cents, 100)
    return f"{whole}.{frac:02d}"


def draw_cents(rng: random.Random, median: int, sigma: float, *, step: int = 1) -> int:
    """A log-normal amount around `median` cents, rounded to a multiple of `step` (≥ step)."""
    value = round(median * rng.lognormvariate(0.0, sigma) / step) * step
    return max(step, value)


def scale_cents(cents: int, per_mille: int) -> int:
    """Convert a CNY-sized amount to another currency given its size in 1/1000 CNY units."""
    return cents * per_mille // 1000


def round_to(cents: int, step: int) -> int:
    """Round down to a multiple of `step`, never below `step`."""
    return max(step, cents // step * step)
