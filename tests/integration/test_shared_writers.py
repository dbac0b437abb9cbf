"""Several writers on one PostgreSQL database (the service's workers): units of work that
share a wallet account queue on it from their first step, so they cannot deadlock."""

from __future__ import annotations

import threading
from itertools import islice

import pytest

from tests.support import EventFactory
from walletguard.composition import build_runtime
from walletguard.events.decode import decode_event
from walletguard.simulate import SimConfig, simulate
from walletguard.storage.database import Database, open_database
from walletguard.storage.ledger_invariants import check_ledger
from walletguard.storage.uow import SqlUnitOfWork

pytestmark = pytest.mark.postgres


@pytest.fixture
def db_url(pg_url: str) -> str:
    """PostgreSQL only: what is tested here does not exist on SQLite."""
    return pg_url


def test_a_batch_touching_an_account_waits_for_the_batch_holding_it(
    db: Database, events: EventFactory
) -> None:
    first_batch = [decode_event(events.register("alice")), decode_event(events.register("bob"))]
    second_batch = [decode_event(events.transfer("carol", to="alice", amount="5.00"))]
    first = SqlUnitOfWork(db)
    first.prefetch(first_batch)  # alice and bob are new: no row exists to lock yet
    claimed = threading.Event()

    def second_writer() -> None:
        second = SqlUnitOfWork(db)
        try:
            second.prefetch(second_batch)  # carol pays alice
            claimed.set()
            second.commit()
        finally:
            second.close()

    thread = threading.Thread(target=second_writer)
    thread.start()
    assert not claimed.wait(0.5), "the second writer went ahead while alice was claimed"
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert claimed.is_set()


def test_batches_without_a_shared_account_do_not_wait(db: Database, events: EventFactory) -> None:
    first = SqlUnitOfWork(db)
    first.prefetch([decode_event(events.register("dave"))])
    second = SqlUnitOfWork(db)
    second.prefetch([decode_event(events.register("erin"))])  # returns: nothing shared
    second.commit()
    first.commit()
    first.close()
    second.close()


def test_two_workers_deciding_a_simulated_mix_in_batches_never_deadlock(pg_url: str) -> None:
    """Two engines on one database, events dealt to them in turn, each deciding its share in
    batches as the service's decision writer does. Before accounts were claimed up front,
    this mix (many new accounts, transfers between them) deadlocked within ~3,000 events."""
    mix = [decode_event(e.doc) for e in islice(simulate(SimConfig(seed=1, users=10_000)), 3000)]
    runtimes = [build_runtime(pg_url, exclusive=False, graph=False) for _ in range(2)]
    failures: list[BaseException] = []
    start = threading.Barrier(2)

    def worker(number: int) -> None:
        share = mix[number::2]
        start.wait()
        for i in range(0, len(share), 40):
            try:
                list(runtimes[number].engine.decide_batch(share[i : i + 40]))
            except BaseException as exc:
                failures.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for runtime in runtimes:
        runtime.close()
    assert failures == []
    database = open_database(pg_url)
    with database.reading() as conn:
        assert check_ledger(conn) == []
    database.dispose()
