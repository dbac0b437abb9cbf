"""Ledger throughput: transfers per second on PostgreSQL (16 concurrent clients) and on
SQLite, then the full invariant check.

    .venv/bin/python benchmarks/ledger_throughput.py [--seconds 10] [--clients 16]

Modes:
- `pg-service`: each client runs `ledger.service.transfer` in its own unit of work (row
  locks, idempotency record, funds check, commit) — the path the engine and the doors use;
- `pg-batch`: each client sends batches of transfers to `wg_post_transfers` (one round
  trip and one commit per batch; `storage/ledger_batch.py`);
- `sqlite-service`: one writer, one transfer per durable commit;
- `sqlite-batched`: one writer, `--sqlite-batch` transfers per unit of work.

Each client is a separate process with its own connection. Every transfer moves
0.01–1.00 between two random funded wallets (50,000 on PostgreSQL, 2,000 on SQLite), so
all of them post. The PostgreSQL database is created fresh on the server named by `--pg`
(admin URL) and dropped afterwards; SQLite runs in a temporary directory. The invariant
check (`storage/ledger_invariants.py`) runs over the whole database at the end.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from walletguard.ledger import service
from walletguard.ledger.model import Platform, TransferRequest, wallet_account
from walletguard.storage.database import Database, open_database
from walletguard.storage.ledger_batch import post_transfers
from walletguard.storage.ledger_invariants import check_ledger
from walletguard.storage.ledger_session import ledger_session

AT = datetime(2026, 3, 2, tzinfo=UTC)


def request(rng: random.Random, accounts: int, transfer_id: str) -> TransferRequest:
    source, target = rng.sample(range(accounts), 2)
    return TransferRequest(
        id=transfer_id,
        kind="transfer",
        source=wallet_account(f"w{source}"),
        destination=wallet_account(f"w{target}"),
        currency="CNY",
        amount=rng.randint(100, 10_000),
    )


def fund(database: Database, accounts: int) -> None:
    """Give every wallet 1,000,000.00 from the platform's suspense account."""
    with ledger_session(database) as session:
        for n in range(accounts):
            service.transfer(
                session.ledger,
                TransferRequest(
                    id=f"fund-{n}",
                    kind="adjustment",
                    source=Platform.SUSPENSE,
                    destination=wallet_account(f"w{n}"),
                    currency="CNY",
                    amount=1_000_000 * 10_000,
                ),
                at=AT,
            )


Work = Callable[[Database, int, random.Random, int], int]


def _client(job: tuple[str, int, float, float, Work, int]) -> tuple[int, float]:
    url, number, start_at, seconds, work, pool = job
    database = open_database(url, migrate=False, pool_size=pool)
    rng = random.Random(number)
    done = round_ = 0
    while time.time() < start_at:
        time.sleep(0.001)
    stop = start_at + seconds
    while time.time() < stop:
        done += work(database, number, rng, round_)
        round_ += 1
    finished = time.time()
    database.dispose()
    return done, finished - start_at


def timed_clients(url: str, clients: int, seconds: float, work: Work) -> tuple[int, float]:
    """Run `work(database, client, rng, round)` in a loop in `clients` separate processes
    (each with its own connection) for `seconds`; returns (transfers done, elapsed)."""
    start_at = time.time() + 1.5  # every process connected and waiting
    context = multiprocessing.get_context("fork")
    with context.Pool(clients) as pool:
        results = pool.map(_client, [(url, n, start_at, seconds, work, 1) for n in range(clients)])
    return sum(done for done, _ in results), max(elapsed for _, elapsed in results)


def one_transfer(database: Database, client: int, rng: random.Random, round_: int) -> int:
    """One transfer in its own unit of work, through the Python service."""
    with ledger_session(database) as session:
        record = service.transfer(
            session.ledger, request(rng, ACCOUNTS[0], f"s-{client}-{round_}"), at=AT
        )
    return 1 if record.ok else 0


def one_batch(database: Database, client: int, rng: random.Random, round_: int) -> int:
    """A batch of transfers in one round trip and one commit (PostgreSQL fast path)."""
    batch = [request(rng, ACCOUNTS[0], f"b-{client}-{round_}-{i}") for i in range(BATCH[0])]
    with database.writing() as conn:
        outcomes = post_transfers(conn, batch, at=AT)
    return sum(1 for o in outcomes if o.status == "posted")


def batched_service(database: Database, client: int, rng: random.Random, round_: int) -> int:
    """Many transfers through the Python service in one unit of work (one commit)."""
    posted = 0
    with ledger_session(database) as session:
        for i in range(BATCH[0]):
            record = service.transfer(
                session.ledger, request(rng, ACCOUNTS[0], f"u-{client}-{round_}-{i}"), at=AT
            )
            posted += record.ok
    return posted


ACCOUNTS = [2000]
BATCH = [100]
"""Set before the clients fork (read by the work functions)."""


def fund_fast(database: Database, accounts: int) -> None:
    """Give every wallet 1,000,000.00 from the platform's suspense account (batch path)."""
    for first in range(0, accounts, 1000):
        batch = [
            TransferRequest(
                id=f"fund-{n}",
                kind="adjustment",
                source=Platform.SUSPENSE,
                destination=wallet_account(f"w{n}"),
                currency="CNY",
                amount=1_000_000 * 10_000,
            )
            for n in range(first, min(first + 1000, accounts))
        ]
        with database.writing() as conn:
            post_transfers(conn, batch, at=AT)


def run_pg(admin_url: str, args: argparse.Namespace) -> list[dict[str, object]]:
    admin = make_url(admin_url).set(drivername="postgresql+psycopg")
    name = f"wg_bench_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    results = []
    try:
        url = admin.set(database=name).render_as_string(hide_password=False)
        database = open_database(url)
        ACCOUNTS[0] = args.pg_accounts
        fund_fast(database, args.pg_accounts)
        database.dispose()
        done, elapsed = timed_clients(url, args.clients, args.seconds, one_transfer)
        results.append(row("pg-service", args.clients, 1, done, elapsed))
        BATCH[0] = args.batch
        done, elapsed = timed_clients(url, args.clients, args.seconds, one_batch)
        results.append(row("pg-batch", args.clients, args.batch, done, elapsed))
        database = open_database(url, migrate=False)
        results.append(check(database, "pg"))
        database.dispose()
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
    return results


def run_sqlite(args: argparse.Namespace) -> list[dict[str, object]]:
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'bench.db'}"
        database = open_database(url)
        ACCOUNTS[0] = args.sqlite_accounts
        fund(database, args.sqlite_accounts)
        database.dispose()
        done, elapsed = timed_clients(url, 1, args.seconds, one_transfer)
        results.append(row("sqlite-service", 1, 1, done, elapsed))
        BATCH[0] = args.sqlite_batch
        done, elapsed = timed_clients(url, 1, args.seconds, batched_service)
        results.append(row("sqlite-batched", 1, args.sqlite_batch, done, elapsed))
        database = open_database(url, migrate=False)
        results.append(check(database, "sqlite"))
        database.dispose()
    return results


def row(mode: str, clients: int, batch: int, done: int, elapsed: float) -> dict[str, object]:
    return {
        "mode": mode,
        "clients": clients,
        "transfers_per_commit": batch,
        "transfers": done,
        "seconds": round(elapsed, 2),
        "transfers_per_second": round(done / elapsed),
        "postings_per_second": round(2 * done / elapsed),
    }


def check(database: Database, name: str) -> dict[str, object]:
    began = time.perf_counter()
    with database.reading() as conn:
        violations = check_ledger(conn)
    return {
        "mode": f"{name}-invariant-check",
        "violations": len(violations),
        "seconds": round(time.perf_counter() - began, 2),
        "first": str(violations[0]) if violations else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--pg",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="PostgreSQL admin URL (a fresh database is made there)",
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--pg-accounts", type=int, default=50_000)
    parser.add_argument("--sqlite-accounts", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100, help="transfers per pg-batch call")
    parser.add_argument("--sqlite-batch", type=int, default=500)
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--json", action="store_true", help="print JSON lines only")
    args = parser.parse_args()
    results = [] if args.skip_pg else run_pg(args.pg, args)
    results += run_sqlite(args)
    for result in results:
        if args.json:
            print(json.dumps(result))
        else:
            print("  ".join(f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
