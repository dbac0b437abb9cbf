"""Request and response bodies of the review queue, case work, case actions and approvals."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from walletguard.api.schemas import NO_NUL, ApprovalOut, Identifier, Money, Reason, Strict, money
from walletguard.api.schemas_ledger import HoldOut
from walletguard.cases.model import Alert, AlertKind, Case, CaseOutcome, CaseStatus, Label, Note
from walletguard.cases.queue import QueueEntry

Person = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00]+$")]


class CaseOut(BaseModel):
    id: str
    account_id: str
    status: CaseStatus
    outcome: CaseOutcome | None
    risk_level: str
    max_score: int
    amount_at_stake: Money
    alert_count: int
    assignee: str | None
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    priority: int | None
    """The case's place in the queue (higher first); None once resolved."""
    due_at: datetime | None
    """When the SLA of its risk level runs out; None once resolved."""

    @classmethod
    def of(cls, case: Case, entry: QueueEntry | None) -> CaseOut:
        return cls(
            id=case.id,
            account_id=case.account_id,
            status=case.status,
            outcome=CaseOutcome(case.outcome) if case.outcome else None,
            risk_level=case.risk_level,
            max_score=case.max_score,
            amount_at_stake=money(case.amount_at_stake_units),
            alert_count=case.alert_count,
            assignee=case.assignee,
            opened_at=case.opened_at,
            updated_at=case.updated_at,
            resolved_at=case.resolved_at,
            priority=entry.priority if entry else None,
            due_at=entry.due_at if entry else None,
        )


class ReasonOut(BaseModel):
    code: str
    message: str
    score: int


class AlertOut(BaseModel):
    id: str
    kind: AlertKind
    event_id: str | None
    risk_level: str
    score: int
    amount: Money | None
    currency: str | None
    summary: str
    created_at: datetime
    decision: str | None
    """The decision made on the alert's event, if it has one."""
    reasons: list[ReasonOut]
    """Why that decision was made."""

    @classmethod
    def of(cls, a: Alert, decision: str | None, reasons: list[ReasonOut]) -> AlertOut:
        return cls(
            id=a.id,
            kind=a.kind,
            event_id=a.event_id,
            risk_level=a.risk_level,
            score=a.score,
            amount=money(a.amount_units) if a.amount_units else None,
            currency=a.currency,
            summary=a.summary,
            created_at=a.created_at,
            decision=decision,
            reasons=reasons,
        )


class NoteOut(BaseModel):
    at: datetime
    author: str
    kind: str
    text: str

    @classmethod
    def of(cls, n: Note) -> NoteOut:
        return cls(at=n.at, author=n.author, kind=n.kind, text=n.text)


class LabelOut(BaseModel):
    event_id: str | None
    label: str
    outcome: str
    rules: list[str]
    created_at: datetime
    created_by: str

    @classmethod
    def of(cls, label: Label) -> LabelOut:
        return cls(
            event_id=label.event_id,
            label=label.label,
            outcome=label.outcome,
            rules=list(label.rules),
            created_at=label.created_at,
            created_by=label.created_by,
        )


class CaseDetailOut(CaseOut):
    """A case with what a reviewer needs to decide it."""

    account_state: str | None
    alerts: list[AlertOut]
    notes: list[NoteOut]
    holds: list[HoldOut]
    """The holds on the account's wallet, newest first (what a reviewer may act on)."""
    labels: list[LabelOut]


class AssignIn(Strict):
    assignee: Person


class NoteIn(Strict):
    text: Annotated[str, StringConstraints(min_length=1, max_length=4000, pattern=NO_NUL)]


class StatusIn(Strict):
    status: Literal["investigating", "waiting_customer"] = Field(
        description="Resolve with `/resolve`, which needs an outcome"
    )
    note: Annotated[str, StringConstraints(max_length=2000, pattern=NO_NUL)] = ""


class ResolveIn(Strict):
    outcome: CaseOutcome
    note: Reason


class ResolvedOut(CaseOut):
    labels: int
    """How many of its events were labelled."""


class ActionOut(BaseModel):
    """What a case action did: done, or waiting for a second person's approval."""

    done: bool
    message: str
    approval: ApprovalOut | None = None


class UnbindIn(Strict):
    token: Identifier
    reason: Reason


class ListIn(Strict):
    kind: Literal["block", "allow", "watch"] = "block"
    entity: Literal["account", "device", "ip", "ip_range", "token", "counterparty"]
    value: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL)]
    reason: Reason


class DecidedOut(BaseModel):
    done: bool
    """Approving: the action ran. Rejecting: the request is closed."""
    message: str
    approval: ApprovalOut


class RejectIn(Strict):
    reason: Reason
