"""Ledger changes a person makes (the `walletguard ledger hold` and `transfer` commands),
with audit records.

Withdrawal holds are not posted this way: releasing money to a bank account goes through
`withdrawals.approve_withdrawal`, so it always has a checker other than the maker.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    clearing_channel,
    is_wallet,
    wallet_owner,
)
from walletguard.ledger.ports import LedgerQueries, LedgerRepository
from walletguard.ledger.settings import OPERATIONS, LedgerSettings
from walletguard.ledger.states import require_states_allow


class OperatorPorts(Protocol):
    @property
    def ledger(self) -> LedgerRepository: ...

    @property
    def queries(self) -> LedgerQueries: ...

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
    if first_time and (refused := refusals(uow, [request], limits)):
        raise refused[request.id]
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


def refusals(
    uow: OperatorPorts, requests: Sequence[TransferRequest], settings: LedgerSettings | None
) -> dict[str, Refused]:
    """Why each of `requests` (by id) that names an account it must not open is refused,
    before the ledger sees it: a slip would put money where nobody can reach it.

    - a wallet no account owns whose id has spaces around it or characters that cannot be
      printed (a pasting slip: `"carol "`, `"wallet: carol"`), or that is an account's id
      but for letter case (`Alice` for `alice`); ids like that which do belong to an
      account pass;
    - a channel's clearing account where no top-up came through that channel and no
      statement format is configured under its name (`platform:channel_clearing:alipy`).

    One look-up for the wallets of all `requests`, one per channel."""
    wallets = {
        wallet_owner(code)
        for r in requests
        for code in (r.source, r.destination)
        if is_wallet(code)
    }
    alike = uow.accounts.ids_alike(wallets) if wallets else set()
    channels: dict[str, bool] = {}

    def channel_known(channel: str) -> bool:
        if channel not in channels:
            named = settings is not None and settings.names_channel(channel)
            channels[channel] = named or uow.queries.channel_seen(channel)
        return channels[channel]

    found: dict[str, Refused] = {}
    for request in requests:
        for code in (request.source, request.destination):
            problem = (
                _wallet_problem(wallet_owner(code), alike)
                if is_wallet(code)
                else _channel_problem(code, channel_known)
            )
            if problem is not None:
                found[request.id] = Refused(f"{code!r}: {problem[1]}", reason_code=problem[0])
                break
    return found


def _wallet_problem(owner: str, alike: set[str]) -> tuple[str, str] | None:
    if owner in alike:
        return None
    if owner != owner.strip() or not owner.isprintable():
        return (
            "WALLET_UNKNOWN",
            "no account has this id, which has spaces around it or characters that cannot "
            "be printed",
        )
    twins = sorted(i for i in alike if i.lower() == owner.lower())
    if twins:
        return (
            "WALLET_UNKNOWN",
            f"no account has this id; {', '.join(map(repr, twins))} differs only in letter case",
        )
    return None


def _channel_problem(code: str, known: Callable[[str], bool]) -> tuple[str, str] | None:
    channel = clearing_channel(code)
    if channel is None or known(channel):
        return None
    return (
        "CHANNEL_UNKNOWN",
        f"no top-up came through channel {channel!r} and no statement format names it "
        "(a misspelt channel?)",
    )
