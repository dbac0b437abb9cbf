"""Tunable numbers of the engine, with the defaults a wallet would start from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EngineSettings:
    default_currency: str = "CNY"
    """Currency of a money event that names none."""
    impossible_speed_kmh: float = 900.0
    impossible_min_km: float = 500.0
    new_account_days: float = 7.0
    small_hours: tuple[int, int] = (0, 5)
    """Local hours [start, end] counted as the small hours."""
    hold_expiry_hours: float = 72.0
    challenge_expiry_minutes: float = 10.0
    challenge_attempts: int = 3
