"""Replay throughput with and without a champion model (and the live graph).

    .venv/bin/python benchmarks/replay_with_model.py [--accounts 300] [--events 30000]

Generates ordinary wallet activity with `tests.support.EventFactory` (funded accounts
paying, transferring, signing in and withdrawing), then:

1. replays it on a fresh database — rules, live graph, no model;
2. trains the default model on it (`walletguard train`, labels: a synthetic rule, large
   transfers, good enough to have a model of the usual size), promotes it, and replays
   the same events again on a fresh database holding that champion.

Prints the replay summaries (events/s) of both runs.
"""

from __future__ import annotations

import argparse
import json
import random
import re
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


def events_per_second(summary: str) -> float:
    match = re.search(r"events/s\s*│\s*([\d,]+)", summary)
    return float(match[1].replace(",", "")) if match else 0.0


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
        plain = walletguard(
            "replay",
            str(events),
            "--out",
            str(work / "a.jsonl"),
            "--db",
            f"sqlite:///{work / 'a.db'}",
        )
        db = f"sqlite:///{work / 'b.db'}"
        trained = walletguard(
            "train",
            "--events",
            str(events),
            "--labels",
            str(work / "labels.jsonl"),
            "--db",
            db,
            "--maturity-days",
            "0",
            "--labels-delay-days",
            "0",
            "--as",
            "bench",
        )
        version = trained.stderr.split("models promote ")[1].split()[0]
        walletguard("models", "promote", version, "--db", db, "--as", "bench")
        with_model = walletguard("replay", str(events), "--out", str(work / "b.jsonl"), "--db", db)
        scored = sum(
            1
            for line in (work / "b.jsonl").read_text().splitlines()
            if json.loads(line).get("model_version")
        )
    print(f"events: {len(docs):,}; scored by the model: {scored:,}; model {version}")
    print(f"replay, rules + graph, no model: {events_per_second(plain.stderr):,.0f} events/s")
    print(f"replay, rules + graph + champion: {events_per_second(with_model.stderr):,.0f} events/s")


if __name__ == "__main__":
    main()
