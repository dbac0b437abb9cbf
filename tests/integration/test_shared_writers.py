"""Several writers on one PostgreSQL database (the service's workers): units of work that
share a wallet account queue on it from their first step, so they cannot deadlock."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import timedelta
from functools import partial
from itertools import islice
from typing import Any

import pytest

from tests.ledger_support import T0, fund, pay, units
from tests.support import EventFactory
from walletguard.audit.checkpoint import TrustedKeys
from walletguard.audit.verify import verify_log
from walletguard.cases import actions
from walletguard.cases.model import Case, CaseStatus
from walletguard.composition import build_runtime, unit_of_work
from walletguard.events.decode import decode_event
from walletguard.events.model import WalletEvent
from walletguard.ledger import service
from walletguard.ledger.model import ExpiryAction, Hold, wallet_account
from walletguard.simulate import SimConfig, simulate
from walletguard.storage.database import Database, open_database
from walletguard.storage.ledger_invariants import check_ledger
from walletguard.storage.ledger_session import ledger_session
from walletguard.storage.repositories.audit import SqlAuditReader
from walletguard.storage.uow import SqlUnitOfWork, _advisory_key

pytestmark = pytest.mark.postgres


@pytest.fixture
def db_url(pg_url: str) -> str:
    """PostgreSQL only: what is tested here does not exist on SQLite."""
    return pg_url


Step = Callable[[], object]


def race(*writers: Iterable[Step]) -> list[BaseException]:
    """Start the writers at once, each in its own thread doing its steps in order; return
    what every failed step raised (a failed step does not stop its writer)."""
    failures: list[BaseException] = []
    start = threading.Barrier(len(writers))

    def run(steps: Iterable[Step]) -> None:
        start.wait()
        for step in steps:
            try:
                step()
            except BaseException as exc:
                failures.append(exc)

    threads = [threading.Thread(target=run, args=(steps,)) for steps in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return failures


def batch_start(db: Database, document: dict[str, Any]) -> Step:
    """A decision batch's first step for one event (claim its wallets, lock and load their
    rows), then its commit."""

    def step() -> None:
        with unit_of_work(db) as uow:
            uow.prefetch([decode_event(document)])

    return step


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


def _hold(hold_id: str, account: str, amount: str, *, purpose: str, destination: str) -> Hold:
    return Hold(
        id=hold_id,
        account=wallet_account(account),
        currency="CNY",
        amount=units(amount),
        purpose=purpose,
        destination=destination,
        created_at=T0,
        expires_at=T0 + timedelta(days=1),
        on_expiry=ExpiryAction.ESCALATE,
    )


def _open_case(case_id: str, account: str, at_stake: str) -> Case:
    return Case(
        id=case_id,
        account_id=account,
        status=CaseStatus.OPEN,
        opened_at=T0,
        updated_at=T0,
        max_score=700,
        amount_at_stake_units=units(at_stake),
        alert_count=1,
    )


def _alice_with_a_case_and_a_hold(db: Database) -> None:
    with ledger_session(db) as session:
        fund(session, "alice", "100.00")
        hold = _hold(
            "hold-alice",
            "alice",
            "40.00",
            purpose="withdrawal",
            destination="platform:payout_clearing",
        )
        service.place_hold(session.ledger, hold)
        session.cases.save_case(_open_case("case-alice", "alice", "40.00"))


ANALYST_READS: dict[str, Callable[[SqlUnitOfWork], object]] = {
    "her case": lambda uow: uow.cases.get("case-alice"),
    "a hold on her wallet": lambda uow: uow.ledger.hold("hold-alice"),
    "her account": lambda uow: uow.accounts.get("alice"),
    "her balance": lambda uow: uow.ledger.balance(wallet_account("alice"), "CNY"),
}


@pytest.mark.parametrize("first_read", list(ANALYST_READS))
def test_an_analysts_action_claims_the_account_before_it_locks_any_of_its_rows(
    first_read: str, db: Database, events: EventFactory
) -> None:
    """An action that starts from alice's case (or hold, account, balance) holds alice's
    claim from that first read, so a batch deciding alice's events waits for it at its
    first step. Before, the action locked the case row alone while the batch claimed alice
    and locked her account row; then each waited for the other's row: a deadlock, and
    PostgreSQL aborted one of them."""
    _alice_with_a_case_and_a_hold(db)
    analyst = SqlUnitOfWork(db)
    ANALYST_READS[first_read](analyst)
    claimed = threading.Event()

    def decision_writer() -> None:
        batch = SqlUnitOfWork(db)
        try:
            batch.prefetch([decode_event(events.withdraw("alice", amount="10.00"))])
            claimed.set()
            batch.commit()
        finally:
            batch.close()

    thread = threading.Thread(target=decision_writer)
    thread.start()
    assert not claimed.wait(0.5), "the batch went ahead while the analyst worked on alice"
    analyst.accounts.get("alice")  # the rest of the action goes on, not waiting for the batch
    assert analyst.ledger.balance(wallet_account("alice"), "CNY").held == units("40.00")
    analyst.commit()
    analyst.close()
    thread.join(timeout=30)
    assert claimed.is_set()


def test_transfers_by_hand_and_batches_on_the_same_two_wallets_never_deadlock(
    db: Database, events: EventFactory
) -> None:
    """w0 sorts before w1 by name but after it by claim key: a transfer that claimed each
    wallet as it read its balance (name order) and a batch claiming both (key order) took
    the two claims in opposite orders, and PostgreSQL aborted one of them."""
    assert _advisory_key("w0") > _advisory_key("w1")
    with ledger_session(db) as session:
        fund(session, "w0", "1000.00")
        fund(session, "w1", "1000.00")
    by_hand = [
        partial(pay, db, f"hand-{i}", *(("w0", "w1") if i % 2 else ("w1", "w0")), "1.00")
        for i in range(40)
    ]
    batches = [batch_start(db, events.transfer("w0", to="w1")) for _ in range(40)]
    assert race(by_hand, batches) == []
    with db.reading() as conn:
        assert check_ledger(conn) == []


def test_releasing_a_held_transfer_from_its_case_never_deadlocks_with_batches(
    db: Database, events: EventFactory
) -> None:
    """Holds on w0 paying w1, released from w0's case while batches decide transfers
    between the two. The action read the case first, claiming w0, and w1 only when it read
    the hold; a batch claims w1 before w0 (claim-key order), so each waited for the other
    and PostgreSQL aborted one. The action now reads the hold first: both wallets at once."""
    assert _advisory_key("w0") > _advisory_key("w1")
    holds = [f"hold-w0-{i}" for i in range(30)]
    with ledger_session(db) as session:
        fund(session, "w0", "1000.00")
        fund(session, "w1", "1000.00")
        for hold_id in holds:
            hold = _hold(
                hold_id, "w0", "1.00", purpose="transfer", destination=wallet_account("w1")
            )
            service.place_hold(session.ledger, hold)
        session.cases.save_case(_open_case("case-w0", "w0", "30.00"))

    def release(hold_id: str) -> None:
        with unit_of_work(db) as uow:
            actions.release_hold(
                uow, "case-w0", hold_id, reason="customer confirmed", actor="ann", at=T0
            )

    analyst = [partial(release, hold_id) for hold_id in holds]
    batches = [batch_start(db, events.transfer("w1", to="w0")) for _ in holds]
    assert race(analyst, batches) == []
    with unit_of_work(db) as uow:
        assert {uow.ledger.hold(h).status.value for h in holds} == {"posted"}  # type: ignore[union-attr]
    with db.reading() as conn:
        assert check_ledger(conn) == []


def test_two_workers_deciding_a_simulated_mix_in_batches_never_deadlock(pg_url: str) -> None:
    """Two engines on one database, events dealt to them in turn, each deciding its share in
    batches as the service's decision writer does. Before accounts were claimed up front,
    this mix (many new accounts, transfers between them) deadlocked within ~3,000 events."""
    mix = [decode_event(e.doc) for e in islice(simulate(SimConfig(seed=1, users=10_000)), 3000)]
    runtimes = [build_runtime(pg_url, exclusive=False, graph=False) for _ in range(2)]

    def decide(number: int, chunk: list[WalletEvent]) -> None:
        list(runtimes[number].engine.decide_batch(chunk))

    def batches(number: int) -> list[Step]:
        share = mix[number::2]
        return [partial(decide, number, share[i : i + 40]) for i in range(0, len(share), 40)]

    failures = race(batches(0), batches(1))
    for runtime in runtimes:
        runtime.close()
    assert failures == []
    database = open_database(pg_url)
    with database.reading() as conn:
        assert check_ledger(conn) == []
    # the two writers' decisions interleave in seq; each batch's seal still covers its own
    report = verify_log(SqlAuditReader(database), TrustedKeys())
    assert report.decision_problems == []
    assert report.ok
    database.dispose()
