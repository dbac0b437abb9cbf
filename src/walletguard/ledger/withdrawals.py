"""Withdrawal releases by people: maker-checker approvals (`approvals/`, action
`withdrawal.release`) before held withdrawal money leaves the wallet.

Above `one_approver_above` one person must approve, above `two_approvers_above` two
different people; never the one who asked (the account's owner, or the operator who
requested the withdrawal). A rejection voids the hold and tells the user.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Protocol

from walletguard.accounts.ports import AccountRepository
from walletguard.approvals import service as approvals_service
from walletguard.approvals.model import ApprovalRepository, ApprovalRequest, ApprovalStatus
from walletguard.audit.chain import AuditLog
from walletguard.kernel.errors import NotFound, Refused
from walletguard.kernel.money import format_amount, from_units
from walletguard.ledger import service
from walletguard.ledger.model import Hold, HoldStatus, wallet_owner
from walletguard.ledger.ports import LedgerRepository
from walletguard.ledger.settings import LedgerSettings
from walletguard.ledger.states import require_states_allow
from walletguard.notify.model import Notification, Outbox

RELEASE = "withdrawal.release"


class WithdrawalPorts(Protocol):
    @property
    def ledger(self) -> LedgerRepository: ...

    @property
    def approvals(self) -> ApprovalRepository: ...

    @property
    def accounts(self) -> AccountRepository: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def audit(self) -> AuditLog: ...


def owner_of(hold: Hold) -> str:
    """The account id whose wallet the hold is on."""
    return wallet_owner(hold.account)


def open_release_request(
    approvals: ApprovalRepository,
    hold: Hold,
    *,
    required: int,
    requested_by: str,
    at: datetime,
) -> ApprovalRequest:
    """Ask for `required` approvers before `hold` may be posted."""
    return approvals_service.request_approval(
        approvals,
        action=RELEASE,
        subject=f"hold:{hold.id}",
        requested_by=requested_by,
        reason=(
            f"withdrawal of {format_amount(from_units(hold.amount))} {hold.currency} "
            f"from {owner_of(hold)}"
        ),
        required=required,
        at=at,
        payload={"hold_id": hold.id, "amount": hold.amount, "currency": hold.currency},
    )


def _withdrawal_hold(uow: WithdrawalPorts, hold_id: str) -> Hold:
    hold = uow.ledger.hold(hold_id)
    if hold is None:
        raise NotFound(f"no hold {hold_id}")
    if hold.purpose != "withdrawal":
        raise Refused(f"hold {hold_id} is for a {hold.purpose}, not a withdrawal",
                      reason_code="NOT_A_WITHDRAWAL")  # fmt: skip
    if hold.status is not HoldStatus.PENDING:
        raise Refused(f"hold {hold_id} was already {hold.status.value}",
                      reason_code="HOLD_RESOLVED")  # fmt: skip
    return hold


def approve_withdrawal(
    uow: WithdrawalPorts,
    settings: LedgerSettings,
    hold_id: str,
    *,
    approver: str,
    at: datetime,
) -> tuple[Hold, ApprovalRequest]:
    """Record `approver`'s approval; once enough people approved, post the hold (the money
    goes to payout clearing). A held withdrawal without a request yet (one a risk rule held)
    gets one first, needing at least one approver. Refused when the account may not send
    money any more (frozen, restricted, closed)."""
    hold = _withdrawal_hold(uow, hold_id)
    if hold.approval_id is None:
        request = open_release_request(
            uow.approvals,
            hold,
            required=max(1, settings.approvers_needed(hold.amount)),
            requested_by=f"account:{owner_of(hold)}",
            at=at,
        )
        hold = replace(hold, approval_id=request.id)
        uow.ledger.save_hold(hold)
    assert hold.approval_id is not None
    request = approvals_service.approve(uow.approvals, hold.approval_id, approver=approver, at=at)
    uow.audit.append(
        at=at,
        actor=approver,
        action="ledger.withdrawal_approved",
        subject=f"hold:{hold.id}",
        payload={"approval_id": request.id, "approvers": list(request.approvers),
                 "missing": request.missing},
    )  # fmt: skip
    if request.status is not ApprovalStatus.APPROVED:
        return hold, request
    require_states_allow(uow.accounts, hold.account, hold.destination)
    posted = service.post_hold(
        uow.ledger, hold.id, at=at, note=f"approved by {', '.join(request.approvers)}",
        approvals=uow.approvals,
    )  # fmt: skip
    uow.audit.append(
        at=at,
        actor=approver,
        action="ledger.withdrawal_released",
        subject=f"account:{owner_of(hold)}",
        payload={"hold_id": hold.id, "amount": posted.posted_amount, "currency": hold.currency},
    )
    return posted, request


def reject_withdrawal(
    uow: WithdrawalPorts, hold_id: str, *, by: str, reason: str, at: datetime
) -> Hold:
    """Refuse the withdrawal: void its hold (the money is available again) and queue a
    notification telling the user why."""
    if not reason.strip():
        raise Refused("say why the withdrawal is rejected", reason_code="REASON_REQUIRED")
    hold = _withdrawal_hold(uow, hold_id)
    if hold.approval_id is not None:
        approvals_service.reject(uow.approvals, hold.approval_id, by=by, at=at)
    voided = service.void_hold(uow.ledger, hold.id, at=at, note=f"rejected by {by}: {reason}")
    uow.outbox.add(
        Notification(
            dedupe_key=f"{hold.id}:withdrawal.rejected",
            account_id=owner_of(hold),
            template="withdrawal.rejected",
            params={
                "hold_id": hold.id,
                "event_id": hold.decision_event_id,
                "amount": format_amount(from_units(hold.amount)),
                "currency": hold.currency,
                "reason": reason,
            },
            created_at=at,
        )
    )
    uow.audit.append(
        at=at,
        actor=by,
        action="ledger.withdrawal_rejected",
        subject=f"account:{owner_of(hold)}",
        payload={"hold_id": hold.id, "reason": reason, "approval_id": hold.approval_id},
    )
    return voided
