"""Ledger reads for sweeps, reports, reconciliation and the invariant check: queries that
run once per command, never per event."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Connection, and_, func, select

from walletguard.audit.chain import GENESIS, chain_for
from walletguard.kernel.canonical import canonical_json
from walletguard.ledger.model import Balance, Hold, HoldStatus, Topup, TopupStatus
from walletguard.ledger.statements import StatementPosting
from walletguard.storage import tables as t
from walletguard.storage.repositories.base import SqlRepository, chunks
from walletguard.storage.repositories.ledger import (
    balance_from_row,
    hold_from_row,
    topup_from_row,
)


class SqlLedgerQueries(SqlRepository):
    """Implements `ledger.ports.LedgerQueries` (and the statement and audit-head reads)."""

    def pending_topups_requested_before(self, before: datetime) -> list[Topup]:
        c = t.topups.c
        stmt = (
            select(t.topups)
            .where(c.status == TopupStatus.PENDING.value, c.requested_at < before)
            .order_by(c.requested_at)
        )
        if self.uow.lock_rows:
            stmt = stmt.with_for_update()
        return [topup_from_row(row) for row in self.uow.conn.execute(stmt)]

    def expired_pending_holds(self, now: datetime) -> list[Hold]:
        c = t.holds.c
        stmt = (
            select(t.holds)
            .where(c.status == HoldStatus.PENDING.value, c.expires_at < now)
            .order_by(c.expires_at)
        )
        if self.uow.lock_rows:
            stmt = stmt.with_for_update()
        return [hold_from_row(row) for row in self.uow.conn.execute(stmt)]

    def holds(
        self,
        *,
        account: str | None = None,
        status: HoldStatus | None = None,
        limit: int | None = None,
    ) -> list[Hold]:
        c = t.holds.c
        stmt = select(t.holds).order_by(c.created_at.desc(), c.id).limit(limit)
        if account is not None:
            stmt = stmt.where(c.account == account)
        if status is not None:
            stmt = stmt.where(c.status == status.value)
        return [hold_from_row(row) for row in self.uow.conn.execute(stmt)]

    def balances(self, account: str) -> list[Balance]:
        """The account's balance in every currency it has one in (a report: no row locks)."""
        c = t.balances.c
        stmt = select(t.balances).where(c.account == account).order_by(c.currency)
        return [balance_from_row(row) for row in self.uow.conn.execute(stmt)]

    def topups_between(self, channel: str, start: datetime, end: datetime) -> list[Topup]:
        c = t.topups.c
        stmt = (
            select(t.topups)
            .where(c.channel == channel, c.requested_at >= start, c.requested_at <= end)
            .order_by(c.requested_at)
        )
        return [topup_from_row(row) for row in self.uow.conn.execute(stmt)]

    def channel_seen(self, channel: str) -> bool:
        found = select(t.topups.c.channel).where(t.topups.c.channel == channel).limit(1)
        return self.uow.conn.execute(found).first() is not None

    def last_period_end(self, channel: str) -> datetime | None:
        latest = self._latest(channel, None)
        return None if latest is None else latest[0]

    def last_merchant_period_end(self, channel: str, merchant_no: str | None) -> datetime | None:
        # Two index look-ups, the merchant's own statements and the channel's whole ones;
        # the later imported wins (ties: the smaller digest, as in `_latest`).
        found = [
            latest
            for scope in (_WHOLE_CHANNEL, _scope(merchant_no))
            if (latest := self._latest(channel, scope)) is not None
        ]
        if not found:
            return None
        return max(sorted(found, key=lambda f: f[2]), key=lambda f: f[1])[0]

    def _latest(self, channel: str, scope: str | None) -> tuple[datetime, datetime, str] | None:
        """(period end, imported at, digest) of the channel's latest statement imported
        with lines (of `scope`, when given), if any."""
        c = t.statement_periods.c
        stmt = select(c.period_end, c.imported_at, c.digest).where(c.channel == channel)
        if scope is not None:
            stmt = stmt.where(c.scope == scope)
        row = self.uow.conn.execute(stmt.order_by(c.imported_at.desc(), c.digest).limit(1)).first()
        return None if row is None else (row.period_end, row.imported_at, row.digest)

    def listed_before(self, channel: str, refs: Collection[str]) -> set[str]:
        c = t.statement_listings.c
        found: set[str] = set()
        for batch in chunks(list(refs)):
            stmt = select(c.channel_ref).where(c.channel == channel, c.channel_ref.in_(batch))
            found.update(self.uow.conn.execute(stmt).scalars())
        return found

    def record_listed(
        self, channel: str, refs: Collection[str], *, digest: str, at: datetime
    ) -> None:
        for ref in refs:
            self.uow.staging.insert(
                t.statement_listings,
                {"channel": channel, "channel_ref": ref, "digest": digest, "listed_at": at},
            )

    def statement_import(self, digest: str) -> dict[str, Any] | None:
        row = self.uow.conn.execute(
            select(t.statement_imports.c.report).where(t.statement_imports.c.digest == digest)
        ).first()
        return None if row is None else msgspec.json.decode(row.report)

    def statement_imports(
        self, *, channel: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Statements imported (in `channel`, when given), newest first, without reports."""
        c = t.statement_imports.c
        stmt = (
            select(c.digest, c.channel, c.source, c.imported_at, c.lines)
            .order_by(c.imported_at.desc(), c.digest)
            .limit(limit)
        )
        if channel is not None:
            stmt = stmt.where(c.channel == channel)
        return [dict(row._mapping) for row in self.uow.conn.execute(stmt)]

    def save_statement_import(
        self, digest: str, *, channel: str, source: str, at: datetime, lines: int,
        report: dict[str, Any], period_end: datetime | None,
        merchants: Collection[str | None] | None,
    ) -> None:  # fmt: skip
        self.uow.staging.insert(
            t.statement_imports,
            {
                "digest": digest,
                "channel": channel,
                "source": source,
                "imported_at": at,
                "lines": lines,
                "report": canonical_json(report).decode(),
            },
        )
        if period_end is None:
            return
        if merchants is None:
            scopes = {_WHOLE_CHANNEL}
        else:
            # A number longer than a top-up's can have no top-up to answer for.
            scopes = {_scope(m) for m in merchants if m is None or len(m) <= _MERCHANT_NO}
        for scope in sorted(scopes):
            self.uow.staging.insert(
                t.statement_periods,
                {"digest": digest, "scope": scope, "channel": channel, "period_end": period_end,
                 "imported_at": at},
            )  # fmt: skip


_MERCHANT_NO = 64
"""The longest merchant number a top-up has (`topups.merchant_no`, the event contract's)."""

_WHOLE_CHANNEL = ""
"""`statement_periods.scope` of a statement that answers for every top-up of its channel."""


def _scope(merchant_no: str | None) -> str:
    """`statement_periods.scope` of a statement per merchant, for one merchant it names."""
    return "merchant:" + (merchant_no or "")


def posted_before(conn: Connection, account: str, currency: str, before: datetime | None) -> int:
    """The account's posted balance from its postings before `before` (0 if None)."""
    if before is None:
        return 0
    p = t.postings.c
    total = conn.execute(
        select(func.coalesce(func.sum(p.amount), 0)).where(
            p.account == account, p.currency == currency, p.at < before
        )
    ).scalar_one()
    return int(total)


def statement_postings(
    conn: Connection, account: str, currency: str, start: datetime | None, end: datetime | None
) -> list[StatementPosting]:
    """The account's postings in [start, end), oldest first, each with its transaction and
    the other accounts of that transaction (its counterparties)."""
    p = t.postings.c
    x = t.ledger_transactions.c
    other = t.postings.alias("other")
    conditions = [p.account == account, p.currency == currency]
    if start is not None:
        conditions.append(p.at >= start)
    if end is not None:
        conditions.append(p.at < end)
    rows = conn.execute(
        select(p.id, p.transaction_id, p.amount, p.at, x.kind, x.event_id, x.memo, other.c.account)
        .join(t.ledger_transactions, x.id == p.transaction_id)
        .join(
            other,
            and_(other.c.transaction_id == p.transaction_id, other.c.account != p.account),
            isouter=True,
        )
        .where(*conditions)
        .order_by(p.at, p.id)
    )
    found: dict[int, StatementPosting] = {}
    for row in rows:
        line = found.get(row.id)
        if line is None:
            line = found[row.id] = StatementPosting(
                posting_id=row.id,
                transaction_id=row.transaction_id,
                at=row.at,
                kind=row.kind,
                amount=row.amount,
                event_id=row.event_id,
                memo=row.memo,
                counterparties=(),
            )
        if row.account is not None and row.account not in line.counterparties:
            found[row.id] = line.with_counterparty(row.account)
    return list(found.values())


def audit_head(conn: Connection, subject: str) -> tuple[int, int, str]:
    """Where the audit chain holding `subject`'s records ends: (chain, seq, hash); an empty
    chain ends at seq 0 with the genesis hash."""
    chains = conn.execute(select(func.count()).select_from(t.audit_heads)).scalar() or 1
    chain = chain_for(subject, int(chains))
    h = t.audit_heads.c
    row = conn.execute(select(h.seq, h.hash).where(h.chain == chain)).first()
    if row is None or not row.seq:
        return chain, 0, GENESIS
    return chain, int(row.seq), str(row.hash)
