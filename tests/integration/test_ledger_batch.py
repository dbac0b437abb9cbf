"""The PostgreSQL batch path (`wg_post_transfers`): the same outcomes and records as the
Python service, with the database's invariants intact."""

from __future__ import annotations

import pytest

from tests.ledger_support import T0, funded, pay, units
from walletguard.kernel.errors import Conflict, Refused
from walletguard.ledger.model import TransferRequest, wallet_account
from walletguard.ledger.settings import LedgerSettings
from walletguard.storage.database import Database
from walletguard.storage.ledger_batch import post_transfers
from walletguard.storage.ledger_import import import_transfers
from walletguard.storage.ledger_invariants import check_ledger
from walletguard.storage.ledger_session import ledger_session

pytestmark = pytest.mark.postgres


@pytest.fixture
def db_url(pg_url: str) -> str:
    """PostgreSQL only: what is tested here does not exist on SQLite."""
    return pg_url


def req(transfer_id: str, source: str, target: str, amount: str) -> TransferRequest:
    return TransferRequest(
        id=transfer_id,
        kind="transfer",
        source=wallet_account(source),
        destination=wallet_account(target),
        currency="CNY",
        amount=units(amount),
    )


def post(db: Database, *requests: TransferRequest) -> list[tuple[str, str | None, bool]]:
    with db.writing() as conn:
        return [
            (o.status, o.reason_code, o.replayed)
            for o in post_transfers(conn, list(requests), at=T0)
        ]


def test_a_batch_that_can_all_pay_posts_in_one_go(db: Database) -> None:
    funded(db, alice="100.00", bob="10.00")
    outcomes = post(
        db,
        req("b-1", "alice", "bob", "60.00"),
        req("b-2", "alice", "carol", "40.00"),
        req("b-3", "bob", "carol", "10.00"),
    )
    assert outcomes == [("posted", None, False)] * 3
    with ledger_session(db) as session:
        posted = [
            session.ledger.balance(wallet_account(n), "CNY").posted
            for n in ("alice", "bob", "carol")
        ]
    assert posted == [0, units("60.00"), units("50.00")]
    with db.reading() as conn:
        assert check_ledger(conn) == []


def test_one_by_one_when_money_arrives_within_the_batch_or_ids_repeat(db: Database) -> None:
    funded(db, alice="100.00")
    outcomes = post(
        db,
        req("c-1", "alice", "bob", "100.00"),
        req("c-2", "bob", "carol", "70.00"),  # only payable thanks to c-1
        req("c-3", "bob", "carol", "70.00"),  # not any more
        req("c-1", "alice", "bob", "100.00"),  # a retry inside the batch
    )
    assert outcomes == [
        ("posted", None, False),
        ("posted", None, False),
        ("failed", "INSUFFICIENT_FUNDS", False),
        ("posted", None, True),
    ]
    assert post(db, req("c-3", "bob", "carol", "70.00")) == [("failed", "INSUFFICIENT_FUNDS", True)]
    assert post(db, req("c-2", "bob", "carol", "71.00"))[0][0] == "conflict"
    with db.reading() as conn:
        assert check_ledger(conn) == []


def test_the_python_service_sees_the_batch_records(db: Database) -> None:
    funded(db, alice="100.00")
    post(db, req("d-1", "alice", "bob", "30.00"))
    again = pay(db, "d-1", "alice", "bob", "30.00")
    assert again.ok
    assert again.replayed
    with pytest.raises(Conflict, match="amount"):
        pay(db, "d-1", "alice", "bob", "31.00")
    with pytest.raises(Refused, match="reserved"):
        post(db, req("hold:x", "alice", "bob", "1.00"))


def test_a_chunk_past_a_balances_range_is_applied_transfer_by_transfer(db: Database) -> None:
    """The batch statement fails whole on a bigint overflow; the import then applies each
    transfer on its own, so the one too large is refused and the others stand."""
    funded(db, alice="1000.00")
    chunk = [
        TransferRequest("ok-1", "settlement", "platform:merchant_settlement",
                        "platform:payout_clearing", "CNY", units("3.00")),
        TransferRequest("huge-1", "adjustment", "platform:suspense", wallet_account("alice"),
                        "CNY", 2**63 - 1),
    ]  # fmt: skip
    with ledger_session(db) as session:
        outcomes = import_transfers(session, chunk, by="ops:lee", at=T0, limits=LedgerSettings())
    assert [(o.id, o.status, o.reason_code) for o in outcomes] == [
        ("ok-1", "posted", None),
        ("huge-1", "failed", "AMOUNT_TOO_LARGE"),
    ]
    with ledger_session(db) as session:
        assert session.ledger.balance(wallet_account("alice"), "CNY").posted == units("1000.00")
    with db.reading() as conn:
        assert check_ledger(conn) == []
