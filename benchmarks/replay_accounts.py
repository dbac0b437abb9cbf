"""Replay throughput with account security in the loop.

    python benchmarks/replay_accounts.py [--accounts 400] [--repeat 3] [--out events.jsonl]

Makes a deterministic stream (ordinary funded accounts; sign-ins, a tenth of them failed
and some accounts under password guessing until they lock; transaction-password checks;
payments, withdrawals, bindings and unbindings; password resets with their step-ups) and
decides it with the engine the way `walletguard replay` does, on a fresh SQLite file.
Prints events/s (durable writes included) and the engine's own time per event (p50, p99),
the best of `--repeat` runs. The same script runs against any checkout, so a change can
be compared with the code before it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import FOREIGN_IP, EventFactory, write_jsonl

from walletguard.composition import build_runtime, tune_gc_for_throughput
from walletguard.evaluate.replay import ReplaySummary, parse_lines, replay


def stream(accounts: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    f = EventFactory()
    docs: list[dict[str, Any]] = []
    names = [f"acct-{i}" for i in range(accounts)]
    for name in names:
        docs += f.funded(name, f"{rng.randint(500, 5000)}.00")
        f.advance(seconds=7)
    f.advance(days=3)
    for step in range(accounts * 8):
        name = rng.choice(names)
        roll = rng.random()
        f.advance(seconds=rng.randint(1, 20))
        if roll < 0.30:
            docs.append(f.login(name, success=rng.random() > 0.1))
        elif roll < 0.33:
            attacker = {"device": {"id": f"bot-{step}"}, "network": {"ip": FOREIGN_IP}}
            for _ in range(6):
                f.advance(seconds=3)
                docs.append(f.login(name, success=False, **attacker))
        elif roll < 0.40:
            ok = rng.random() > 0.1
            docs.append(
                f.make("txn_password_verify", name, auth={"method": "txn_password", "success": ok})
            )
        elif roll < 0.65:
            docs.append(f.payment(name, amount=f"{rng.randint(1, 80)}.00"))
        elif roll < 0.78:
            docs.append(f.withdraw(name, token=f"card-{name}", amount=f"{rng.randint(1, 90)}.00"))
        elif roll < 0.86:
            docs.append(f.transfer(name, to=rng.choice(names), amount=f"{rng.randint(1, 50)}.00"))
        elif roll < 0.92:
            docs.append(f.bind(name, token=f"card-{name}-{step}"))
        elif roll < 0.95:
            gone = {"kind": "bank_card", "token": f"card-{name}-{step - 1}"}
            docs.append(f.make("account_unbind", name, binding=gone))
        else:
            docs.append(f.make("password_reset_request", name))
            f.advance(minutes=2)
            docs.append(
                f.make("password_reset_complete", name, auth={"method": "sms_otp", "success": True})
            )
    return docs


def run_once(events: Path) -> tuple[ReplaySummary, list[float]]:
    with tempfile.TemporaryDirectory() as scratch:
        runtime = build_runtime(f"sqlite:///{scratch}/bench.db")
        runtime.engine.timing = True
        tune_gc_for_throughput()
        summary = ReplaySummary()
        with events.open("rb") as source:
            for _ in replay(parse_lines(source), runtime.engine, summary=summary):
                pass
        seconds = list(runtime.engine.engine_seconds)
        runtime.close()
    return summary, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="keep the generated events here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = write_jsonl(args.out or Path(scratch) / "events.jsonl", stream(args.accounts))
        best: tuple[ReplaySummary, list[float]] | None = None
        for _ in range(args.repeat):
            result = run_once(path)
            if best is None or result[0].seconds < best[0].seconds:
                best = result
    assert best is not None
    summary, seconds = best
    micros = sorted(s * 1e6 for s in seconds)
    p99 = micros[int(len(micros) * 0.99) - 1]
    print(f"events            {summary.events:,}")
    print(f"decisions         {dict(summary.decisions)}")
    print(f"events/s          {summary.events_per_second:,.0f}  (durable writes included)")
    print(f"engine µs/event   p50 {statistics.median(micros):.0f}   p99 {p99:.0f}")
    time.sleep(0)


if __name__ == "__main__":
    main()
