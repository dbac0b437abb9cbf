"""Ledger changes a person makes (the `walletguard ledger hold` and `transfer` commands),
with audit records.

Withdrawal holds are not posted this way: releasing money to a bank account goes through
`withdrawals.approve_withdrawal`, so it always has a checker other than the maker.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Protocol

from walletguard.accounts.ports import AccountRepository
from walletguard.approvals.model import LARGE_HOLD_UNITS
from walletguard.audit.chain import AuditLog
from walletguard.kernel.errors import NotFound, Refused
from walletguard.kernel.money import format_amount, from_units
from walletguard.ledger import service
from walletguard.ledger.model import (
    Hold,
    HoldStatus,
    TransferRecord,
    TransferRequest,
    is_wallet,
    wallet_owner,
)
from walletguard.ledger.ports import LedgerRepository
from walletguard.ledger.settings import OPERATIONS, LedgerSettings
from walletguard.ledger.states import require_states_allow


class OperatorPorts(Protocol):
    @property
    def ledger(self) -> LedgerRepository: ...

    @property
    def accounts(self) -> AccountRepository: ...

    @property
    def audit(self) -> AuditLog: ...


def _hold(uow: OperatorPorts, hold_id: str) -> Hold:
    hold = uow.ledger.hold(hold_id)
    if hold is None:
        raise NotFound(f"no hold {hold_id}")
    return hold


def post_hold_as(
    uow: OperatorPorts, hold_id: str, *, by: str, at: datetime, amount: int | None, note: str
) -> Hold:
    """Post a hold (in full, or `amount` units of it; the rest is released). Refused while
    the wallet it is on may not send money or a wallet it pays may not receive it, and for
    what needs a second person: a withdrawal (its approval releases it), a hold of
    `LARGE_HOLD_UNITS` or more (its case's release asks for the approval)."""
    hold = _hold(uow, hold_id)
    if hold.purpose == "withdrawal":
        raise Refused(
            f"hold {hold_id} is a withdrawal: release it with `walletguard ledger withdrawal "
            "approve` (maker-checker)",
            reason_code="WITHDRAWAL_NEEDS_APPROVAL",
        )
    if hold.amount >= LARGE_HOLD_UNITS and hold.status is HoldStatus.PENDING:
        raise Refused(
            f"hold {hold_id} holds {format_amount(from_units(hold.amount))} {hold.currency}, "
            f"at least {format_amount(from_units(LARGE_HOLD_UNITS))}: release it from its case "
            "(`walletguard cases release-hold`, POST /v1/cases/{case_id}/release-hold), which "
            "asks a second person (maker-checker)",
            reason_code="HOLD_NEEDS_APPROVAL",
        )
    require_states_allow(uow.accounts, hold.account, hold.destination)
    posted = service.post_hold(uow.ledger, hold_id, at=at, amount=amount, note=note or f"by {by}")
    uow.audit.append(
        at=at,
        actor=by,
        action="ledger.hold_posted",
        subject=f"hold:{hold_id}",
        payload={"amount": posted.posted_amount, "of": hold.amount, "note": note},
    )
    return posted


def void_hold_as(uow: OperatorPorts, hold_id: str, *, by: str, at: datetime, note: str) -> Hold:
    """Release a hold's money back to the wallet. Not a withdrawal's: turning one down is
    `withdrawals.reject_withdrawal`, which needs a reason and tells the user."""
    hold = _hold(uow, hold_id)
    if hold.purpose == "withdrawal" and hold.status is HoldStatus.PENDING:
        raise Refused(
            f"hold {hold_id} is a withdrawal: reject it with `walletguard ledger withdrawal "
            f"reject` (POST /v1/withdrawals/{hold_id}/reject), which tells the user why",
            reason_code="WITHDRAWAL_NEEDS_REJECTION",
        )
    voided = service.void_hold(uow.ledger, hold_id, at=at, note=note or f"by {by}")
    uow.audit.append(
        at=at,
        actor=by,
        action="ledger.hold_voided",
        subject=f"hold:{hold_id}",
        payload={"amount": voided.amount, "note": note},
    )
    return voided


def transfer_as(
    uow: OperatorPorts,
    request: TransferRequest,
    *,
    by: str,
    at: datetime,
    limits: LedgerSettings | None,
) -> TransferRecord:
    """Move money by hand (a settlement, an adjustment, a transfer), at most once per
    request id, as `service.transfer` promises; the first outcome — posted or refused — is
    audited, a retry's answer is not (nothing changed).

    A customer's kind of movement (transfer, payment, withdrawal) by hand obeys the
    wallets' states as the customer's own would: `Refused`, and not remembered, while the
    source may not send (frozen, restricted, closed) or a destination wallet may not
    receive (frozen, closed). Settlements and adjustments are the platform's own
    corrections and move money whatever the state. A retry of an id already decided gets
    its first outcome whatever the states are now. Limits are the source account's tier's.
    """
    first_time = uow.ledger.transfer_record(request.id) is None
    if first_time:
        _refuse_garbled_wallets(uow.accounts, request.source, request.destination)
    if request.kind in OPERATIONS and first_time:
        require_states_allow(uow.accounts, request.source, request.destination)
    if is_wallet(request.source):
        account = uow.accounts.get(wallet_owner(request.source))
        if account is not None and account.tier != request.tier:
            request = replace(request, tier=account.tier)
    record = service.transfer(uow.ledger, request, at=at, limits=limits)
    if not record.replayed:
        uow.audit.append(
            at=at,
            actor=by,
            action="ledger.transfer",
            subject=f"transfer:{request.id}",
            payload={
                **request.payload(),
                "status": record.status.value,
                "reason_code": record.reason_code,
            },
        )
    return record


def _refuse_garbled_wallets(accounts: AccountRepository, *codes: str) -> None:
    """`Refused` for a wallet no account owns whose id has spaces around it or characters
    that cannot be printed: a pasting slip (`"carol "`, `"wallet: carol"`), which would
    open a wallet nobody owns. Ids like that which do belong to an account pass."""
    for code in codes:
        owner = wallet_owner(code)
        garbled = owner != owner.strip() or not owner.isprintable()
        if is_wallet(code) and garbled and accounts.get(owner) is None:
            raise Refused(
                f"{code!r}: no account has this id, which has spaces around it or characters "
                "that cannot be printed",
                reason_code="WALLET_UNKNOWN",
            )
