"""Actions taken from a case, through the same domain services as everywhere else.

Freezing, voiding a hold and listing happen at once. Unfreezing (lifting a freeze or
restriction) and releasing a hold of `QueueSettings.large_hold_units` or more need a
second person: the first call opens a maker-checker request, and the action runs when
someone else approves it (`approve_action`). An approval to unfreeze counts only for the
restriction in force when it was asked for. Every action is audited and noted on the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from walletguard.accounts.model import AccountSecurity, AccountState
from walletguard.accounts.ports import AccountRepository
from walletguard.approvals.model import ApprovalRepository, ApprovalRequest, ApprovalStatus
from walletguard.approvals.service import approve, request_approval
from walletguard.audit.chain import AuditLog
from walletguard.cases.model import Case, CaseWorkRepository, QueueSettings
from walletguard.cases.service import CaseUnitOfWork, get_case, record_on_case
from walletguard.enrich.lists import ListEntry
from walletguard.kernel.errors import Conflict, NotFound, Refused
from walletguard.kernel.money import format_amount, from_units
from walletguard.ledger import service as ledger
from walletguard.ledger import withdrawals
from walletguard.ledger.model import Hold, HoldStatus, wallet_account
from walletguard.ledger.ports import LedgerRepository
from walletguard.ledger.states import require_states_allow
from walletguard.notify.model import Outbox

UNFREEZE = "account.unfreeze"
RELEASE_HOLD = "hold.release"


class ListWriter(Protocol):
    def add(self, entry: ListEntry, *, at: datetime) -> int: ...


class ActionUnitOfWork(Protocol):
    @property
    def cases(self) -> CaseWorkRepository: ...

    @property
    def accounts(self) -> AccountRepository: ...

    @property
    def ledger(self) -> LedgerRepository: ...

    @property
    def approvals(self) -> ApprovalRepository: ...

    @property
    def lists(self) -> ListWriter: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def audit(self) -> AuditLog: ...


@dataclass(frozen=True, slots=True)
class ActionResult:
    done: bool
    message: str
    approval: ApprovalRequest | None = None


def _note_action(
    uow: CaseUnitOfWork,
    case: Case,
    *,
    actor: str,
    at: datetime,
    action: str,
    text: str,
    details: dict[str, Any],
) -> None:
    """Note the case action on the case and audit it as `case.action`, with `details`."""
    record_on_case(
        uow,
        case,
        actor=actor,
        at=at,
        action="case.action",
        kind="action",
        text=text,
        payload={"action": action, **details},
    )


def _audit_and_note(
    uow: ActionUnitOfWork,
    case: Case,
    *,
    actor: str,
    at: datetime,
    effect: str,
    subject: str,
    action: str,
    text: str,
    details: dict[str, Any],
) -> None:
    """Audit what the case action did (`effect` on `subject`, naming the case), then note
    the action on the case; both records carry `details`."""
    uow.audit.append(
        at=at,
        actor=actor,
        action=effect,
        subject=subject,
        payload={"case_id": case.id, **details},
    )
    _note_action(uow, case, actor=actor, at=at, action=action, text=text, details=details)


def _account(uow: ActionUnitOfWork, case: Case) -> AccountSecurity:
    account = uow.accounts.get(case.account_id)
    if account is None:
        raise NotFound(f"account {case.account_id} has no security state yet")
    return account


def _transition(
    uow: ActionUnitOfWork,
    case: Case,
    to: AccountState,
    *,
    reason: str,
    actor: str,
    at: datetime,
    extra: dict[str, Any],
) -> AccountSecurity:
    account = _account(uow, case)
    changed, change = account.transition(to, reason=reason, actor=actor, at=at)
    uow.accounts.save(changed, change)
    uow.audit.append(
        at=at,
        actor=actor,
        action="account.state_changed",
        subject=f"account:{case.account_id}",
        payload={
            "from": account.state.value,
            "to": to.value,
            "reason": reason,
            "case_id": case.id,
            **extra,
        },
    )
    return changed


def freeze(
    uow: ActionUnitOfWork, case_id: str, *, reason: str, actor: str, at: datetime
) -> ActionResult:
    """Freeze the case's account now."""
    case = get_case(uow, case_id)
    _require_reason(reason)
    account = _transition(
        uow, case, AccountState.FROZEN, reason=reason, actor=actor, at=at, extra={}
    )
    _note_action(
        uow,
        case,
        actor=actor,
        at=at,
        action="freeze",
        text=f"froze the account: {reason}",
        details={"reason": reason},
    )
    return ActionResult(True, f"account {account.account_id} is frozen")


def unfreeze(
    uow: ActionUnitOfWork, case_id: str, *, reason: str, actor: str, at: datetime
) -> ActionResult:
    """Ask a second person's approval to lift the freeze (or restriction) on the case's
    account; approving it (`approve_action`) lifts it. An approval is used once: a later
    hold on the account, even one that reads the same, needs a new one."""
    case = get_case(uow, case_id)
    _require_reason(reason)
    account = _account(uow, case)
    if account.state not in (AccountState.FROZEN, AccountState.RESTRICTED):
        raise Refused(
            f"account {account.account_id} is {account.state.value}: nothing to unfreeze",
            reason_code="NOT_FROZEN",
        )
    subject = f"account:{account.account_id}"
    return _ask(uow, case, UNFREEZE, subject, reason, actor, at, state=account.restriction)


def _do_unfreeze(
    uow: ActionUnitOfWork, case: Case, approval: ApprovalRequest, *, actor: str, at: datetime
) -> ActionResult:
    reason = f"{approval.reason} (approved by {', '.join(approval.approvers)})"
    account = _transition(
        uow,
        case,
        AccountState.ACTIVE,
        reason=reason,
        actor=actor,
        at=at,
        extra={
            "approval_id": approval.id,
            "requested_by": approval.requested_by,
            "approvers": list(approval.approvers),
        },
    )
    _note_action(
        uow,
        case,
        actor=actor,
        at=at,
        action="unfreeze",
        text=f"unfroze the account: {reason}",
        details={"approval_id": approval.id},
    )
    return ActionResult(True, f"account {account.account_id} is active again", approval)


def _claim_hold_first(uow: ActionUnitOfWork, hold_id: str) -> None:
    """Read the hold before its case: that claims the wallet it is on and the wallet it
    pays together. Reading the case first claimed the first wallet alone and the payee only
    later, out of the order in which a decision batch claims both: a deadlock with it."""
    uow.ledger.hold(hold_id)


def _case_hold(uow: ActionUnitOfWork, case: Case, hold_id: str) -> Hold:
    hold = uow.ledger.hold(hold_id)
    if hold is None:
        raise NotFound(f"no hold {hold_id}")
    if hold.account != wallet_account(case.account_id):
        raise Refused(
            f"hold {hold_id} is not on account {case.account_id} of case {case.id}",
            reason_code="HOLD_NOT_IN_CASE",
        )
    return hold


def release_hold(
    uow: ActionUnitOfWork,
    case_id: str,
    hold_id: str,
    *,
    reason: str,
    actor: str,
    at: datetime,
    settings: QueueSettings | None = None,
) -> ActionResult:
    """Let held money go where it was going. A large hold asks for a second person first."""
    settings = settings or QueueSettings()
    _claim_hold_first(uow, hold_id)
    case = get_case(uow, case_id)
    _require_reason(reason)
    hold = _case_hold(uow, case, hold_id)
    if hold.approval_id is not None:
        # Its own approval decides; a case's release could never post it.
        raise Refused(
            f"hold {hold.id} is released by its withdrawal approval {hold.approval_id} "
            f"(`walletguard ledger withdrawal approve`, POST /v1/withdrawals/{hold.id}/approve)",
            reason_code="WITHDRAWAL_NEEDS_APPROVAL",
        )
    # before anyone is asked to approve, and again when it runs
    require_states_allow(uow.accounts, hold.account, hold.destination)
    if hold.amount >= settings.large_hold_units:  # approving the request releases it
        if hold.status.value != "pending":
            done = hold.status.value
            raise Refused(f"hold {hold_id} was already {done}", reason_code="HOLD_DONE")
        return _ask(uow, case, RELEASE_HOLD, f"hold:{hold_id}", reason, actor, at)
    return _do_release(uow, case, hold, actor=actor, at=at, approval=None, reason=reason)


def _do_release(
    uow: ActionUnitOfWork,
    case: Case,
    hold: Hold,
    *,
    actor: str,
    at: datetime,
    approval: ApprovalRequest | None,
    reason: str = "",
) -> ActionResult:
    why = approval.reason if approval is not None else reason
    require_states_allow(uow.accounts, hold.account, hold.destination)
    posted = ledger.post_hold(uow.ledger, hold.id, at=at, note=f"released from {case.id}: {why}")
    amount = _amount_text(posted.posted_amount, hold.currency)
    details = _hold_details(hold, posted.posted_amount, why)
    if approval is not None:
        details.update(approval_id=approval.id, approvers=list(approval.approvers))
    _audit_and_note(
        uow,
        case,
        actor=actor,
        at=at,
        effect="ledger.hold_released",
        subject=f"account:{case.account_id}",
        action="release_hold",
        text=f"released hold {hold.id} ({amount}): {why}",
        details=details,
    )
    return ActionResult(True, f"hold {hold.id} released: {amount}", approval)


def _hold_details(hold: Hold, units: int, reason: str) -> dict[str, Any]:
    """What the records of a released or voided hold carry; `units` is the amount moved."""
    return {"hold_id": hold.id, "amount": units, "currency": hold.currency, "reason": reason}


def _amount_text(units: int, currency: str) -> str:
    return f"{format_amount(from_units(units))} {currency}"


def void_hold(
    uow: ActionUnitOfWork, case_id: str, hold_id: str, *, reason: str, actor: str, at: datetime
) -> ActionResult:
    """Cancel the held movement: the money goes back to the wallet's available balance. A
    withdrawal is rejected as `ledger withdrawal reject` would: its approval request closes
    and the user is told why."""
    _claim_hold_first(uow, hold_id)
    case = get_case(uow, case_id)
    _require_reason(reason)
    hold = _case_hold(uow, case, hold_id)
    if hold.purpose == "withdrawal" and hold.status is HoldStatus.PENDING:
        voided = withdrawals.reject_withdrawal(
            uow, hold.id, by=actor, reason=f"{reason} (case {case.id})", at=at
        )
    else:
        voided = ledger.void_hold(
            uow.ledger, hold.id, at=at, note=f"voided from {case.id}: {reason}"
        )
    amount = _amount_text(voided.amount, hold.currency)
    _audit_and_note(
        uow,
        case,
        actor=actor,
        at=at,
        effect="ledger.hold_voided",
        subject=f"account:{case.account_id}",
        action="void_hold",
        text=f"voided hold {hold.id} ({amount}): {reason}",
        details=_hold_details(hold, voided.amount, reason),
    )
    return ActionResult(True, f"hold {hold.id} voided: {amount} back to the wallet")


def add_to_list(
    uow: ActionUnitOfWork, case_id: str, entry: ListEntry, *, actor: str, at: datetime
) -> ActionResult:
    """Put a value from the case on a block, allow or watch list."""
    case = get_case(uow, case_id)
    _require_reason(entry.reason)
    entry_id = uow.lists.add(entry, at=at)
    _audit_and_note(
        uow,
        case,
        actor=actor,
        at=at,
        effect="list.added",
        subject=f"list:{entry.kind.value}:{entry.entity.value}",
        action="add_to_list",
        text=f"listed {entry.entity.value} {entry.value} ({entry.kind.value}): {entry.reason}",
        details={
            "list": entry.kind.value,
            "entity": entry.entity.value,
            "value": entry.value,
            "entry_id": entry_id,
            "reason": entry.reason,
        },
    )
    return ActionResult(
        True, f"{entry.entity.value} {entry.value} is on the {entry.kind.value} list"
    )


def unbind(
    uow: ActionUnitOfWork,
    case_id: str,
    token: str,
    *,
    reason: str,
    actor: str,
    at: datetime,
) -> ActionResult:
    """Remove a binding of the case's account with the account-security service (an analyst
    may, even while the account is frozen), noted on the case."""
    from walletguard.accounts import service as accounts

    case = get_case(uow, case_id)
    binding = accounts.unbind(uow, case.account_id, token, reason=reason, actor=actor, at=at)  # type: ignore[arg-type]
    _note_action(
        uow,
        case,
        actor=actor,
        at=at,
        action="unbind",
        text=f"unbind {binding.kind} {token}: {reason}",
        details={"token": token, "kind": binding.kind, "reason": reason},
    )
    return ActionResult(True, f"{binding.kind} {token} unbound from {case.account_id}")


def _ask(
    uow: ActionUnitOfWork,
    case: Case,
    action: str,
    subject: str,
    reason: str,
    actor: str,
    at: datetime,
    **asked_for: str,
) -> ActionResult:
    """Ask for a second person's approval (or point at the same request, still pending).
    `asked_for` is what the approval is for, kept with it (e.g. which restriction)."""
    payload = {"case_id": case.id, **asked_for}
    for waiting in uow.approvals.for_subject(subject):
        if (
            waiting.action == action
            and waiting.status is ApprovalStatus.PENDING
            and waiting.payload == payload
        ):
            return ActionResult(
                False, f"{action} of {subject} is waiting for approval {waiting.id}", waiting
            )
    request = request_approval(
        uow.approvals,
        action=action,
        subject=subject,
        requested_by=actor,
        reason=reason,
        required=1,
        at=at,
        payload=payload,
    )
    record_on_case(
        uow,
        case,
        actor=actor,
        at=at,
        action="approval.requested",
        kind="action",
        text=f"asked for approval {request.id} to {action} {subject}: {reason}",
        payload={"approval_id": request.id, "approval_action": action, "target": subject},
    )
    return ActionResult(
        False,
        f"{action} of {subject} needs a second person: approval {request.id} requested",
        request,
    )


def approve_action(
    uow: ActionUnitOfWork,
    approval_id: str,
    *,
    approver: str,
    at: datetime,
    settings: QueueSettings | None = None,
) -> ActionResult:
    """Approve a case action someone else asked for; once approved, it runs at once."""
    request = approve(uow.approvals, approval_id, approver=approver, at=at)
    case_id = request.payload.get("case_id")
    if not isinstance(case_id, str):
        raise Refused(
            f"approval {approval_id} is not for a case action", reason_code="NOT_A_CASE_ACTION"
        )
    if request.action == RELEASE_HOLD:
        _claim_hold_first(uow, request.subject.removeprefix("hold:"))
    case = get_case(uow, case_id)
    uow.audit.append(
        at=at,
        actor=approver,
        action="approval.approved",
        subject=f"case:{case.id}",
        payload={
            "approval_id": request.id,
            "approval_action": request.action,
            "target": request.subject,
            "status": request.status.value,
        },
    )
    if request.status is not ApprovalStatus.APPROVED:
        return ActionResult(False, f"approval {request.id} needs {request.missing} more", request)
    if request.action == UNFREEZE:
        account = _account(uow, case)
        if request.payload.get("state") != account.restriction:
            raise Conflict(
                f"account {account.account_id} changed since {request.id} was asked for "
                f"(it is {account.state.value} now): ask again"
            )
        return _do_unfreeze(uow, case, request, actor=approver, at=at)
    if request.action == RELEASE_HOLD:
        hold = _case_hold(uow, case, request.subject.removeprefix("hold:"))
        return _do_release(uow, case, hold, actor=approver, at=at, approval=request)
    raise Refused(
        f"approval {approval_id} is for {request.action}, not a case action",
        reason_code="NOT_A_CASE_ACTION",
    )


def _require_reason(reason: str) -> None:
    if not reason.strip():
        raise Refused("say why (--reason)", reason_code="REASON_REQUIRED")
