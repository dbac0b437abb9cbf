"""The SQL unit of work: repositories over one connection, changes staged until commit.

Two ways to run it:
- *exclusive* (replay, back-tests, the demo): this process is the only writer, so the
  repositories' identity maps are kept across units of work as a read cache;
- *shared* (the HTTP service, several workers): caches live for one unit of work and rows
  that will change are read with `FOR UPDATE` on PostgreSQL.

On PostgreSQL every writer claims a wallet account (a transaction-scoped advisory lock)
before it locks any row of that account: a batch of decisions claims all its accounts at
once, in one global order, in `prefetch`; any other unit of work (an analyst's action)
claims an account when it first reads, for change, the account or a row that belongs to
it (its balance, a hold, a case). So writers sharing an account queue on its claim
instead of locking its rows in different orders.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, select

from walletguard.events.model import EventType, WalletEvent
from walletguard.storage import tables as t
from walletguard.storage.database import Database
from walletguard.storage.staging import Savepoint, Staging


def _advisory_key(account_id: str) -> int:
    """A stable signed 64-bit key for an account's advisory lock (collisions only make two
    accounts queue together)."""
    digest = hashlib.blake2b(b"walletguard.account:" + account_id.encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


class StateCache:
    """Identity maps of the repositories. `None` as a value means "known not to exist"."""

    def __init__(self) -> None:
        self.maps: dict[str, dict[Any, Any]] = {}

    def map(self, name: str) -> dict[Any, Any]:
        found = self.maps.get(name)
        if found is None:
            found = self.maps[name] = {}
        return found

    def clear(self) -> None:
        self.maps.clear()

    def clear_transient(self) -> None:
        """Forget maps that only serve one unit of work (names starting with `uow:`)."""
        for name in [n for n in self.maps if n.startswith("uow:")]:
            del self.maps[name]


class SqlUnitOfWork:
    """Implements `decisions.ports.UnitOfWork` (and more) over SQLAlchemy Core."""

    def __init__(
        self, database: Database, cache: StateCache | None = None, *, default_currency: str = "CNY"
    ) -> None:
        from walletguard.storage.repositories.access import SqlKeyRepository
        from walletguard.storage.repositories.accounts import (
            SqlAccountRepository,
            SqlChallengeRepository,
        )
        from walletguard.storage.repositories.approvals import SqlApprovalRepository
        from walletguard.storage.repositories.audit import SqlAuditLog
        from walletguard.storage.repositories.cases import SqlAppealRepository, SqlCaseRepository
        from walletguard.storage.repositories.decisions import SqlDecisionRepository, SqlEventLog
        from walletguard.storage.repositories.graph import SqlRingRepository
        from walletguard.storage.repositories.ledger import SqlLedgerRepository
        from walletguard.storage.repositories.lists import SqlListRepository
        from walletguard.storage.repositories.models import SqlModelRepository
        from walletguard.storage.repositories.outbox import SqlOutbox
        from walletguard.storage.repositories.rulesets import SqlRulesetRepository

        self.database = database
        self.default_currency = default_currency
        self.exclusive = cache is not None
        self.cache = cache if cache is not None else StateCache()
        self.staging = Staging()
        self._conn: Connection | None = None
        self._claimed: set[int] = set()
        self.claimed_up_front = False
        """Whether `prefetch` claimed the accounts this unit of work will change."""
        self.events = SqlEventLog(self)
        self.decisions = SqlDecisionRepository(self)
        self.accounts = SqlAccountRepository(self)
        self.challenges = SqlChallengeRepository(self)
        self.ledger = SqlLedgerRepository(self)
        self.cases = SqlCaseRepository(self)
        self.outbox = SqlOutbox(self)
        self.audit = SqlAuditLog(self)
        self.lists = SqlListRepository(self)
        self.approvals = SqlApprovalRepository(self)
        self.keys = SqlKeyRepository(self)
        self.rulesets = SqlRulesetRepository(self)
        self.appeals = SqlAppealRepository(self)
        self.models = SqlModelRepository(self)
        self.rings = SqlRingRepository(self)

    @property
    def conn(self) -> Connection:
        """The connection, in a write transaction begun on first use."""
        if self._conn is None:
            conn = self.database.engine.connect().execution_options(walletguard_write=True)
            conn.begin()
            self._conn = conn
        return self._conn

    @property
    def lock_rows(self) -> bool:
        """Whether reads of rows about to change should take row locks."""
        return not self.exclusive and not self.database.is_sqlite

    def prefetch(self, events: Iterable[WalletEvent]) -> None:
        """Load, in a few queries, what deciding these events will look up one by one."""
        batch = list(events)
        if self.lock_rows:
            self._claim_accounts(batch)
            self.claimed_up_front = True
        self.decisions.prefetch(e.event_id for e in batch)
        self.accounts.prefetch(
            [e.account_id for e in batch]
            # a transfer's receiver: whether it may receive money is checked too
            + [e.counterparty.id for e in batch if e.type is EventType.TRANSFER and e.counterparty]
        )
        self.ledger.prefetch(batch, self.default_currency)
        self.cases.prefetch(e.account_id for e in batch)

    def _claim_accounts(self, batch: list[WalletEvent]) -> None:
        """Take a transaction-scoped advisory lock per wallet account the batch touches, in
        one global order, before any row lock.

        Row locks alone are taken table by table (accounts, then balances, then at flush
        the rows that were new), and a row created by another writer between those steps
        is locked out of order: two workers deadlocked that way within seconds under load.
        Claiming every account first makes any two units of work that share an account
        queue on the first one they share."""
        accounts = {e.account_id for e in batch}
        accounts.update(
            e.counterparty.id
            for e in batch
            if e.counterparty is not None and e.counterparty.type == "account"
        )
        self.claim_accounts(accounts)

    def claim_accounts(self, account_ids: Iterable[str]) -> None:
        """Claim these wallet accounts (in one global order) until the transaction ends,
        waiting while another writer holds any of them; a no-op where rows are not locked
        and for accounts already claimed."""
        if not self.lock_rows:
            return
        keys = sorted({_advisory_key(a) for a in account_ids} - self._claimed)
        if keys:
            self.conn.exec_driver_sql(
                "SELECT pg_advisory_xact_lock(k) FROM"
                " (SELECT k FROM unnest(%(keys)s::bigint[]) WITH ORDINALITY AS u(k, n)"
                " ORDER BY n) AS ordered",
                {"keys": keys},
            )
            self._claimed.update(keys)

    def claim_owners_of(
        self,
        *account_columns: Any,
        where: Any,
        accounts: Callable[[Sequence[str]], Iterable[str]] = lambda values: values,
    ) -> None:
        """Before a row is read for change, claim the wallet accounts it belongs to, all at
        once: `account_columns` are read first without a lock and turned into account ids
        by `accounts`. Nothing to do when this unit of work claimed its accounts up front."""
        if not self.lock_rows or self.claimed_up_front:
            return
        row = self.conn.execute(select(*account_columns).where(where)).first()
        if row is not None:
            self.claim_accounts(accounts([v for v in row if v is not None]))

    def savepoint(self) -> Savepoint:
        """Everything staged inside the `with` block is undone if it raises."""
        return self.staging.savepoint()

    def flush(self) -> None:
        decisions = self.staging.inserts.get(t.decisions)
        if decisions:
            # Written first: the audit record that seals them names their seqs.
            self.decisions.write_sealed(decisions)
        # Audit records are sealed into their chains last, so chain heads stay locked
        # only from here to the commit.
        self.audit.seal_pending()
        self.staging.flush(self.conn)

    def commit(self) -> None:
        self.flush()
        if self._conn is not None:
            self._conn.commit()
        self._release_claims()
        if self.exclusive:
            self.cache.clear_transient()
        else:
            self.cache.clear()

    def rollback(self) -> None:
        self.staging.discard()
        if self._conn is not None:
            self._conn.rollback()
        self._release_claims()
        # What the caches hold may not have reached the database.
        self.cache.clear()

    def _release_claims(self) -> None:
        """The transaction ended, and with it every advisory lock it held."""
        self._claimed.clear()
        self.claimed_up_front = False

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
