"""Many clients at once on PostgreSQL, each with its own connection and transaction: the
ledger never spends more than is there, and every invariant holds afterwards."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from tests.ledger_support import T0, funded, pay, units
from walletguard.kernel.errors import Refused
from walletguard.ledger import service
from walletguard.ledger.model import (
    ExpiryAction,
    Hold,
    Platform,
    wallet_account,
)
from walletguard.storage.database import Database, open_database
from walletguard.storage.ledger_invariants import check_ledger
from walletguard.storage.ledger_session import ledger_session

pytestmark = pytest.mark.postgres

CLIENTS = 16


@pytest.fixture
def db(pg_url: str) -> Iterator[Database]:
    database = open_database(pg_url, pool_size=CLIENTS + 2)
    yield database
    database.dispose()


def race(work: Callable[[int], str]) -> Counter[str]:
    """Run `work(client)` in CLIENTS threads released at the same moment."""
    start = threading.Barrier(CLIENTS)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    errors: list[BaseException] = []

    def client(number: int) -> None:
        start.wait()
        try:
            outcome = work(number)
        except BaseException as exc:
            errors.append(exc)
            return
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return outcomes


def test_concurrent_withdrawals_never_spend_more_than_is_there(db: Database) -> None:
    funded(db, alice="1000.00")

    def withdraw(client: int) -> str:
        results = []
        for attempt in range(5):
            record = pay(
                db,
                f"w-{client}-{attempt}",
                "alice",
                Platform.PAYOUT_CLEARING,
                "90.00",
                kind="withdrawal",
            )
            results.append(record.reason_code or "posted")
        return ",".join(results)

    outcomes = race(withdraw)
    flat = Counter(r for key, n in outcomes.items() for r in key.split(",") for _ in range(n))
    assert flat["posted"] == 11  # 11 × 90 = 990 ≤ 1000 < 12 × 90
    assert flat["INSUFFICIENT_FUNDS"] == CLIENTS * 5 - 11
    with ledger_session(db) as session:
        alice = session.ledger.balance(wallet_account("alice"), "CNY")
        payout = session.ledger.balance(Platform.PAYOUT_CLEARING, "CNY")
    assert alice.posted == units("10.00")
    assert payout.posted == units("990.00")
    with db.reading() as conn:
        assert check_ledger(conn) == []


def test_concurrent_holds_transfers_both_ways_and_retries(db: Database) -> None:
    """Holds and transfers racing on the same two wallets, in both directions (a lock order
    that is not fixed would deadlock), with every client retrying the same transfer ids."""
    funded(db, alice="500.00", bob="500.00")

    def mixed(client: int) -> str:
        done = []
        for attempt in range(4):
            source, target = ("alice", "bob") if (client + attempt) % 2 else ("bob", "alice")
            # Every client asks for the same transfer ids.
            record = pay(db, f"x-{attempt}-{source}", source, target, "70.00")
            done.append("replayed" if record.replayed else record.status.value)
            try:
                with ledger_session(db) as session:
                    service.place_hold(
                        session.ledger,
                        Hold(
                            id=f"h-{client}-{attempt}",
                            account=wallet_account(source),
                            currency="CNY",
                            amount=units("60.00"),
                            purpose="payment",
                            destination=Platform.MERCHANT_SETTLEMENT,
                            created_at=T0,
                            expires_at=None,
                            on_expiry=ExpiryAction.KEEP,
                        ),
                    )
                done.append("held")
            except Refused:
                done.append("no-funds")
        return ",".join(done)

    outcomes = race(mixed)
    flat = Counter(r for key, n in outcomes.items() for r in key.split(",") for _ in range(n))
    assert flat["posted"] + flat["failed"] == 8  # 4 attempts × 2 directions, once each
    assert flat["replayed"] == CLIENTS * 4 - 8
    with ledger_session(db) as session:
        alice = session.ledger.balance(wallet_account("alice"), "CNY")
        bob = session.ledger.balance(wallet_account("bob"), "CNY")
    assert alice.posted + bob.posted == units("1000.00")
    assert alice.available >= 0
    assert bob.available >= 0
    assert (alice.held + bob.held) == flat["held"] * units("60.00")
    with db.reading() as conn:
        assert check_ledger(conn) == []
