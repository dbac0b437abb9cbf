"""A unit of work for the ledger's doors (commands, tests, benchmarks): shared mode
(row locks on PostgreSQL), committed when the block ends, rolled back if it raises."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import select

from walletguard.kernel.errors import NotFound
from walletguard.ledger.model import is_wallet, wallet_owner
from walletguard.ledger.statements import AuditStamp, Statement, StatementFilter, build_statement
from walletguard.storage import tables as t
from walletguard.storage.database import Database
from walletguard.storage.repositories.ledger_queries import (
    SqlLedgerQueries,
    audit_head,
    posted_before,
    statement_postings,
)
from walletguard.storage.uow import SqlUnitOfWork


class LedgerSession(SqlUnitOfWork):
    """A `SqlUnitOfWork` that also answers the ledger's report queries."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self.queries = SqlLedgerQueries(self)


@contextmanager
def ledger_session(database: Database) -> Iterator[LedgerSession]:
    session = LedgerSession(database)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def require_known_account(session: LedgerSession, account: str) -> None:
    """`NotFound` for a ledger account that never held money and, for a wallet, whose
    account walletguard does not know: a made-up name is not an empty wallet."""
    known = session.conn.execute(
        select(t.balances.c.account).where(t.balances.c.account == account).limit(1)
    ).first()
    if known is None and not (is_wallet(account) and session.accounts.get(wallet_owner(account))):
        raise NotFound(f"no ledger account {account}")


def issue_statement(
    session: LedgerSession,
    account: str,
    currency: str,
    filters: StatementFilter,
    *,
    at: datetime,
    actor: str,
) -> Statement:
    """Build an account statement stamped with the audit chain's head, and record its
    issue (with the statement's digest) in the audit log. `NotFound` as
    `require_known_account` says."""
    require_known_account(session, account)
    session.flush()  # the head must include records this unit of work already appended
    conn = session.conn
    stamp = AuditStamp(*audit_head(conn, account))
    statement = build_statement(
        account,
        currency,
        filters,
        opening=posted_before(conn, account, currency, filters.start),
        postings=statement_postings(conn, account, currency, filters.start, filters.end),
        stamp=stamp,
        made_at=at,
    )
    session.audit.append(
        at=at,
        actor=actor,
        action="ledger.statement_issued",
        subject=account,
        payload={
            "currency": currency,
            "digest": statement.digest,
            "lines": len(statement.lines),
            "stamp_seq": stamp.seq if stamp else 0,
            "stamp_hash": stamp.hash if stamp else None,
        },
    )
    return statement
