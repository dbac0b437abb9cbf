"""The decision API under load: `walletguard serve` plus `benchmarks.loadgen`, end to end.

    python -m benchmarks.api_load                                  # (a) embedded default
    python -m benchmarks.api_load --postgres --redis redis://127.0.0.1:6379/0 --workers 2  # (b)
        [--events FILE] [--connections 32] [--seconds 20] [--rate 1000] [--rate-seconds 30]

Starts the service on a fresh database (a new SQLite file, or with `--postgres` a new
database on the server named by $WALLETGUARD_TEST_PG_URL, dropped afterwards; with
`--redis` a fresh key prefix), creates an integrator key, then sends the simulated event
mix (`walletguard simulate --users 10000 --days 7 --seed 1` unless `--events`):

1. closed loop: as fast as the service answers, on `--connections` keep-alive connections,
   for `--seconds` — decisions per second;
2. open loop: `--rate` requests per second for `--rate-seconds`, latency measured from each
   request's scheduled send time (so a stalled server is not hidden) — p50 / p99.

Each phase sends events the service has not seen (the phases take consecutive slices of the
file, in time order), so every answer is a new decision durably stored before it is sent.
The per-key rate limit is raised for the run. Prints one JSON line per phase.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import serving

from benchmarks.loadgen import build_requests, run
from benchmarks.replay_throughput import simulate

WALLETGUARD = str(Path(sys.executable).with_name("walletguard"))
PG_ADMIN_URL = os.environ.get(
    "WALLETGUARD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def fresh_database(postgres: bool, scratch: Path) -> Iterator[str]:
    if not postgres:
        yield f"sqlite:///{scratch / 'bench.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = make_url(PG_ADMIN_URL)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"wg_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def service(db: str, redis: str | None, workers: int, port: int, home: Path) -> Iterator[str]:
    env = dict(
        os.environ,
        WALLETGUARD_HOME=str(home),
        WALLETGUARD_RATE_PER_SECOND="1000000",
    )
    command = [WALLETGUARD, "serve", "--db", db, "--port", str(port), "--workers", str(workers)]
    prefix = f"wg:bench:{uuid.uuid4().hex[:8]}:"  # features start empty, like the database
    if redis:
        command += ["--redis", redis, "--redis-prefix", prefix]
    url = f"http://127.0.0.1:{port}"
    try:
        with serving(command, env, url):
            yield url
    finally:
        if redis:
            from walletguard.features.redis_store import RedisFeatureStore

            store = RedisFeatureStore(redis, prefix=prefix)
            store.clear()
            store.close()


def integrator_key(db: str, home: Path) -> str:
    created = subprocess.run(
        [WALLETGUARD, "keys", "create", "--role", "integrator", "--owner", "loadgen", "--db", db],
        env=dict(os.environ, WALLETGUARD_HOME=str(home)),
        check=True,
        capture_output=True,
        text=True,
    )
    return created.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=Path, help="events JSONL (default: simulate)")
    parser.add_argument("--postgres", action="store_true", help="a fresh PostgreSQL database")
    parser.add_argument("--redis", help="Redis URL: shared feature state")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0, help="closed-loop phase")
    parser.add_argument("--rate", type=float, default=1000.0, help="open-loop requests/s")
    parser.add_argument("--rate-seconds", type=float, default=30.0, help="open-loop phase")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wg-api-bench-") as scratch_dir:
        scratch = Path(scratch_dir)
        events = args.events or simulate(10_000, 7, 1, scratch / "sim")
        with fresh_database(args.postgres, scratch) as db:
            home = scratch / "home"
            key = integrator_key(db, home)
            with service(db, args.redis, args.workers, args.port, home) as url:
                host = url.removeprefix("http://")
                requests = build_requests(events, host, key)
                closed = asyncio.run(run(requests, url, args.connections, None, args.seconds))
                sent = len(closed.latencies)
                opened = asyncio.run(
                    run(requests[sent:], url, args.connections, args.rate, args.rate_seconds)
                )
    setup = {
        "database": "postgresql" if args.postgres else "sqlite",
        "redis": bool(args.redis),
        "workers": args.workers,
        "connections": args.connections,
    }
    print(json.dumps({"phase": "closed loop", **setup, **closed.summary()}))
    print(json.dumps({"phase": f"open loop at {args.rate:g}/s", **setup, **opened.summary()}))


if __name__ == "__main__":
    main()
