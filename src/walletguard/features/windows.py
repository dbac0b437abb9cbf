"""Sliding event-time windows, River-style: `update()` then `get()`.

Both kinds are bounded: buckets and values older than the window are dropped as
newer events arrive, so memory follows activity in the window, not history.
Events may arrive out of order. A count/sum window keeps the buckets within its length
of the newest bucket it has seen, and a read at `t` adds those among them that lie in
the window ending with `t`'s bucket. A distinct window keeps each value's latest time
and counts the values whose latest time lies in `(t - window, t]`.

`redis_store.py` keeps the same state in Redis with the same rules; the conformance
tests hold the two to identical values.
"""

from __future__ import annotations

from array import array

from walletguard.kernel.money import MAX_UNITS

SUM_CEILING = MAX_UNITS
"""A bucket's sum stops here (the largest `array('q')` value) instead of overflowing: a
window holding more than the ledger's largest amount reads as that much, which is all a
rule comparing it with a threshold needs."""


class CountSumWindow:
    """Count and sum (in integer units) over a window of fixed-width buckets.

    Stored as a flat `array('q')` of `(bucket, count, sum)` triples in ascending
    bucket order: 24 bytes a bucket. A bucket's sum saturates at `SUM_CEILING`.
    """

    __slots__ = ("data",)

    def __init__(self, data: array[int] | None = None) -> None:
        self.data: array[int] = data if data is not None else array("q")

    def update(self, ts: float, units: int, bucket_seconds: int, buckets: int) -> None:
        """Record one event of `units` at time `ts`, dropping buckets that left the window."""
        idx = int(ts // bucket_seconds)
        d = self.data
        n = len(d)
        if n and d[n - 3] == idx:
            d[n - 2] += 1
            total = d[n - 1] + units
            d[n - 1] = total if total < SUM_CEILING else SUM_CEILING
        elif not n or d[n - 3] < idx:
            d.extend((idx, 1, units))
        else:
            self._insert_out_of_order(idx, units)
        horizon = d[len(d) - 3] - buckets
        drop = 0
        while drop < len(d) and d[drop] <= horizon:
            drop += 3
        if drop:
            del d[:drop]

    def _insert_out_of_order(self, idx: int, units: int) -> None:
        d = self.data
        for i in range(0, len(d), 3):
            if d[i] == idx:
                d[i + 1] += 1
                total = d[i + 2] + units
                d[i + 2] = total if total < SUM_CEILING else SUM_CEILING
                return
            if d[i] > idx:
                d[i:i] = array("q", (idx, 1, units))
                return

    def get(self, ts: float, bucket_seconds: int, buckets: int) -> tuple[int, int]:
        """`(count, sum)` of events in the `buckets` buckets ending with the one holding `ts`."""
        idx = int(ts // bucket_seconds)
        low = idx - buckets
        d = self.data
        count = total = 0
        i = len(d) - 3
        while i >= 0 and d[i] > low:
            if d[i] <= idx:
                count += d[i + 1]
                total += d[i + 2]
            i -= 3
        return count, total

    def is_empty(self) -> bool:
        return not self.data


class DistinctWindow:
    """How many distinct values were seen within the window.

    Keeps each value with the latest time it was seen, ordered by that time (oldest
    first). An update at `ts` drops every value last seen at or before `ts - window`; a
    read at `ts` counts exactly the values last seen in `(ts - window, ts]`, whatever
    order the events arrived in.
    """

    __slots__ = ("seen",)

    def __init__(self, seen: dict[str, float] | None = None) -> None:
        self.seen: dict[str, float] = (
            dict(sorted(seen.items(), key=lambda kv: kv[1])) if seen else {}
        )

    def update(self, ts: float, value: str, window_seconds: int) -> None:
        seen = self.seen
        last = seen.get(value)
        if last is None or ts > last:
            if last is not None:
                del seen[value]
            if seen and ts < next(reversed(seen.values())):
                self._insert_out_of_order(value, ts)
            else:
                seen[value] = ts
        horizon = ts - window_seconds
        stale = []
        for key, last_seen in seen.items():
            if last_seen > horizon:
                break
            stale.append(key)
        for key in stale:
            del seen[key]

    def _insert_out_of_order(self, value: str, ts: float) -> None:
        """Put `value` in its place by time: only the values seen after `ts` are moved."""
        seen = self.seen
        newer: list[tuple[str, float]] = []
        while seen:
            key, last = seen.popitem()
            if last <= ts:
                seen[key] = last
                break
            newer.append((key, last))
        seen[value] = ts
        for key, last in reversed(newer):
            seen[key] = last

    def get(self, ts: float, window_seconds: int) -> int:
        """Distinct values last seen in `(ts - window, ts]`."""
        horizon = ts - window_seconds
        seen = self.seen
        count = len(seen)
        for last in seen.values():
            if last > horizon:
                break
            count -= 1
        if count:
            for last in reversed(seen.values()):
                if last <= ts:
                    break
                count -= 1
        return count

    def contains(self, value: str, ts: float, window_seconds: int) -> bool:
        last = self.seen.get(value)
        return last is not None and ts - window_seconds < last <= ts

    def is_empty(self) -> bool:
        return not self.seen
