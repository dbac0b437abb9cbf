"""Approval requests."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import select

from walletguard.approvals.model import ApprovalRequest, ApprovalStatus
from walletguard.kernel.canonical import canonical_json
from walletguard.storage import tables as t
from walletguard.storage.repositories.base import SqlRepository, cached_lookup


def _request(row: Any) -> ApprovalRequest:
    return ApprovalRequest(
        id=row.id,
        action=row.action,
        subject=row.subject,
        requested_by=row.requested_by,
        reason=row.reason,
        required=row.required,
        created_at=row.created_at,
        approvers=tuple(msgspec.json.decode(row.approvers)),
        status=ApprovalStatus(row.status),
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        payload=msgspec.json.decode(row.payload),
    )


class SqlApprovalRepository(SqlRepository):
    cache_name = "uow:approvals"

    def get(self, approval_id: str) -> ApprovalRequest | None:
        def load() -> ApprovalRequest | None:
            stmt = select(t.approvals).where(t.approvals.c.id == approval_id)
            if self.uow.lock_rows:
                stmt = stmt.with_for_update()
            row = self.uow.conn.execute(stmt).first()
            return None if row is None else _request(row)

        return cached_lookup(self.cached, approval_id, load)

    def save(self, request: ApprovalRequest) -> None:
        self.uow.staging.upsert(
            t.approvals,
            (request.id,),
            {
                "id": request.id,
                "action": request.action,
                "subject": request.subject,
                "requested_by": request.requested_by,
                "reason": request.reason,
                "required": request.required,
                "approvers": canonical_json(list(request.approvers)).decode(),
                "status": request.status.value,
                "created_at": request.created_at,
                "decided_at": request.decided_at,
                "decided_by": request.decided_by,
                "payload": canonical_json(request.payload).decode(),
            },
        )
        self.uow.staging.remember(self.cached, request.id, request)

    def for_subject(self, subject: str) -> list[ApprovalRequest]:
        self.uow.flush()
        rows = self.uow.conn.execute(
            select(t.approvals)
            .where(t.approvals.c.subject == subject)
            .order_by(t.approvals.c.created_at)
        )
        return [_request(row) for row in rows]

    def requests(
        self, *, status: ApprovalStatus | None = None, limit: int = 100
    ) -> list[ApprovalRequest]:
        """Requests (in `status`, when given), oldest first: the pending ones are a queue."""
        self.uow.flush()
        a = t.approvals.c
        stmt = select(t.approvals).order_by(a.created_at, a.id).limit(limit)
        if status is not None:
            stmt = stmt.where(a.status == status.value)
        return [_request(row) for row in self.uow.conn.execute(stmt)]
