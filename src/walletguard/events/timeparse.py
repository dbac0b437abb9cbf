"""RFC 3339 timestamps, including the instants Python's datetime cannot represent."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

_RFC3339 = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})[Tt ](?P<h>\d{2}):(?P<mi>\d{2}):(?P<s>\d{2})"
    r"(?:\.(?P<frac>\d+))?(?P<tz>[Zz]|[+-]\d{2}:\d{2})\Z",
    re.ASCII,  # `\d` is 0-9 only, as RFC 3339 has it (not ٢٠٢٤)
)


class TimestampError(ValueError):
    """Text that is not an RFC 3339 date-time with an offset."""


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 date-time with its offset.

    Instants Python cannot hold are normalised rather than refused, because the
    contract accepts them: a leap second (`:60`) becomes `:59.999999` and year 0
    becomes year 1. The result keeps the sender's offset.
    """
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is not None and parsed.tzinfo is not None and _RFC3339.match(text):
        return parsed
    match = _RFC3339.match(text)
    if match is None:
        raise TimestampError(f"{text!r} is not an RFC 3339 date-time with an offset")
    year, month, day = int(match["y"]), int(match["mo"]), int(match["d"])
    hour, minute, second = int(match["h"]), int(match["mi"]), int(match["s"])
    micro = int((match["frac"] or "0")[:6].ljust(6, "0"))
    if second == 60:
        second, micro = 59, 999_999
    year = max(year, 1)
    tz_text = match["tz"]
    if tz_text in ("Z", "z"):
        tz: timezone = UTC
    else:
        sign = -1 if tz_text[0] == "-" else 1
        hours, minutes = int(tz_text[1:3]), int(tz_text[4:6])
        if hours > 23 or minutes > 59:
            raise TimestampError(f"{text!r} has an impossible offset")
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError as exc:
        raise TimestampError(f"{text!r} is not a real date-time: {exc}") from exc
