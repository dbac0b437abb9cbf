"""Asking for, giving and refusing approvals."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from walletguard.approvals.model import ApprovalRepository, ApprovalRequest, ApprovalStatus
from walletguard.kernel.errors import NotFound, Refused


def request_approval(
    repo: ApprovalRepository,
    *,
    action: str,
    subject: str,
    requested_by: str,
    reason: str,
    required: int,
    at: datetime,
    payload: dict[str, Any] | None = None,
) -> ApprovalRequest:
    """Open a request needing `required` approvers other than `requested_by`. Asking again
    while the same request (action, subject and payload) is pending returns that one: a
    repeated command opens no second request for the checkers."""
    if required < 1:
        raise Refused("an approval needs at least one approver", reason_code="APPROVERS_REQUIRED")
    if not reason.strip():
        raise Refused("say why the action is needed", reason_code="REASON_REQUIRED")
    for pending in repo.for_subject(subject):
        if (
            pending.status is ApprovalStatus.PENDING
            and pending.action == action
            and pending.payload == (payload or {})
        ):
            return pending
    request = ApprovalRequest(
        id="apr-" + secrets.token_hex(6),
        action=action,
        subject=subject,
        requested_by=requested_by,
        reason=reason,
        required=required,
        created_at=at,
        payload=payload or {},
    )
    repo.save(request)
    return request


def _pending(repo: ApprovalRepository, approval_id: str) -> ApprovalRequest:
    request = repo.get(approval_id)
    if request is None:
        raise NotFound(f"no approval request {approval_id}")
    return request


def approve(
    repo: ApprovalRepository, approval_id: str, *, approver: str, at: datetime
) -> ApprovalRequest:
    """Record an approval (maker-checker enforced); returns the updated request."""
    request = _pending(repo, approval_id).approve(approver, at=at)
    repo.save(request)
    return request


def reject(repo: ApprovalRepository, approval_id: str, *, by: str, at: datetime) -> ApprovalRequest:
    request = _pending(repo, approval_id).reject(by, at=at)
    repo.save(request)
    return request
