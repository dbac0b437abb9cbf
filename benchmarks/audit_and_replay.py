"""Replay throughput with the audit log's effects on, and how fast the log verifies.

    python benchmarks/audit_and_replay.py [--events 6000] [--db sqlite:///...]

Generates a synthetic population with `tests.support.EventFactory` (funded accounts
doing payments, transfers, withdrawals and some risky sign-ins), replays it through the
engine in batches (as `walletguard replay` does), then walks every audit chain. Prints
events/s, audit records written, and records/s verified.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import FOREIGN_IP, EventFactory

from walletguard.composition import build_runtime, tune_gc_for_throughput
from walletguard.events.decode import decode_event


def population(n_events: int) -> list[dict[str, object]]:
    f = EventFactory()
    docs: list[dict[str, object]] = []
    account = 0
    while len(docs) < n_events:
        name = f"u{account}"
        docs += f.funded(name, "5000.00")
        f.advance(minutes=1)
        for i in range(6):
            docs.append(f.payment(name, merchant=f"shop-{i % 3}", amount="12.50"))
            f.advance(minutes=2)
        docs.append(f.transfer(name, to=f"u{max(0, account - 1)}", amount="40.00"))
        if account % 5 == 0:
            docs.append(f.login(name, network={"ip": FOREIGN_IP}))
            docs.append(f.withdraw(name, "4000.00", token=f"card-{name}"))
        account += 1
    return docs[:n_events]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=6000)
    parser.add_argument("--db", default=None)
    parser.add_argument("--batch", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.db or f"sqlite:///{Path(scratch) / 'bench.db'}"
        events = [decode_event(d) for d in population(args.events)]
        runtime = build_runtime(url)
        tune_gc_for_throughput()
        started, cpu_started = time.perf_counter(), time.process_time()
        for i in range(0, len(events), args.batch):
            for _ in runtime.engine.decide_batch(events[i : i + args.batch]):
                pass
        replay_s = time.perf_counter() - started
        cpu_s = time.process_time() - cpu_started
        rate = len(events) / replay_s
        print(
            f"replay: {len(events):,} events in {replay_s:.2f} s = {rate:,.0f} events/s "
            f"({cpu_s / len(events) * 1e6:,.0f} µs CPU per event)"
        )
        try:
            from walletguard.audit.checkpoint import TrustedKeys
            from walletguard.audit.verify import verify_log
            from walletguard.storage.repositories.audit import SqlAuditReader
        except ImportError:  # an older tree without the verifier
            runtime.close()
            return
        started = time.perf_counter()
        report = verify_log(SqlAuditReader(runtime.database), TrustedKeys())
        verify_s = time.perf_counter() - started
        print(
            f"audit verify: {report.records:,} records in {verify_s:.2f} s = "
            f"{report.records / verify_s:,.0f} records/s ({'ok' if report.ok else 'BROKEN'})"
        )
        runtime.close()


if __name__ == "__main__":
    main()
