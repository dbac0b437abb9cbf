"""The database itself refuses what breaks the ledger's invariants, on SQLite and on
PostgreSQL: hand-written SQL that bypasses the application is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from tests.ledger_support import T0, funded, pay
from walletguard.ledger import service
from walletguard.ledger.model import ExpiryAction, Hold
from walletguard.storage.database import Database
from walletguard.storage.ledger_invariants import check_ledger
from walletguard.storage.ledger_session import ledger_session

REFUSED = (IntegrityError, DBAPIError)


def run_sql(db: Database, *statements: str, **params: object) -> None:
    """Run hand-written SQL in one transaction, committed at the end."""
    with db.writing() as conn:
        for statement in statements:
            conn.execute(text(statement), params)


def test_unbalanced_postings_are_refused(db: Database) -> None:
    with pytest.raises(REFUSED, match=r"(?i)balance"):
        run_sql(
            db,
            "INSERT INTO postings (transaction_id, account, currency, amount, at) "
            "VALUES ('tx-bad', 'wallet:eve', 'CNY', 1000000, :at)",
            "INSERT INTO postings (transaction_id, account, currency, amount, at) "
            "VALUES ('tx-bad', 'platform:suspense', 'CNY', -1, :at)",
            "INSERT INTO ledger_transactions (id, kind, at, event_id, memo) "
            "VALUES ('tx-bad', 'adjustment', :at, NULL, '')",
            at=T0,
        )
    assert check_ledger_clean(db)


def test_a_single_posting_is_refused_and_so_is_one_without_its_transaction(db: Database) -> None:
    with pytest.raises(REFUSED):
        run_sql(
            db,
            "INSERT INTO postings (transaction_id, account, currency, amount, at) "
            "VALUES ('tx-one', 'platform:suspense', 'CNY', 0, :at)",
            "INSERT INTO ledger_transactions (id, kind, at, event_id, memo) "
            "VALUES ('tx-one', 'adjustment', :at, NULL, '')",
            at=T0,
        )
    with pytest.raises(REFUSED):
        run_sql(
            db,
            "INSERT INTO postings (transaction_id, account, currency, amount, at) "
            "VALUES ('tx-orphan', 'wallet:eve', 'CNY', 5, :at)",
            at=T0,
        )
    assert check_ledger_clean(db)


def test_postings_cannot_be_added_to_or_changed_in_a_written_transaction(db: Database) -> None:
    funded(db, alice="100.00")
    assert pay(db, "t-1", "alice", "bob", "10.00").ok
    with pytest.raises(REFUSED):
        run_sql(db, "UPDATE postings SET amount = amount * 2 WHERE transaction_id = 't-1'")
    with pytest.raises(REFUSED):
        run_sql(db, "DELETE FROM postings WHERE transaction_id = 't-1'")
    with pytest.raises(REFUSED):
        run_sql(
            db,
            "INSERT INTO postings (transaction_id, account, currency, amount, at) "
            "VALUES ('t-1', 'wallet:bob', 'CNY', 5, :at)",
            "INSERT INTO postings (transaction_id, account, currency, amount, at) "
            "VALUES ('t-1', 'platform:suspense', 'CNY', -5, :at)",
            at=T0,
        )
    assert check_ledger_clean(db)


def test_a_wallet_never_goes_below_zero_unless_it_may_overdraw(db: Database) -> None:
    funded(db, alice="100.00")
    with pytest.raises(REFUSED, match=r"(?i)available|check"):
        run_sql(db, "UPDATE balances SET held = posted + 1 WHERE account = 'wallet:alice'")
    with pytest.raises(REFUSED):
        run_sql(db, "UPDATE balances SET posted = -1 WHERE account = 'wallet:alice'")
    # A platform account may go negative (channel clearing always does).
    run_sql(db, "UPDATE balances SET held = 0 WHERE account LIKE 'platform:%'")
    # With an overdraft allowed, the wallet may go below zero.
    with ledger_session(db) as session:
        service.set_overdraft(session.ledger, "wallet:alice", "CNY", True)
    assert pay(db, "t-over", "alice", "bob", "150.00").ok
    with ledger_session(db) as session:
        assert session.ledger.balance("wallet:alice", "CNY").available < 0


def test_a_hold_resolves_at_most_once(db: Database) -> None:
    funded(db, alice="100.00")
    with ledger_session(db) as session:
        service.place_hold(session.ledger, _hold("h-1", 40_0000))
    with ledger_session(db) as session:
        service.void_hold(session.ledger, "h-1", at=T0)
    for statement in (
        "UPDATE holds SET status = 'pending' WHERE id = 'h-1'",
        "UPDATE holds SET status = 'posted', posted_amount = amount WHERE id = 'h-1'",
        "UPDATE holds SET amount = 1 WHERE id = 'h-1'",
        "DELETE FROM holds WHERE id = 'h-1'",
    ):
        with pytest.raises(REFUSED):
            run_sql(db, statement)
    # A resolved hold may still gain notes that do not change how it resolved.
    run_sql(db, "UPDATE holds SET case_id = 'case-1' WHERE id = 'h-1'")
    assert check_ledger_clean(db)


def test_a_confirmed_topup_never_goes_back_to_pending(db: Database) -> None:
    funded(db, alice="100.00")
    with pytest.raises(REFUSED):
        run_sql(db, "UPDATE topups SET status = 'pending' WHERE account_id = 'alice'")
    with pytest.raises(REFUSED):
        run_sql(db, "UPDATE topups SET amount = amount * 10 WHERE account_id = 'alice'")


def test_the_service_refuses_before_the_database_has_to(db: Database) -> None:
    funded(db, alice="100.00")
    record = pay(db, "t-big", "alice", "bob", "100.01")
    assert not record.ok
    assert record.reason_code == "INSUFFICIENT_FUNDS"
    assert check_ledger_clean(db)


def _hold(hold_id: str, amount: int) -> Hold:
    return Hold(
        id=hold_id,
        account="wallet:alice",
        currency="CNY",
        amount=amount,
        purpose="payment",
        destination="platform:merchant_settlement",
        created_at=T0,
        expires_at=None,
        on_expiry=ExpiryAction.KEEP,
    )


def check_ledger_clean(db: Database) -> bool:
    with db.reading() as conn:
        violations = check_ledger(conn)
    assert violations == []
    return True
