"""Alerts raised by decisions, grouped per account into cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class CaseStatus(StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    WAITING_CUSTOMER = "waiting_customer"
    RESOLVED = "resolved"


class AlertKind(StrEnum):
    REVIEW = "review"
    CRITICAL = "critical"
    SUSPECTED_FAKE_TOPUP = "suspected_fake_topup"
    MULE_SIGNS = "mule_signs"
    LABEL = "label"


@dataclass(frozen=True, slots=True)
class Alert:
    """Something a person should look at, raised by one event's decision."""

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


class CaseRepository(Protocol):
    def open_case_for(self, account_id: str) -> Case | None:
        """The account's case that is not yet resolved, if any."""

    def save_case(self, case: Case) -> None: ...

    def add_alert(self, alert: Alert, case_id: str) -> None: ...
