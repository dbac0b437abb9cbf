"""The review queue: open cases ordered by priority.

Priority = risk (the case's highest score, 0–500 points) + money at stake (capped) +
age against the SLA of the case's risk level (up to 300 points as the deadline
approaches, then 300 more, growing, once it is overdue). Ties go to the older case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from walletguard.cases.model import Case, QueueSettings
from walletguard.kernel.money import UNITS_PER_MAJOR


@dataclass(frozen=True, slots=True)
class QueueEntry:
    case: Case
    priority: int
    due_at: datetime
    """When the SLA for the case's risk level runs out."""

    def overdue(self, now: datetime) -> bool:
        return now > self.due_at


def sla_for(case: Case, settings: QueueSettings) -> timedelta:
    return settings.sla.get(case.risk_level, max(settings.sla.values()))


def priority(case: Case, now: datetime, settings: QueueSettings) -> QueueEntry:
    """The case's place in the queue at `now`."""
    sla = sla_for(case, settings)
    due = case.opened_at + sla
    risk = case.max_score / 2
    major = case.amount_at_stake_units / UNITS_PER_MAJOR
    money = min(settings.money_cap, major * settings.money_weight_per_major)
    age = max(timedelta(0), now - case.opened_at)
    ratio = age / sla if sla else 1.0
    time_points = 300 * min(ratio, 1.0)
    if ratio > 1.0:
        time_points += 300 * min(ratio - 1.0, 1.0) + 100
    return QueueEntry(case, round(risk + money + time_points), due)


def order_queue(
    cases: Iterable[Case], now: datetime, settings: QueueSettings | None = None
) -> list[QueueEntry]:
    """Open cases, most urgent first."""
    settings = settings or QueueSettings()
    entries = [priority(c, now, settings) for c in cases if c.is_open]
    entries.sort(key=lambda e: (-e.priority, e.case.opened_at, e.case.id))
    return entries
