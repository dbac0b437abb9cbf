"""Ledger operations. Each checks the invariants before it changes anything, so a
refused operation leaves every balance as it was."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from walletguard.kernel.errors import Conflict, NotFound, Refused
from walletguard.ledger.model import (
    Balance,
    Hold,
    HoldStatus,
    Platform,
    Posting,
    Topup,
    TopupStatus,
    Transaction,
    is_wallet,
    wallet_account,
)
from walletguard.ledger.ports import LedgerRepository


def post_transaction(repo: LedgerRepository, transaction: Transaction) -> None:
    """Apply a balanced transaction. Refused (nothing applied) if it does not balance or
    would take a wallet's available balance below zero."""
    transaction.check_balanced()
    updated: dict[tuple[str, str], Balance] = {}
    for posting in transaction.postings:
        key = (posting.account, posting.currency)
        current = updated.get(key) or repo.balance(posting.account, posting.currency)
        updated[key] = current.with_posting(posting.amount)
    for balance in updated.values():
        _check_available(balance)
    for balance in updated.values():
        repo.save_balance(balance)
    repo.add_transaction(transaction)


def _check_available(balance: Balance) -> None:
    if is_wallet(balance.account) and balance.available < 0 and not balance.overdraft_allowed:
        raise Refused(
            f"{balance.account} has insufficient available funds in {balance.currency}",
            reason_code="INSUFFICIENT_FUNDS",
        )


def transfer(
    repo: LedgerRepository,
    *,
    transaction_id: str,
    kind: str,
    source: str,
    destination: str,
    currency: str,
    amount: int,
    at: datetime,
    event_id: str | None = None,
) -> Transaction:
    """Move `amount` from `source` to `destination` as one transaction."""
    if amount <= 0:
        raise Refused("an amount to move must be positive", reason_code="AMOUNT_NOT_POSITIVE")
    transaction = Transaction(
        id=transaction_id,
        kind=kind,
        postings=(Posting(source, currency, -amount), Posting(destination, currency, amount)),
        at=at,
        event_id=event_id,
    )
    post_transaction(repo, transaction)
    return transaction


def place_hold(repo: LedgerRepository, hold: Hold) -> Hold:
    """Set `hold.amount` aside from the wallet's available balance."""
    if hold.amount <= 0:
        raise Refused("a hold must be for a positive amount", reason_code="AMOUNT_NOT_POSITIVE")
    if repo.hold(hold.id) is not None:
        raise Conflict(f"hold {hold.id} already exists")
    balance = repo.balance(hold.account, hold.currency)
    held = replace(balance, held=balance.held + hold.amount)
    _check_available(held)
    repo.save_balance(held)
    repo.save_hold(hold)
    return hold


def _pending_hold(repo: LedgerRepository, hold_id: str) -> Hold:
    hold = repo.hold(hold_id)
    if hold is None:
        raise NotFound(f"no hold {hold_id}")
    if hold.status is not HoldStatus.PENDING:
        raise Conflict(f"hold {hold_id} was already {hold.status.value}")
    return hold


def post_hold(
    repo: LedgerRepository, hold_id: str, *, at: datetime, amount: int | None = None, note: str = ""
) -> Hold:
    """Move held money to its destination, in full or in part (the rest is released).
    A hold resolves at most once."""
    hold = _pending_hold(repo, hold_id)
    amount = hold.amount if amount is None else amount
    if not 0 < amount <= hold.amount:
        raise Refused(
            f"can post between 0 and {hold.amount} units of hold {hold_id}, not {amount}",
            reason_code="HOLD_AMOUNT",
        )
    balance = repo.balance(hold.account, hold.currency)
    repo.save_balance(replace(balance, held=balance.held - hold.amount))
    transfer(
        repo,
        transaction_id=f"hold:{hold.id}",
        kind=hold.purpose,
        source=hold.account,
        destination=hold.destination,
        currency=hold.currency,
        amount=amount,
        at=at,
        event_id=hold.decision_event_id,
    )
    resolved = replace(
        hold, status=HoldStatus.POSTED, resolved_at=at, posted_amount=amount, resolution=note
    )
    repo.save_hold(resolved)
    return resolved


def void_hold(repo: LedgerRepository, hold_id: str, *, at: datetime, note: str = "") -> Hold:
    """Release held money back to the available balance. A hold resolves at most once."""
    hold = _pending_hold(repo, hold_id)
    balance = repo.balance(hold.account, hold.currency)
    repo.save_balance(replace(balance, held=balance.held - hold.amount))
    resolved = replace(hold, status=HoldStatus.VOIDED, resolved_at=at, resolution=note)
    repo.save_hold(resolved)
    return resolved


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
    repo.save_balance(replace(balance, pending_in=balance.pending_in + topup.amount))
    repo.save_topup(topup)
    return topup


def topup_problem(
    topup: Topup | None,
    *,
    amount: int | None,
    merchant_no: str | None,
    signature_valid: bool | None,
) -> str:
    """Why a channel confirmation does not prove the top-up, or "" when it does."""
    if topup is None:
        return "no top-up was reported with this channel reference"
    if topup.status is not TopupStatus.PENDING:
        return f"the top-up is already {topup.status.value}"
    if signature_valid is not True:
        return "the channel's signature did not verify"
    if amount is None or amount != topup.amount:
        return "the confirmed amount differs from the top-up"
    if (
        topup.merchant_no is not None
        and merchant_no is not None
        and merchant_no != topup.merchant_no
    ):
        return "the merchant number differs from the top-up"
    if (topup.merchant_no is None) != (merchant_no is None):
        return "the merchant number is missing on one side"
    return ""


def confirm_topup(repo: LedgerRepository, topup: Topup, *, at: datetime, event_id: str) -> Topup:
    """Make a proven top-up spendable: channel clearing → wallet."""
    account = wallet_account(topup.account_id)
    balance = repo.balance(account, topup.currency)
    repo.save_balance(replace(balance, pending_in=balance.pending_in - topup.amount))
    transfer(
        repo,
        transaction_id=f"topup:{topup.channel}:{topup.channel_ref}",
        kind="topup",
        source=Platform.channel_clearing(topup.channel),
        destination=account,
        currency=topup.currency,
        amount=topup.amount,
        at=at,
        event_id=event_id,
    )
    confirmed = replace(
        topup, status=TopupStatus.CONFIRMED, confirmed_at=at, confirm_event_id=event_id
    )
    repo.save_topup(confirmed)
    return confirmed


def suspect_topup(
    repo: LedgerRepository, topup: Topup, *, at: datetime, event_id: str | None, problem: str
) -> Topup:
    """Mark a top-up a suspected fake: its pending credit stays pending, never spendable."""
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
