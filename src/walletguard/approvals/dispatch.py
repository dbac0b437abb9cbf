"""Deciding any approval request by what it is for.

Each kind of request goes to the service that owns its action — an account unfreeze
(`accounts.service`), a case action (`cases.actions`), a withdrawal release
(`ledger.withdrawals`) — which enforces maker-checker and carries the action out, in the
caller's unit of work, once enough people approved. A rejection closes the request for
good (a rejected withdrawal's money is available again and the user is told).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from walletguard.accounts import service as accounts
from walletguard.accounts.ports import AccountsUnitOfWork
from walletguard.approvals import service as approvals
from walletguard.approvals.model import ApprovalRequest
from walletguard.cases import actions as case_actions
from walletguard.cases.actions import ActionUnitOfWork
from walletguard.cases.model import Note
from walletguard.kernel.errors import NotFound, Refused
from walletguard.kernel.money import format_amount, from_units
from walletguard.ledger import withdrawals
from walletguard.ledger.model import HoldStatus
from walletguard.ledger.settings import LedgerSettings
from walletguard.ledger.withdrawals import WithdrawalPorts


class ApprovalPorts(AccountsUnitOfWork, ActionUnitOfWork, WithdrawalPorts, Protocol):
    """Everything carrying out an approved action of any kind may touch."""


@dataclass(frozen=True, slots=True)
class Decided:
    request: ApprovalRequest
    """The request as it is now."""
    done: bool
    """Approving: the action ran. Rejecting: always true (the request is closed)."""
    message: str


def _request(uow: ApprovalPorts, approval_id: str) -> ApprovalRequest:
    request = uow.approvals.get(approval_id)
    if request is None:
        raise NotFound(f"no approval request {approval_id}")
    return request


def _case_id(request: ApprovalRequest) -> str | None:
    case_id = request.payload.get("case_id")
    return case_id if isinstance(case_id, str) else None


def approve_any(
    uow: ApprovalPorts,
    settings: LedgerSettings,
    approval_id: str,
    *,
    approver: str,
    at: datetime,
) -> Decided:
    """Record `approver`'s approval (never the requester's own) and, once enough people
    approved, carry out the action."""
    request = _request(uow, approval_id)
    if _case_id(request) is not None:
        result = case_actions.approve_action(uow, approval_id, approver=approver, at=at)
        return Decided(_request(uow, approval_id), result.done, result.message)
    if request.action == accounts.UNFREEZE:
        unfrozen = accounts.approve_unfreeze(uow, approval_id, approver=approver, at=at)
        now = _request(uow, approval_id)
        if unfrozen.done:
            message = f"account {unfrozen.account.account_id} is {unfrozen.account.state.value}"
        else:
            message = f"approval {approval_id} needs {now.missing} more"
        return Decided(now, unfrozen.done, message)
    if request.action == withdrawals.RELEASE:
        hold_id = request.subject.removeprefix("hold:")
        hold, now = withdrawals.approve_withdrawal(uow, settings, hold_id, approver=approver, at=at)
        if hold.status is HoldStatus.POSTED:
            amount = format_amount(from_units(hold.posted_amount))
            return Decided(now, True, f"withdrawal {hold.id} released: {amount} {hold.currency}")
        return Decided(now, False, f"approval {now.id} needs {now.missing} more")
    raise Refused(
        f"approval {approval_id} is for {request.action}, which no service carries out",
        reason_code="UNKNOWN_APPROVAL_ACTION",
    )


def reject_any(
    uow: ApprovalPorts, approval_id: str, *, by: str, reason: str, at: datetime
) -> Decided:
    """Refuse the request: the action will not happen. Audited (and noted on its case)."""
    if not reason.strip():
        raise Refused("say why the request is rejected", reason_code="REASON_REQUIRED")
    reason = reason.strip()
    request = _request(uow, approval_id)
    if request.action == withdrawals.RELEASE:
        hold = withdrawals.reject_withdrawal(
            uow, request.subject.removeprefix("hold:"), by=by, reason=reason, at=at
        )
        amount = format_amount(from_units(hold.amount))
        return Decided(
            _request(uow, approval_id),
            True,
            f"withdrawal {hold.id} rejected; {amount} {hold.currency} available again",
        )
    rejected = approvals.reject(uow.approvals, approval_id, by=by, at=at)
    case_id = _case_id(request)
    case = uow.cases.get(case_id) if case_id is not None else None
    payload: dict[str, object] = {
        "approval_id": approval_id,
        "approval_action": request.action,
        "target": request.subject,
        "reason": reason,
    }
    if case is not None:
        text = f"rejected approval {approval_id} to {request.action} {request.subject}: {reason}"
        uow.cases.add_note(Note(case.id, at, by, text, "action"))
        payload["account_id"] = case.account_id
    uow.audit.append(
        at=at,
        actor=by,
        action="approval.rejected",
        subject=f"case:{case.id}" if case is not None else request.subject,
        payload=payload,
    )
    return Decided(
        rejected, True, f"approval {approval_id} rejected: {request.action} will not happen"
    )
