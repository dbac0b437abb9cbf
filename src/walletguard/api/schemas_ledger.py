"""Request and response bodies of the ledger endpoints: balances, statements, holds,
withdrawal approvals and reconciliation reports. Amounts are decimal strings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from walletguard.api.schemas import NO_NUL, AmountIn, ApprovalOut, Money, Strict, money
from walletguard.ledger.model import Balance, ExpiryAction, Hold, HoldStatus
from walletguard.ledger.reconcile import Classification
from walletguard.ledger.statements import Statement

Note = Annotated[str, StringConstraints(max_length=2000, pattern=NO_NUL)]


class BalanceOut(BaseModel):
    account: str
    """The ledger account (`wallet:<account id>`)."""
    currency: str
    posted: Money
    held: Money
    pending_in: Money
    pending_out: Money
    available: Money
    """posted − held − pending out: what may be spent now."""
    overdraft_allowed: bool

    @classmethod
    def of(cls, b: Balance) -> BalanceOut:
        return cls(
            account=b.account,
            currency=b.currency,
            posted=money(b.posted),
            held=money(b.held),
            pending_in=money(b.pending_in),
            pending_out=money(b.pending_out),
            available=money(b.available),
            overdraft_allowed=b.overdraft_allowed,
        )


class StatementLineOut(BaseModel):
    at: datetime
    transaction_id: str
    type: str
    counterparty: str
    channel: str
    amount: Money
    balance: Money
    """The posted balance after this line (counting every posting, shown or not)."""
    event_id: str
    memo: str


class AuditStampOut(BaseModel):
    """The head of the audit chain holding the account's records when it was issued."""

    chain: int
    seq: int
    hash: str


class StatementFilterOut(BaseModel):
    start: datetime | None
    end: datetime | None
    types: list[str]
    channel: str | None
    counterparty: str | None


class StatementOut(BaseModel):
    account: str
    currency: str
    filters: StatementFilterOut
    opening: Money
    closing: Money
    lines: list[StatementLineOut]
    audit_stamp: AuditStampOut | None
    digest: str
    """SHA-256 of the content, recorded in the audit log when the statement was issued."""
    made_at: datetime

    @classmethod
    def of(cls, s: Statement) -> StatementOut:
        f = s.filters
        return cls(
            account=s.account,
            currency=s.currency,
            filters=StatementFilterOut(
                start=f.start,
                end=f.end,
                types=sorted(f.kinds),
                channel=f.channel,
                counterparty=f.counterparty,
            ),
            opening=money(s.opening),
            closing=money(s.closing),
            lines=[
                StatementLineOut(
                    at=ln.at,
                    transaction_id=ln.transaction_id,
                    type=ln.kind,
                    counterparty=ln.counterparty,
                    channel=ln.channel,
                    amount=money(ln.amount),
                    balance=money(ln.balance),
                    event_id=ln.event_id,
                    memo=ln.memo,
                )
                for ln in s.lines
            ],
            audit_stamp=AuditStampOut(chain=s.stamp.chain, seq=s.stamp.seq, hash=s.stamp.hash)
            if s.stamp
            else None,
            digest=s.digest,
            made_at=s.made_at,
        )


class HoldOut(BaseModel):
    id: str
    account: str
    currency: str
    amount: Money
    purpose: str
    destination: str
    status: HoldStatus
    created_at: datetime
    expires_at: datetime | None
    on_expiry: ExpiryAction
    decision_event_id: str | None
    case_id: str | None
    approval_id: str | None
    resolved_at: datetime | None
    posted_amount: Money
    resolution: str
    counterparty: str | None

    @classmethod
    def of(cls, h: Hold) -> HoldOut:
        return cls(
            id=h.id,
            account=h.account,
            currency=h.currency,
            amount=money(h.amount),
            purpose=h.purpose,
            destination=h.destination,
            status=h.status,
            created_at=h.created_at,
            expires_at=h.expires_at,
            on_expiry=h.on_expiry,
            decision_event_id=h.decision_event_id,
            case_id=h.case_id,
            approval_id=h.approval_id,
            resolved_at=h.resolved_at,
            posted_amount=money(h.posted_amount),
            resolution=h.resolution,
            counterparty=h.counterparty,
        )


class HoldPostIn(Strict):
    amount: AmountIn | None = Field(
        default=None, description="Post only this much; the rest is released"
    )
    note: Note = ""


class HoldVoidIn(Strict):
    note: Note = ""


class WithdrawalOut(BaseModel):
    released: bool
    """True once enough people approved and the money left for payout."""
    hold: HoldOut
    approval: ApprovalOut | None


class ReconItemOut(BaseModel):
    classification: Classification
    channel_ref: str
    account_id: str | None
    currency: str
    ledger_amount: Money | None
    statement_amount: Money | None
    topup_status: str | None
    note: str
    line: int | None
    action: str
    """What was done about a doubtful top-up (marked suspected, money held, case opened)."""


class ReconPeriodOut(BaseModel):
    start: datetime | None
    end: datetime | None


class ReconciliationOut(BaseModel):
    """A channel statement matched against the ledger's top-ups."""

    digest: str
    """SHA-256 of the channel and the statement's bytes: the report's id."""
    channel: str
    source: str
    imported_at: datetime
    lines: int
    period: ReconPeriodOut
    counts: dict[Classification, int]
    items: list[ReconItemOut]
    already_imported: bool
    """True when these bytes were imported before: nothing changed, this is that report."""

    @classmethod
    def of(cls, report: dict[str, Any], *, again: bool) -> ReconciliationOut:
        return cls.model_validate({**report, "already_imported": again})


class ReconciliationSummary(BaseModel):
    digest: str
    channel: str
    source: str
    imported_at: datetime
    lines: int
