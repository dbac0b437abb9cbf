"""Replay throughput with and without a champion model (and the live graph).

    .venv/bin/python benchmarks/replay_with_model.py [--accounts 300] [--events 30000]

Generates ordinary wallet activity with `tests.support.EventFactory` (funded accounts
paying, transferring, signing in and withdrawing), then:

1. trains the default model on it (`walletguard train`; labels: a synthetic rule, large
   transfers — enough for a model of the usual size) and puts it in shadow;
2. replays the events on a fresh database without models, then on one holding the
   shadow model, in this process, timing the engine per event (durable writes aside).

A shadow model is scored on every transfer, payment and withdrawal and changes no
decision, so the difference is the cost of scoring (features read, vector built, trees
walked). A third run decides with the shadow model but no effect stages (no ledger,
account, case or notification work): with the time to decode and validate a line, that
is what DESIGN.md's per-event budget covers (validation, enrichment, features, rules,
model, policy: "well under 100 µs"). A champion costs the same plus the explanation
(`pred_contrib`) on the events it adds points to (docs/benchmarks.md gives that cost
separately).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import EventFactory


def walletguard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "walletguard.cli.main", *args],
        check=True,
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", **__import__("os").environ},
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--events", type=int, default=30000)
    args = parser.parse_args()
    rng = random.Random(1)
    f = EventFactory()
    docs: list[dict[str, object]] = []
    labels = []
    accounts = [f"u{i}" for i in range(args.accounts)]
    for a in accounts:
        docs += f.funded(a, "5000.00")
        f.advance(seconds=7)
    for _ in range(args.events):
        a = rng.choice(accounts)
        r = rng.random()
        if r < 0.4:
            docs.append(
                f.payment(a, merchant=f"m{rng.randrange(50)}", amount=f"{rng.randint(1, 300)}.00")
            )
        elif r < 0.7:
            amount = rng.randint(1, 100)
            docs.append(f.transfer(a, to=rng.choice(accounts), amount=f"{amount}.00"))
            if amount > 90:
                labels.append({"event_id": docs[-1]["event_id"]})
        elif r < 0.9:
            docs.append(f.login(a))
        else:
            docs.append(f.withdraw(a, amount="20.00", token=f"card-{a}"))
        f.advance(seconds=rng.randint(1, 60))
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        events = work / "events.jsonl"
        events.write_text("".join(json.dumps(d) + "\n" for d in docs))
        (work / "labels.jsonl").write_text("".join(json.dumps(x) + "\n" for x in labels))
        registry = f"sqlite:///{work / 'registry.db'}"
        trained = walletguard(
            "train",
            "--events",
            str(events),
            "--labels",
            str(work / "labels.jsonl"),
            "--db",
            registry,
            "--maturity-days",
            "0",
            "--labels-delay-days",
            "0",
            "--as",
            "bench",
        )
        version = trained.stderr.split("models promote ")[1].split()[0]
        walletguard("models", "shadow", version, "--db", registry, "--as", "bench")
        lines = events.read_bytes().splitlines()
        plain = timed_replay(f"sqlite:///{work / 'plain.db'}", lines, models=False)
        shutil.copy(work / "registry.db", work / "shadow.db")
        shadow = timed_replay(f"sqlite:///{work / 'shadow.db'}", lines, models=True)
        shutil.copy(work / "registry.db", work / "bare.db")
        bare = timed_replay(f"sqlite:///{work / 'bare.db'}", lines, models=True, effects=False)
    print(f"events: {len(docs):,}; money-out events scored by the shadow model {version}")
    runs = (("no model", plain), ("shadow model", shadow), ("model, no effects", bare))
    for name, (rate, money_us, money_p99_us, other_us) in runs:
        print(
            f"{name:17s}: replay {rate:,.0f} events/s; engine per money-out event median "
            f"{money_us:.1f} µs, p99 {money_p99_us:.1f} µs; per other event median "
            f"{other_us:.1f} µs"
        )
    print(f"decoding and validating a line: {decode_micros(lines):.1f} µs median")


def decode_micros(lines: list[bytes]) -> float:
    """Median time to decode and validate one event line (what replay does first)."""
    import statistics
    import time

    from walletguard.events.decode import EventDecoder

    decoder = EventDecoder()
    times = []
    for line in lines:
        started = time.perf_counter()
        decoder.decode(line)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def timed_replay(
    url: str, lines: list[bytes], *, models: bool, effects: bool = True
) -> tuple[float, float, float, float]:
    """(events/s, engine µs for transfers/payments/withdrawals: median and p99, and the
    median for the others)."""
    import statistics
    import time

    from walletguard.composition import build_runtime, tune_gc_for_throughput
    from walletguard.evaluate.replay import parse_lines, replay

    runtime = build_runtime(url, models=models)
    tune_gc_for_throughput()
    engine = runtime.engine
    if not effects:
        engine.stages = []
    engine.timing = True
    kinds: list[bool] = []
    engine.observers.append(lambda ctx: kinds.append(ctx.event.type.value in MONEY_OUT))
    started = time.perf_counter()
    for _ in replay(parse_lines(lines), engine):
        pass
    seconds = time.perf_counter() - started
    runtime.close()
    times = engine.engine_seconds
    money = [t for t, m in zip(times, kinds, strict=True) if m]
    other = [t for t, m in zip(times, kinds, strict=True) if not m]
    return (
        len(lines) / seconds,
        statistics.median(money) * 1e6,
        statistics.quantiles(money, n=100)[98] * 1e6,
        statistics.median(other) * 1e6,
    )


MONEY_OUT = {"transfer", "payment", "withdrawal"}


if __name__ == "__main__":
    main()
