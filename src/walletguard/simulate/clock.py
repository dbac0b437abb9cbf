"""Simulated time: whole POSIX seconds (UTC) and their RFC 3339 text in a local offset.

The simulator never reads the wall clock; every instant is an `int` of seconds.
"""

from __future__ import annotations

import time

MINUTE = 60
HOUR = 3600
DAY = 86400


def offset_text(offset_minutes: int) -> str:
    """`+08:00` for 480, `-05:00` for -300, `+00:00` for 0."""
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def rfc3339(at: int, offset_minutes: int) -> str:
    """The instant `at` as the clock of someone at `offset_minutes` from UTC shows it."""
    t = time.gmtime(at + offset_minutes * 60)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}{offset_text(offset_minutes)}"
    )


def utc_text(at: int) -> str:
    """The instant `at` in UTC, RFC 3339 with a `Z`."""
    t = time.gmtime(at)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}Z"
    )


def local_midnight(at: int, offset_minutes: int) -> int:
    """The UTC instant of the local midnight that starts the local day containing `at`."""
    shift = offset_minutes * 60
    return (at + shift) // DAY * DAY - shift


def local_hour(at: int, offset_minutes: int) -> int:
    """Hour of the day (0-23) on a local clock."""
    return (at + offset_minutes * 60) % DAY // HOUR
