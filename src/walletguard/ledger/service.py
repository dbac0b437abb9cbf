"""Ledger operations. Each checks every invariant before it stages anything, so a
refused operation leaves balances, holds and top-ups exactly as they were.

Balances are read in one order (sorted by account and currency) so that, on a shared
PostgreSQL database where reads take row locks, two operations never wait on each other
in a cycle.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from walletguard.approvals.model import ApprovalRepository, ApprovalStatus
from walletguard.kernel.canonical import canonical_json, sha256_hex
from walletguard.kernel.errors import Conflict, NotFound, Refused
from walletguard.kernel.money import MAX_UNITS, format_amount, from_units
from walletguard.ledger.limits import LimitedOperation, check_limits, count_usage
from walletguard.ledger.model import (
    RESERVED_PREFIXES,
    Balance,
    Hold,
    HoldStatus,
    Platform,
    Posting,
    Topup,
    TopupStatus,
    Transaction,
    TransferRecord,
    TransferRequest,
    TransferStatus,
    is_wallet,
    wallet_account,
)
from walletguard.ledger.ports import LedgerRepository
from walletguard.ledger.settings import OPERATIONS, LedgerSettings


def post_transaction(repo: LedgerRepository, transaction: Transaction) -> None:
    """Apply a balanced transaction. Refused (nothing applied) if it does not balance,
    would take a wallet's available balance below zero or a balance beyond what the ledger
    records."""
    transaction.check_balanced()
    keys = sorted({(p.account, p.currency) for p in transaction.postings})
    updated = {key: repo.balance(*key) for key in keys}
    for posting in transaction.postings:
        key = (posting.account, posting.currency)
        updated[key] = updated[key].with_posting(posting.amount)
    for balance in updated.values():
        _check_available(balance)
        _check_range(balance)
    for balance in updated.values():
        repo.save_balance(balance)
    repo.add_transaction(transaction)


def _save_balance(repo: LedgerRepository, balance: Balance) -> None:
    """Save `balance`; `Refused` (nothing saved) if a figure left what the ledger stores."""
    _check_range(balance)
    repo.save_balance(balance)


def _check_range(balance: Balance) -> None:
    for figure in (balance.posted, balance.pending_in, balance.pending_out, balance.held):
        if not -MAX_UNITS <= figure <= MAX_UNITS:
            raise Refused(
                f"{balance.account} would hold more in {balance.currency} than the ledger can "
                "record",
                reason_code="AMOUNT_TOO_LARGE",
            )


def _check_available(balance: Balance) -> None:
    if is_wallet(balance.account) and balance.available < 0 and not balance.overdraft_allowed:
        raise Refused(
            f"{balance.account} has insufficient available funds in {balance.currency}",
            reason_code="INSUFFICIENT_FUNDS",
        )


def payload_hash(request: TransferRequest) -> str:
    return sha256_hex(canonical_json(request.payload()))


def transfer(
    repo: LedgerRepository,
    request: TransferRequest,
    *,
    at: datetime,
    limits: LedgerSettings | None = None,
) -> TransferRecord:
    """Move `request.amount` from source to destination, at most once per request id.

    Returns the outcome, posted or failed (a failure is remembered too: insufficient
    funds, a limit). A retry with the same id and payload returns the first outcome
    (`replayed`); the same id with a different payload raises `Conflict` naming what
    differs. Limits are checked when `limits` is given and the source is a wallet."""
    if not request.id or request.id.startswith(RESERVED_PREFIXES):
        raise Refused(
            f"transfer id {request.id!r} is empty or uses a reserved prefix {RESERVED_PREFIXES}",
            reason_code="TRANSFER_ID_INVALID",
        )
    # Lock (on PostgreSQL) before looking for the id: two sessions retrying the same
    # transfer queue on the source's row, and the second finds the first's record.
    repo.claim([request.source, request.destination])
    for key in sorted(
        {(request.source, request.currency), (request.destination, request.currency)}
    ):
        repo.balance(*key)
    hashed = payload_hash(request)
    existing = repo.transfer_record(request.id)
    if existing is not None:
        if existing.payload_hash != hashed:
            raise Conflict(_difference(request, existing))
        return replace(existing, replayed=True)
    try:
        transaction = move_funds(repo, request, at=at, limits=limits)
        record = TransferRecord(
            request.id, hashed, request.payload(), TransferStatus.POSTED, at,
            transaction_id=transaction.id,
        )  # fmt: skip
    except Refused as exc:
        record = TransferRecord(
            request.id, hashed, request.payload(), TransferStatus.FAILED, at,
            reason_code=exc.reason_code, message=exc.message,
        )  # fmt: skip
    repo.save_transfer_record(record)
    return record


def move_funds(
    repo: LedgerRepository,
    request: TransferRequest,
    *,
    at: datetime,
    limits: LedgerSettings | None = None,
    limits_checked: bool = False,
) -> Transaction:
    """Post `request` as one balanced transaction and count it against the source's limits;
    raise `Refused` (nothing applied) if it cannot be.

    Keeps no record of the request id: `transfer` adds that for callers who retry, and the
    engine needs none because an event's decision is stored at most once. `limits_checked`
    says the caller checked these limits in this unit of work already (they are still
    counted)."""
    if request.amount <= 0:
        raise Refused("an amount to move must be positive", reason_code="AMOUNT_NOT_POSITIVE")
    if request.source == request.destination:
        raise Refused("source and destination are the same account", reason_code="SAME_ACCOUNT")
    operation = None
    if limits is not None and request.kind in OPERATIONS and is_wallet(request.source):
        operation = LimitedOperation(
            account=request.source,
            operation=request.kind,
            counterparty=request.counterparty or request.destination,
            tier=request.tier,
            currency=request.currency,
            amount=request.amount,
            at=at,
        )
        if not limits_checked:
            check_limits(repo, limits, operation)
    transaction = Transaction(
        id=request.id,
        kind=request.kind,
        postings=(
            Posting(request.source, request.currency, -request.amount),
            Posting(request.destination, request.currency, request.amount),
        ),
        at=at,
        event_id=request.event_id,
        memo=request.memo,
    )
    post_transaction(repo, transaction)
    if operation is not None and limits is not None:
        count_usage(repo, limits, operation)
    return transaction


def _difference(request: TransferRequest, existing: TransferRecord) -> str:
    now = request.payload()

    def shown(name: str, value: object) -> str:
        if name == "amount" and isinstance(value, int):
            return format_amount(from_units(value))  # as the person gave it, not in units
        return repr(value)

    changed = [
        f"{name} {shown(name, existing.payload.get(name))} then, {shown(name, now.get(name))} now"
        for name in sorted(set(now) | set(existing.payload))
        if now.get(name) != existing.payload.get(name)
    ]
    return (
        f"transfer {request.id} was already requested with a different payload "
        f"({'; '.join(changed) or 'payload differs'}); use a new id for a new transfer"
    )


# -- holds -------------------------------------------------------------------------------


def _hold_operation(hold: Hold, tier: str) -> LimitedOperation | None:
    if hold.purpose not in OPERATIONS or not is_wallet(hold.account):
        return None
    return LimitedOperation(
        account=hold.account,
        operation=hold.purpose,
        counterparty=hold.counterparty or hold.destination,
        tier=tier,
        currency=hold.currency,
        amount=hold.amount,
        at=hold.created_at,
    )


def place_hold(
    repo: LedgerRepository,
    hold: Hold,
    *,
    limits: LedgerSettings | None = None,
    tier: str = "standard",
) -> Hold:
    """Set `hold.amount` aside from the wallet's available balance. A hold for an outgoing
    operation counts against its limits when `limits` is given."""
    if hold.amount <= 0:
        raise Refused("a hold must be for a positive amount", reason_code="AMOUNT_NOT_POSITIVE")
    if hold.status is not HoldStatus.PENDING:
        raise Refused("a new hold is pending", reason_code="HOLD_NOT_PENDING")
    if repo.hold(hold.id) is not None:
        raise Conflict(f"hold {hold.id} already exists")
    balance = repo.balance(hold.account, hold.currency)
    held = replace(balance, held=balance.held + hold.amount)
    _check_available(held)
    operation = _hold_operation(hold, tier) if limits is not None else None
    if operation is not None and limits is not None:
        check_limits(repo, limits, operation)
        count_usage(repo, limits, operation)
    _save_balance(repo, held)
    repo.save_hold(hold)
    return hold


def _pending_hold(repo: LedgerRepository, hold_id: str) -> Hold:
    hold = repo.hold(hold_id)
    if hold is None:
        raise NotFound(f"no hold {hold_id}")
    if hold.status is not HoldStatus.PENDING:
        raise Conflict(f"hold {hold_id} was already {hold.status.value}")
    return hold


def _give_back(repo: LedgerRepository, hold: Hold, units: int) -> None:
    """Return limit usage counted when the hold was placed (never below zero)."""
    if units <= 0 or hold.purpose not in OPERATIONS or not is_wallet(hold.account):
        return
    from walletguard.ledger.limits import day, month

    for scope in ("op:" + hold.purpose, "cp:" + (hold.counterparty or hold.destination)):
        for period in (day(hold.created_at), month(hold.created_at)):
            repo.add_limit_usage(hold.account, scope, period, hold.currency, -units)


def post_hold(
    repo: LedgerRepository,
    hold_id: str,
    *,
    at: datetime,
    amount: int | None = None,
    note: str = "",
    approvals: ApprovalRepository | None = None,
) -> Hold:
    """Move held money to its destination, in full or in part (the rest is released).
    A hold resolves at most once; one that needs approval is refused until approved."""
    hold = _pending_hold(repo, hold_id)
    if hold.approval_id is not None:
        request = approvals.get(hold.approval_id) if approvals is not None else None
        if request is None or request.status is not ApprovalStatus.APPROVED:
            raise Refused(
                f"hold {hold_id} is released only once approval {hold.approval_id} is approved",
                reason_code="APPROVAL_REQUIRED",
            )
    amount = hold.amount if amount is None else amount
    if not 0 < amount <= hold.amount:
        raise Refused(
            f"hold {hold_id} can post more than 0 and at most "
            f"{format_amount(from_units(hold.amount))} {hold.currency}, "
            f"not {format_amount(from_units(amount))}",
            reason_code="HOLD_AMOUNT",
        )
    balance = repo.balance(hold.account, hold.currency)
    _save_balance(repo, replace(balance, held=balance.held - hold.amount))
    post_transaction(
        repo,
        Transaction(
            id=f"hold:{hold.id}",
            kind=hold.purpose,
            postings=(
                Posting(hold.account, hold.currency, -amount),
                Posting(hold.destination, hold.currency, amount),
            ),
            at=at,
            event_id=hold.decision_event_id,
            memo=note,
        ),
    )
    _give_back(repo, hold, hold.amount - amount)
    resolved = replace(
        hold, status=HoldStatus.POSTED, resolved_at=at, posted_amount=amount, resolution=note
    )
    repo.save_hold(resolved)
    return resolved


def void_hold(repo: LedgerRepository, hold_id: str, *, at: datetime, note: str = "") -> Hold:
    """Release held money back to the available balance. A hold resolves at most once."""
    hold = _pending_hold(repo, hold_id)
    balance = repo.balance(hold.account, hold.currency)
    _save_balance(repo, replace(balance, held=balance.held - hold.amount))
    _give_back(repo, hold, hold.amount)
    resolved = replace(hold, status=HoldStatus.VOIDED, resolved_at=at, resolution=note)
    repo.save_hold(resolved)
    return resolved


def set_overdraft(repo: LedgerRepository, account: str, currency: str, allowed: bool) -> Balance:
    """Allow (or stop allowing) an account's available balance to go below zero. Stopping
    is refused while the account is overdrawn."""
    balance = replace(repo.balance(account, currency), overdraft_allowed=allowed)
    if not allowed and balance.available < 0:
        raise Refused(
            f"{account} is overdrawn by {format_amount(from_units(-balance.available))} "
            f"{currency}; bring it back to zero first",
            reason_code="OVERDRAWN",
        )
    _save_balance(repo, balance)
    return balance


# -- top-ups -----------------------------------------------------------------------------


def request_topup(repo: LedgerRepository, topup: Topup) -> Topup:
    """Record a top-up the user reports: a pending credit that cannot be spent yet."""
    if topup.amount <= 0:
        raise Refused("a top-up must be for a positive amount", reason_code="AMOUNT_NOT_POSITIVE")
    existing = repo.topup(topup.channel, topup.channel_ref)
    if existing is not None:
        raise Conflict(
            f"top-up {topup.channel}/{topup.channel_ref} was already reported "
            f"by event {existing.request_event_id}"
        )
    account = wallet_account(topup.account_id)
    balance = repo.balance(account, topup.currency)
    _save_balance(repo, replace(balance, pending_in=balance.pending_in + topup.amount))
    repo.save_topup(topup)
    return topup


def topup_problem(
    topup: Topup | None,
    *,
    amount: int | None,
    currency: str,
    account_id: str,
    merchant_no: str | None,
    signature_valid: bool | None,
    at: datetime | None = None,
    confirm_within: timedelta | None = None,
) -> str:
    """Why a channel confirmation does not prove the top-up, or "" when it does: it must
    name the top-up's wallet, amount, currency and merchant, signed, in time."""
    if topup is None:
        return "no top-up was reported with this channel reference"
    if topup.status is not TopupStatus.PENDING:
        return f"the top-up is already {topup.status.value}"
    if signature_valid is not True:
        return "the channel's signature did not verify"
    if account_id != topup.account_id:
        return "the confirmation is for another wallet than the top-up"
    if amount is None or amount != topup.amount:
        return "the confirmed amount differs from the top-up"
    if currency != topup.currency:
        return f"the confirmed currency {currency} differs from the top-up's {topup.currency}"
    if (topup.merchant_no is None) != (merchant_no is None):
        return "the merchant number is missing on one side"
    if merchant_no != topup.merchant_no:
        return "the merchant number differs from the top-up"
    if at is not None and confirm_within is not None and at - topup.requested_at > confirm_within:
        hours = confirm_within.total_seconds() / 3600
        return f"the confirmation came after the {hours:g} h deadline"
    return ""


def confirm_topup(repo: LedgerRepository, topup: Topup, *, at: datetime, event_id: str) -> Topup:
    """Make a proven top-up spendable: channel clearing → wallet."""
    if topup.status is not TopupStatus.PENDING:
        raise Conflict(f"top-up {topup.channel}/{topup.channel_ref} is {topup.status.value}")
    account = wallet_account(topup.account_id)
    # Posted first: if the posting is refused, nothing has changed.
    post_transaction(
        repo,
        Transaction(
            id=f"topup:{topup.channel}:{topup.channel_ref}",
            kind="topup",
            postings=(
                Posting(Platform.channel_clearing(topup.channel), topup.currency, -topup.amount),
                Posting(account, topup.currency, topup.amount),
            ),
            at=at,
            event_id=event_id,
        ),
    )
    balance = repo.balance(account, topup.currency)
    _save_balance(repo, replace(balance, pending_in=balance.pending_in - topup.amount))
    confirmed = replace(
        topup, status=TopupStatus.CONFIRMED, confirmed_at=at, confirm_event_id=event_id
    )
    repo.save_topup(confirmed)
    return confirmed


def suspect_topup(
    repo: LedgerRepository, topup: Topup, *, at: datetime, event_id: str | None, problem: str
) -> Topup:
    """Mark a pending top-up a suspected fake: its credit stays pending, never spendable."""
    if topup.status is TopupStatus.SUSPECTED_FAKE:
        return topup
    if topup.status is TopupStatus.CONFIRMED:
        raise Conflict(f"top-up {topup.channel}/{topup.channel_ref} was already confirmed")
    flagged = replace(
        topup,
        status=TopupStatus.SUSPECTED_FAKE,
        confirmed_at=at,
        confirm_event_id=event_id,
        problem=problem,
    )
    repo.save_topup(flagged)
    return flagged
