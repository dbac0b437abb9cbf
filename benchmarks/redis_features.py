"""Per-event cost of the feature stores: read and update latency, round trips per event.

    .venv/bin/python -m benchmarks.redis_features [--events N] [--work-us U] [--url URL]

Runs a seeded mixed event stream (tests.support.mixed_events) through the memory store
and the Redis store, reading for each event the features the default ruleset reads for
its type, as the engine does, then adding it. The Redis store runs twice: as the engine
runs it inside a batch (each event's update goes out with the next event's read: one
round trip per event) and flushed after every event (as `Engine.decide` does for one
event alone: two). `--work-us` sleeps that long (at least) between an event's update and
the next read, standing in for the engine's other work. Writes under a fresh key prefix
on the given Redis and deletes it.
"""

from __future__ import annotations

import argparse
import platform
import time
import uuid
from collections.abc import Callable

import redis
from tests.support import mixed_events

from walletguard.composition import load_rules
from walletguard.enrich.location import Located
from walletguard.events.decode import decode_event
from walletguard.events.model import EventType
from walletguard.features.memory import MemoryFeatureStore
from walletguard.features.redis_store import RedisFeatureStore
from walletguard.features.store import EventKeys, FeatureStore

WARM_UP = 500
HOME = Located("CN", 31.2, 121.4)


def percentile(samples: list[int], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] / 1000


def measure(
    store: FeatureStore, events: int, work_us: int, *, flush_each: bool = False
) -> dict[str, float]:
    ruleset = load_rules(None)
    store.maintain(ruleset.window_features())
    wanted = {t: tuple(ruleset.window_features(t)) for t in EventType}
    stream = [decode_event(d) for d in mixed_events(2024, events + WARM_UP)]
    reads: list[int] = []
    updates: list[int] = []
    totals: list[int] = []
    clock = time.perf_counter_ns
    requests = _requests(store)
    before = 0
    for i, event in enumerate(stream):
        if i == WARM_UP:
            before = requests()
        keys = EventKeys(event)
        t0 = clock()
        store.read(event, keys, wanted[event.type])
        t1 = clock()
        store.update(event, keys, learn=i % 4 != 0, where=HOME)
        if flush_each:
            store.flush()
        t2 = clock()
        if i >= WARM_UP:
            reads.append(t1 - t0)
            updates.append(t2 - t1)
            totals.append(t2 - t0)
        if work_us:
            time.sleep(work_us / 1e6)
    store.flush()
    return {
        "read p50": percentile(reads, 50),
        "read p99": percentile(reads, 99),
        "update p50": percentile(updates, 50),
        "update p99": percentile(updates, 99),
        "per event p50": percentile(totals, 50),
        "mean per event": (sum(reads) + sum(updates)) / len(reads) / 1000,
        "requests per event": (requests() - before) / len(reads),
    }


def ping(url: str, count: int) -> tuple[float, float]:
    """p50 and p99 of a bare PING on the same Redis: the floor under any round trip."""
    client = redis.Redis.from_url(url)
    samples = []
    for _ in range(count):
        t0 = time.perf_counter_ns()
        client.ping()
        samples.append(time.perf_counter_ns() - t0)
    client.close()
    return percentile(samples, 50), percentile(samples, 99)


def script_server_time(url: str) -> Callable[[], tuple[int, int]]:
    """(calls, microseconds) Redis has spent in EVALSHA so far, all clients together."""
    client = redis.Redis.from_url(url)

    def read() -> tuple[int, int]:
        stats = client.info("commandstats").get("cmdstat_evalsha", {"calls": 0, "usec": 0})
        return int(stats["calls"]), int(stats["usec"])

    return read


def _requests(store: FeatureStore) -> Callable[[], int]:
    if isinstance(store, RedisFeatureStore):
        return lambda: store.requests
    return lambda: 0


def _cell(figures: dict[str, float], column: str) -> str:
    if column not in figures:
        return "–"
    return f"{figures[column]:.2f}" if "requests" in column else f"{figures[column]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--work-us", type=int, default=0)
    parser.add_argument("--url", default="redis://127.0.0.1:6379/0")
    options = parser.parse_args()
    prefix = f"wg:bench:{uuid.uuid4().hex[:8]}:"
    rows: list[tuple[str, dict[str, float]]] = []
    rows.append(("memory", measure(MemoryFeatureStore(), options.events, options.work_us)))
    for label, flush_each in (("redis", False), ("redis, flushed after every event", True)):
        store = RedisFeatureStore(options.url, prefix=f"{prefix}{flush_each}:")
        server = script_server_time(options.url)
        try:
            calls, usec = server()
            figures = measure(store, options.events, options.work_us, flush_each=flush_each)
            after_calls, after_usec = server()
            figures["server per script"] = (after_usec - usec) / max(1, after_calls - calls)
            rows.append((label, figures))
        finally:
            store.clear()
            store.close()
    floor = ping(options.url, options.events)
    print(
        f"{options.events:,} events after {WARM_UP} warm-up, work between events "
        f"{options.work_us} µs; {platform.python_implementation()} {platform.python_version()}"
    )
    columns = list(rows[-1][1])
    units = [c + ("" if "requests" in c else " (µs)") for c in columns]
    print("| store | " + " | ".join(units) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for label, figures in rows:
        cells = [_cell(figures, c) for c in columns]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print(f"\nPING on the same Redis: p50 {floor[0]:.1f} µs, p99 {floor[1]:.1f} µs")


if __name__ == "__main__":
    main()
