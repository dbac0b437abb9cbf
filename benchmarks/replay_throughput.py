"""`walletguard replay` throughput on the simulated mix, and which part costs what.

    python -m benchmarks.replay_throughput [--events FILE | --users 10000 --days 7 --seed 1]
                                           [--limit N] [--breakdown]

Replays the events exactly as `walletguard replay` does (batches of 5,000, every decision
and every effect durably stored on a fresh SQLite file with synchronous=FULL) and prints
events/s (wall and CPU), the engine's own time per event (p50, p99) and peak memory.

With `--breakdown`, a second run times each part of the loop by wrapping it (the wrappers
cost a few µs per event, so that run is a little slower) and prints µs per event for:
decoding, the feature read, rules + enrichment + policy, each effect stage, storing the
decision, learning (features, graph), and the flush + commit of each batch. A third run
decides with no effect stages at all (decisions alone stored), the engine-only ceiling.
Without `--events` the mix is simulated first (`walletguard simulate`, same seed: same
events).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from walletguard.composition import Runtime, build_runtime, tune_gc_for_throughput
from walletguard.decisions.engine import Engine
from walletguard.evaluate.replay import ReplaySummary, parse_lines, replay


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Clock:
    """Total seconds per part, from wrapped callables."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, part: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        seconds = self.seconds

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                seconds[part] += time.perf_counter() - started

        return timed

    @contextmanager
    def part(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - started


def instrument(engine: Engine, clock: Clock) -> None:
    """Time each part of `engine`'s loop (instance attributes only: nothing global)."""
    for stage in engine.stages:
        name = type(stage).__name__
        stage.guard = clock.wrap(f"effects: {name}", stage.guard)  # type: ignore[method-assign]
        stage.apply = clock.wrap(f"effects: {name}", stage.apply)  # type: ignore[method-assign]
    features = engine.features
    features.read = clock.wrap("features: read", features.read)  # type: ignore[method-assign]
    features.update = clock.wrap("learn: features", features.update)  # type: ignore[method-assign]
    if engine.graph is not None:
        graph = engine.graph
        graph.observe = clock.wrap("learn: graph", graph.observe)  # type: ignore[method-assign]
    engine._decide = clock.wrap("decide (all of it)", engine._decide)  # type: ignore[method-assign]
    make_uow: Callable[[], Any] = engine._uow_factory

    def unit_of_work() -> Any:
        uow = make_uow()
        uow.prefetch = clock.wrap("prefetch per batch", uow.prefetch)
        uow.commit = clock.wrap("flush + commit per batch", uow.commit)
        decisions = uow.decisions
        decisions.add = clock.wrap("store the decision record", decisions.add)
        return uow

    engine._uow_factory = unit_of_work


def run(
    events: Path, limit: int | None, *, clock: Clock | None = None, effects: bool = True
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wg-replay-bench-") as scratch:
        runtime: Runtime = build_runtime(f"sqlite:///{scratch}/bench.db")
        engine = runtime.engine
        if not effects:
            engine.stages = []
        engine.timing = clock is None
        if clock is not None:
            instrument(engine, clock)
        tune_gc_for_throughput()
        summary = ReplaySummary()
        wall, before = time.perf_counter(), cpu()
        with events.open("rb") as source:
            lines: Any = islice(source, limit) if limit else source
            items: Any = parse_lines(lines)
            if clock is not None:
                items = timed_items(items, clock)
            for _ in replay(items, engine, summary=summary):
                pass
        elapsed, used = time.perf_counter() - wall, cpu() - before
        micros = sorted(s * 1e6 for s in engine.engine_seconds)
        runtime.close()
    result: dict[str, Any] = {
        "events": summary.events,
        "decisions": dict(summary.decisions),
        "wall": elapsed,
        "cpu": used,
        "events_per_second": summary.events / elapsed,
        "events_per_cpu_second": summary.events / used,
    }
    if micros:
        result["engine_p50_us"] = statistics.median(micros)
        result["engine_p99_us"] = micros[int(len(micros) * 0.99) - 1]
    return result


def timed_items(items: Iterator[Any], clock: Clock) -> Iterator[Any]:
    while True:
        with clock.part("decode"):
            item = next(items, None)
        if item is None:
            return
        yield item


def simulate(users: int, days: int, seed: int, into: Path) -> Path:
    walletguard = str(Path(sys.executable).with_name("walletguard"))
    options = ["--users", str(users), "--days", str(days), "--seed", str(seed)]
    subprocess.run(
        [walletguard, "simulate", "-o", str(into), *options], check=True, stdout=subprocess.DEVNULL
    )
    return into / "events.jsonl"


def report(title: str, result: dict[str, Any]) -> None:
    print(f"== {title}")
    print(f"events               {result['events']:,}  {result['decisions']}")
    print(
        f"events/s             {result['events_per_second']:,.0f} wall, "
        f"{result['events_per_cpu_second']:,.0f} per CPU second "
        f"({result['wall']:.1f} s wall, {result['cpu']:.1f} s CPU)"
    )
    if "engine_p50_us" in result:
        print(
            f"engine µs/event      p50 {result['engine_p50_us']:.0f}   "
            f"p99 {result['engine_p99_us']:.0f}  (excluding the batch's durable writes)"
        )


def breakdown(clock: Clock, result: dict[str, Any]) -> None:
    n = result["events"]
    parts = dict(clock.seconds)
    decide = parts.pop("decide (all of it)", 0.0)
    inside = sum(v for k, v in parts.items() if k.startswith(("effects:", "features: read")))
    inside += parts.get("store the decision record", 0.0)
    parts["rules, enrichment, policy, idempotency"] = decide - inside
    accounted = sum(parts.values())
    parts["the rest (replay loop, output lines, savepoints)"] = result["wall"] - accounted
    print("   µs/event  share  part")
    for name, seconds in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(f"   {seconds / n * 1e6:8.1f}  {seconds / result['wall']:5.1%}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=Path, help="events JSONL (default: simulate)")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit", type=int, help="replay only the first N lines")
    parser.add_argument("--breakdown", action="store_true", help="time each part (two more runs)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wg-replay-sim-") as scratch:
        events = args.events or simulate(args.users, args.days, args.seed, Path(scratch))
        report(
            "walletguard replay: every decision and effect durably stored", run(events, args.limit)
        )
        if args.breakdown:
            clock = Clock()
            timed = run(events, args.limit, clock=clock)
            report("the same, each part timed", timed)
            breakdown(clock, timed)
            report(
                "decisions alone stored (no effect stages)", run(events, args.limit, effects=False)
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS             {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
