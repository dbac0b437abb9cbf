"""Ledger values.

Invariants (checked here, and again by the database — docs/ledger.md says how):
- every transaction's postings sum to zero per currency, and postings never change;
- a wallet's available balance (posted − held − pending outflows) never goes below
  zero unless the account may overdraw;
- a hold is resolved (posted or voided) at most once; a top-up is confirmed or
  suspected at most once, and a suspected one never becomes spendable;
- a transfer id names one request forever: its retry gets the first outcome.
Amounts are integer units of 1/10,000 (see `kernel.money`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from walletguard.kernel.errors import Refused


def wallet_account(account_id: str) -> str:
    """The ledger account code of a wallet."""
    return "wallet:" + account_id


class Platform:
    """The platform's own ledger accounts."""

    @staticmethod
    def channel_clearing(channel: str) -> str:
        return "platform:channel_clearing:" + channel

    PAYOUT_CLEARING = "platform:payout_clearing"
    MERCHANT_SETTLEMENT = "platform:merchant_settlement"
    FEES = "platform:fees"
    SUSPENSE = "platform:suspense"


PLATFORM_ACCOUNTS = frozenset(
    {Platform.PAYOUT_CLEARING, Platform.MERCHANT_SETTLEMENT, Platform.FEES, Platform.SUSPENSE}
)
"""The platform's accounts besides one clearing account per top-up channel."""


def clearing_channel(code: str) -> str | None:
    """The channel whose clearing account `code` is, if it is one."""
    channel = code.removeprefix(Platform.channel_clearing(""))
    return channel if channel != code else None


def account_code_problem(code: str) -> str | None:
    """What is wrong with an account code a person gave (`None` if it names a wallet or one
    of the platform's accounts): a misspelt code must not open an account that makes money."""
    if is_wallet(code):
        return None if code != "wallet:" else "names no wallet"
    if code in PLATFORM_ACCOUNTS or clearing_channel(code):
        return None
    known = ", ".join(sorted(PLATFORM_ACCOUNTS))
    return (
        f"{code!r} is neither a wallet nor a platform account ({known}, "
        "platform:channel_clearing:<channel>)"
    )


def hold_id_for(event_id: str) -> str:
    """The id of the hold a decision on `event_id` places (one per event at most)."""
    return "hold-" + event_id


def event_transaction_id(event_id: str) -> str:
    """The id of the transaction an allowed money-out event posts (one per event at most)."""
    return "evt:" + event_id


def ledger_account(name: str) -> str:
    """`alice` means alice's wallet; a name with a colon is a ledger account code."""
    return name if ":" in name else wallet_account(name)


def is_wallet(code: str) -> bool:
    return code.startswith("wallet:")


def wallet_owner(code: str) -> str:
    """The account id whose wallet a ledger account code names (`wallet:alice` → `alice`)."""
    return code.removeprefix("wallet:")


@dataclass(frozen=True, slots=True)
class Balance:
    """One ledger account's balance in one currency, in units."""

    account: str
    currency: str
    posted: int = 0
    pending_in: int = 0
    pending_out: int = 0
    held: int = 0
    overdraft_allowed: bool = False

    @property
    def available(self) -> int:
        return self.posted - self.held - self.pending_out

    def with_posting(self, amount: int) -> Balance:
        return replace(self, posted=self.posted + amount)


@dataclass(frozen=True, slots=True)
class Posting:
    account: str
    currency: str
    amount: int
    """Signed units: positive credits the account, negative debits it."""


@dataclass(frozen=True, slots=True)
class Transaction:
    """A balanced set of postings with a caller-given id (idempotency key)."""

    id: str
    kind: str
    postings: tuple[Posting, ...]
    at: datetime
    event_id: str | None = None
    memo: str = ""

    def check_balanced(self) -> None:
        """Raises `Refused` unless the postings sum to zero in every currency."""
        totals: dict[str, int] = defaultdict(int)
        for posting in self.postings:
            totals[posting.currency] += posting.amount
        unbalanced = {c: t for c, t in totals.items() if t}
        if unbalanced or len(self.postings) < 2:
            raise Refused(
                f"transaction {self.id} does not balance: "
                f"{unbalanced or 'fewer than two postings'}",
                reason_code="LEDGER_UNBALANCED",
            )


class HoldStatus(StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"


class ExpiryAction(StrEnum):
    """What happens to a hold nobody resolved by its expiry: decided when it is placed."""

    VOID = "void"
    ESCALATE = "escalate"
    KEEP = "keep"


@dataclass(frozen=True, slots=True)
class Hold:
    """Money set aside from a wallet's available balance until someone decides."""

    id: str
    account: str
    currency: str
    amount: int
    purpose: str
    """What the money is held for, e.g. `withdrawal` — the movement it will become."""
    destination: str
    """The ledger account that receives the money if the hold is posted."""
    created_at: datetime
    expires_at: datetime | None
    on_expiry: ExpiryAction
    status: HoldStatus = HoldStatus.PENDING
    decision_event_id: str | None = None
    case_id: str | None = None
    resolved_at: datetime | None = None
    posted_amount: int = 0
    resolution: str = ""
    counterparty: str | None = None
    """Who the money goes to (for per-counterparty limits), e.g. `merchant:shop-1`."""
    approval_id: str | None = None
    """The maker-checker request that must be approved before the hold may be posted."""
    escalated_at: datetime | None = None


class TopupStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    SUSPECTED_FAKE = "suspected_fake"


@dataclass(frozen=True, slots=True)
class Topup:
    """A top-up the user says happened, waiting for its channel's confirmation."""

    channel: str
    channel_ref: str
    account_id: str
    currency: str
    amount: int
    merchant_no: str | None
    requested_at: datetime
    request_event_id: str
    status: TopupStatus = TopupStatus.PENDING
    confirmed_at: datetime | None = None
    confirm_event_id: str | None = None
    problem: str = ""


TRANSFER_KINDS = frozenset({"transfer", "payment", "withdrawal", "settlement", "adjustment"})
RESERVED_PREFIXES = ("hold:", "topup:", "recon:", "evt:")
"""Transaction ids the ledger derives itself; a caller's transfer id may not start so."""


@dataclass(frozen=True, slots=True)
class TransferRequest:
    """One movement between two ledger accounts, named by the caller's id."""

    id: str
    kind: str
    source: str
    destination: str
    currency: str
    amount: int
    counterparty: str | None = None
    """Who receives, for per-counterparty limits (default: the destination account)."""
    tier: str = "standard"
    """The source account's tier, which picks its limits."""
    event_id: str | None = None
    memo: str = ""

    def payload(self) -> dict[str, object]:
        """What a retry must repeat exactly (the time may differ)."""
        return {
            "kind": self.kind,
            "source": self.source,
            "destination": self.destination,
            "currency": self.currency,
            "amount": self.amount,
            "counterparty": self.counterparty,
            "event_id": self.event_id,
            "memo": self.memo,
        }


class TransferStatus(StrEnum):
    POSTED = "posted"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class TransferRecord:
    """The remembered outcome of a transfer request (posted or failed)."""

    id: str
    payload_hash: str
    payload: dict[str, object]
    status: TransferStatus
    at: datetime
    reason_code: str | None = None
    message: str = ""
    transaction_id: str | None = None
    replayed: bool = False
    """True when this is a retry's answer: the first outcome, not a new one."""

    @property
    def ok(self) -> bool:
        return self.status is TransferStatus.POSTED

    def raise_if_failed(self) -> None:
        if self.status is TransferStatus.FAILED:
            raise Refused(self.message, reason_code=self.reason_code or "refused")
