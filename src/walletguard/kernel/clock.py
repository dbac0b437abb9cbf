"""Clocks. Domain code asks a `Clock` for the time so replays are deterministic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Something that tells the current time, always timezone-aware UTC."""

    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that says what it was last set to; used by event-time processing and tests."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        """Move the clock (forwards or backwards) to `at`."""
        self._at = at


def utc(moment: datetime) -> datetime:
    """Return `moment` in UTC; refuses naive datetimes."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: walletguard only works with timezone-aware times")
    return moment.astimezone(UTC)


def from_timestamp(ts: float) -> datetime:
    """UTC datetime for a POSIX timestamp."""
    return datetime.fromtimestamp(ts, UTC)


LONGEST_DURATION = timedelta(days=3660)
"""The longest span a setting may name (about ten years); longer is a slip."""

_EARLIEST = datetime.min.replace(tzinfo=UTC) + LONGEST_DURATION
_LATEST = datetime.max.replace(tzinfo=UTC) - LONGEST_DURATION


def in_reach(moment: datetime) -> bool:
    """Whether `LONGEST_DURATION` can be added to and taken from `moment` (aware): not
    within about ten years of the year 1 or 9999, where such arithmetic overflows."""
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        return False
    return _EARLIEST <= utc <= _LATEST
