from hypothesis import given
from hypothesis import strategies as st

from walletguard.features.windows import SUM_CEILING, CountSumWindow, DistinctWindow

MIN = 60


def test_counts_and_sums_events_inside_the_window_only() -> None:
    w = CountSumWindow()
    for minute, units in [(0, 10), (3, 20), (9, 30), (12, 40)]:
        w.update(minute * MIN, units, MIN, 10)
    # at minute 12 the 10-minute window holds minutes 3..12
    assert w.get(12 * MIN, MIN, 10) == (3, 90)
    assert w.get(30 * MIN, MIN, 10) == (0, 0)


def test_old_buckets_are_dropped_as_time_moves_on() -> None:
    w = CountSumWindow()
    for minute in range(1000):
        w.update(minute * MIN, 1, MIN, 10)
    assert len(w.data) == 3 * 10


def test_out_of_order_events_land_in_their_bucket() -> None:
    w = CountSumWindow()
    w.update(5 * MIN, 1, MIN, 10)
    w.update(2 * MIN, 1, MIN, 10)
    w.update(5 * MIN + 1, 1, MIN, 10)
    assert w.get(5 * MIN, MIN, 10) == (3, 3)
    assert w.get(2 * MIN, MIN, 10) == (1, 1)


def test_a_bucket_sum_saturates_instead_of_overflowing_in_order_or_not() -> None:
    w = CountSumWindow()
    w.update(5 * MIN, SUM_CEILING, MIN, 10)
    w.update(5 * MIN, 1, MIN, 10)  # the newest bucket
    w.update(2 * MIN, SUM_CEILING, MIN, 10)
    w.update(2 * MIN, SUM_CEILING, MIN, 10)  # an older bucket, out of order
    assert w.get(2 * MIN, MIN, 1) == (2, SUM_CEILING)
    assert w.get(5 * MIN, MIN, 1) == (2, SUM_CEILING)
    # a read adds buckets in Python: beyond 64 bits, and exact
    assert w.get(5 * MIN, MIN, 10) == (4, 2 * SUM_CEILING)


@given(
    st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 100)), max_size=60),
    st.integers(0, 6000),
)
def test_matches_a_brute_force_count_at_bucket_granularity(
    events: list[tuple[int, int]], now: int
) -> None:
    w = CountSumWindow()
    for ts, units in sorted(events):
        w.update(ts, units, MIN, 10)
    bucket_now = now // MIN
    kept_from = max(ts for ts, _ in events) // MIN - 10 if events else 0
    expected = [
        (ts, u)
        for ts, u in events
        if bucket_now - 10 < ts // MIN <= bucket_now and ts // MIN > kept_from
    ]
    assert w.get(now, MIN, 10) == (len(expected), sum(u for _, u in expected))


def test_distinct_counts_values_seen_in_the_window() -> None:
    w = DistinctWindow()
    w.update(0, "a", 3600)
    w.update(100, "b", 3600)
    w.update(200, "a", 3600)
    assert w.get(300, 3600) == 2
    assert w.get(3650, 3600) == 2  # "b" (100) is still inside (50, 3650]
    assert w.get(3750, 3600) == 1  # only "a", seen again at 200
    assert w.get(3850, 3600) == 0
    w.update(8000, "c", 3600)
    assert list(w.seen) == ["c"]  # everything older than the window is gone


def test_distinct_ignores_a_late_sighting_older_than_the_latest() -> None:
    w = DistinctWindow()
    w.update(100, "a", 60)
    w.update(50, "a", 60)  # arrives late: "a" was still last seen at 100
    assert w.get(150, 60) == 1


def test_distinct_counts_exactly_after_out_of_order_arrivals() -> None:
    w = DistinctWindow()
    w.update(100, "a", 60)
    w.update(50, "b", 60)  # late, and already outside the window of later reads
    assert w.get(155, 60) == 1
    assert w.get(70, 60) == 1  # only "b" lies in (10, 70]


@given(
    st.lists(st.tuples(st.integers(0, 3000), st.sampled_from("abcdefgh")), min_size=1, max_size=60),
    st.integers(0, 4000),
)
def test_distinct_matches_a_brute_force_model(events: list[tuple[int, str]], now: int) -> None:
    window = 600
    w = DistinctWindow()
    latest: dict[str, int] = {}
    for ts, value in events:  # in any order
        w.update(ts, value, window)
        latest[value] = max(ts, latest.get(value, ts))
        latest = {v: t for v, t in latest.items() if t > ts - window}
    assert w.get(now, window) == sum(1 for t in latest.values() if now - window < t <= now)
    assert list(w.seen.values()) == sorted(w.seen.values())
