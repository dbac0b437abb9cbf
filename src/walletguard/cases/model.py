"""Alerts raised by decisions, grouped per account into cases, worked through a queue.

Invariants:
- an account has at most one case that is not resolved; a new alert joins it;
- a case moves open → investigating ⇄ waiting for the customer → resolved (an open case
  may be resolved at once); resolved is final and carries an outcome;
- every change to a case is audited in the unit of work that makes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from walletguard.approvals.model import LARGE_HOLD_UNITS
from walletguard.kernel.errors import IllegalTransition
from walletguard.kernel.risk import RiskLevel


class CaseStatus(StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    WAITING_CUSTOMER = "waiting_customer"
    RESOLVED = "resolved"


STATUS_FLOW: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.INVESTIGATING, CaseStatus.RESOLVED}),
    CaseStatus.INVESTIGATING: frozenset({CaseStatus.WAITING_CUSTOMER, CaseStatus.RESOLVED}),
    CaseStatus.WAITING_CUSTOMER: frozenset({CaseStatus.INVESTIGATING, CaseStatus.RESOLVED}),
    CaseStatus.RESOLVED: frozenset(),
}
"""Which status may follow which."""


class CaseOutcome(StrEnum):
    FRAUD_CONFIRMED = "fraud_confirmed"
    FALSE_POSITIVE = "false_positive"
    INCONCLUSIVE = "inconclusive"

    @property
    def label(self) -> str:
        """The training label an outcome gives the case's events."""
        return {"fraud_confirmed": "fraud", "false_positive": "legit"}.get(self.value, "unknown")


class AlertKind(StrEnum):
    REVIEW = "review"
    CRITICAL = "critical"
    SUSPECTED_FAKE_TOPUP = "suspected_fake_topup"
    MULE_SIGNS = "mule_signs"
    LABEL = "label"
    NOTIFICATION_FAILED = "notification_failed"


@dataclass(frozen=True, slots=True)
class Alert:
    """Something a person should look at, raised by one event's decision (or by the system)."""

    id: str
    account_id: str
    kind: AlertKind
    event_id: str | None
    risk_level: str
    score: int
    amount_units: int
    currency: str | None
    summary: str
    created_at: datetime
    case_id: str | None = None


@dataclass(frozen=True, slots=True)
class Case:
    """All open alerts of one account, worked as one."""

    id: str
    account_id: str
    status: CaseStatus
    opened_at: datetime
    updated_at: datetime
    max_score: int
    amount_at_stake_units: int
    alert_count: int
    assignee: str | None = None
    outcome: str | None = None
    risk_level: str = RiskLevel.MEDIUM.value
    resolved_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status is not CaseStatus.RESOLVED

    def check_move(self, to: CaseStatus) -> None:
        """Raises `IllegalTransition` unless the workflow allows `status → to`."""
        if to not in STATUS_FLOW[self.status]:
            allowed = ", ".join(sorted(s.value for s in STATUS_FLOW[self.status])) or "nothing"
            raise IllegalTransition(
                f"case {self.id} is {self.status.value}: it can move to {allowed}, not {to.value}"
            )


@dataclass(frozen=True, slots=True)
class Note:
    case_id: str
    at: datetime
    author: str
    text: str
    kind: str = "note"
    """`note`, or what produced it: `status`, `assign`, `action`, `resolve`."""


@dataclass(frozen=True, slots=True)
class Label:
    """What a resolved case says about one of its events, for features, rule statistics
    and the training data of later models."""

    case_id: str
    account_id: str
    event_id: str | None
    label: str
    """`fraud`, `legit` or `unknown`."""
    outcome: str
    rules: tuple[str, ...]
    """Rules (ids) that fired on the event: what the outcome says about their precision."""
    keys: tuple[str, ...]
    """Typed feature keys (`c:account:…`, `d:…`) reported to the feature store."""
    created_at: datetime
    created_by: str
    id: int | None = None


@dataclass(frozen=True, slots=True)
class QueueSettings:
    """How the queue weighs a case: risk, money at stake and age against its SLA."""

    sla: dict[str, timedelta] = field(
        default_factory=lambda: {
            RiskLevel.CRITICAL.value: timedelta(hours=4),
            RiskLevel.HIGH.value: timedelta(hours=24),
            RiskLevel.MEDIUM.value: timedelta(hours=72),
            RiskLevel.LOW.value: timedelta(hours=120),
            RiskLevel.NONE.value: timedelta(hours=120),
        }
    )
    large_hold_units: int = LARGE_HOLD_UNITS
    """Releasing a hold of at least this much (10,000.00) needs a second person."""
    money_weight_per_major: float = 0.02
    """Priority points per unit of currency at stake, capped at `money_cap`."""
    money_cap: float = 400.0


class CaseRepository(Protocol):
    def open_case_for(self, account_id: str) -> Case | None:
        """The account's case that is not yet resolved, if any."""

    def save_case(self, case: Case) -> None: ...

    def add_alert(self, alert: Alert, case_id: str) -> None: ...


class CaseWorkRepository(CaseRepository, Protocol):
    """What working a case needs beyond raising alerts."""

    def get(self, case_id: str) -> Case | None: ...

    def alerts_of(self, case_id: str) -> list[Alert]: ...

    def add_note(self, note: Note) -> None: ...

    def notes_of(self, case_id: str) -> list[Note]: ...

    def add_label(self, label: Label) -> None: ...
