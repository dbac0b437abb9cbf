"""Two workers on one PostgreSQL database and one Redis: money never appears, disappears
or goes below zero, whatever the interleaving."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import httpx
from sqlalchemy import func, select

from tests.e2e.api_support import live_service
from tests.support import EventFactory
from walletguard.access.roles import Role
from walletguard.features.redis_store import RedisFeatureStore
from walletguard.storage import tables as t
from walletguard.storage.database import open_database
from walletguard.storage.ledger_invariants import check_ledger

ACCOUNTS = [f"w{i}" for i in range(8)]


def story(prefix: str) -> tuple[list[dict], list[list[dict]]]:
    """Funding for every account, then two interleaved streams of transfers between them."""
    f = EventFactory(prefix=prefix)
    funding = []
    for account in ACCOUNTS:
        funding += f.funded(account, "1000.00")
    f.advance(days=3)
    streams: list[list[dict]] = [[], []]
    for i in range(120):
        sender = ACCOUNTS[i % len(ACCOUNTS)]
        receiver = ACCOUNTS[(i * 3 + 1) % len(ACCOUNTS)]
        if sender == receiver:
            continue
        f.advance(seconds=7)
        streams[i % 2].append(f.transfer(sender, to=receiver, amount=f"{(i % 9) * 40 + 15}.00"))
    return funding, streams


def test_two_workers_decide_on_shared_state_without_breaking_the_books(pg_url: str) -> None:
    prefix = f"wg:test:{uuid.uuid4().hex[:8]}:"
    stores = [RedisFeatureStore(prefix=prefix) for _ in range(2)]
    funding, streams = story(f"mw{uuid.uuid4().hex[:6]}")
    statuses: list[int] = []
    with (
        live_service(pg_url, features=stores[0]) as first,
        live_service(pg_url, features=stores[1], keys=False) as second,
    ):
        second.keys = first.keys
        with first.client(Role.INTEGRATOR) as http:
            for doc in funding:
                assert http.post("/v1/events", json=doc).status_code == 200

        def send(url: str, docs: list[dict]) -> None:
            headers = {"Authorization": f"Bearer {first.keys[Role.INTEGRATOR]}"}
            with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
                statuses.extend(http.post("/v1/events", json=doc).status_code for doc in docs)

        threads = [
            threading.Thread(target=send, args=(first.url, streams[0])),
            threading.Thread(target=send, args=(second.url, streams[1])),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert statuses
    assert set(statuses) == {200}
    database = open_database(pg_url)
    with database.reading() as conn:
        assert check_ledger(conn) == []
        decided = conn.execute(select(func.count()).select_from(t.decisions)).scalar()
        wallets = conn.execute(
            select(func.sum(t.balances.c.posted)).where(t.balances.c.account.like("wallet:%"))
        ).scalar()
    database.dispose()
    assert decided == len(funding) + sum(len(s) for s in streams)
    assert Decimal(wallets) / 10_000 == Decimal("1000.00") * len(
        ACCOUNTS
    )  # transfers move, never make
    for store in stores:
        store.clear()
