"""The audit log table: appends only, chained to the previous record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import select

from walletguard.audit.chain import AuditRecord, seal
from walletguard.kernel.canonical import canonical_json
from walletguard.storage import tables as t
from walletguard.storage.repositories.base import SqlRepository

_HEAD = "head"


class SqlAuditLog(SqlRepository):
    """Appends in the unit of work's transaction. The chain head is read once (locked on
    PostgreSQL in shared mode, so concurrent writers line up) and then kept in the cache."""

    cache_name = "audit"

    def _head(self) -> AuditRecord | None:
        cached = self.cached
        if _HEAD in cached:
            return cached[_HEAD]  # type: ignore[no-any-return]
        stmt = select(t.audit_log).order_by(t.audit_log.c.seq.desc()).limit(1)
        if self.uow.lock_rows:
            stmt = stmt.with_for_update()
        row = self.uow.conn.execute(stmt).first()
        head = None if row is None else record_from_row(row)
        cached[_HEAD] = head
        return head

    def append(
        self, *, at: datetime, actor: str, action: str, subject: str, payload: dict[str, Any]
    ) -> AuditRecord:
        record = seal(
            self._head(), at=at, actor=actor, action=action, subject=subject, payload=payload
        )
        self.uow.staging.insert(
            t.audit_log,
            {
                "seq": record.seq,
                "at": record.at,
                "actor": record.actor,
                "action": record.action,
                "subject": record.subject,
                "payload": canonical_json(record.payload).decode(),
                "payload_hash": record.payload_hash,
                "prev_hash": record.prev_hash,
                "hash": record.hash,
            },
        )
        self.uow.staging.remember(self.cached, _HEAD, record)
        return record


def record_from_row(row: Any) -> AuditRecord:
    return AuditRecord(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        payload=msgspec.json.decode(row.payload),
        payload_hash=row.payload_hash,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )
