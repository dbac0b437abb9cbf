"""Raising alerts and working cases: assign, note, move through the workflow, resolve.

Every function takes the unit of work it changes and appends its audit record there,
so a change and its record are committed together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from walletguard.audit.chain import AuditLog
from walletguard.cases.model import (
    Alert,
    Case,
    CaseOutcome,
    CaseRepository,
    CaseStatus,
    CaseWorkRepository,
    Label,
    Note,
)
from walletguard.kernel.errors import FieldProblem, InvalidInput, NotFound
from walletguard.kernel.risk import RiskLevel


def raise_alert(repo: CaseRepository, alert: Alert) -> tuple[Case, bool]:
    """File `alert` under the account's open case (opening one if needed).
    Returns the case and whether it was newly opened."""
    case = repo.open_case_for(alert.account_id)
    opened = case is None
    level = _level(alert.risk_level)
    if case is None:
        case = Case(
            id="case-" + alert.id.removeprefix("alert-"),
            account_id=alert.account_id,
            status=CaseStatus.OPEN,
            opened_at=alert.created_at,
            updated_at=alert.created_at,
            max_score=alert.score,
            amount_at_stake_units=alert.amount_units,
            alert_count=1,
            risk_level=level.value,
        )
    else:
        case = replace(
            case,
            updated_at=max(case.updated_at, alert.created_at),
            max_score=max(case.max_score, alert.score),
            amount_at_stake_units=case.amount_at_stake_units + alert.amount_units,
            alert_count=case.alert_count + 1,
            risk_level=level.at_least(_level(case.risk_level)).value,
        )
    repo.save_case(case)
    repo.add_alert(alert, case.id)
    return case, opened


def _level(text: str) -> RiskLevel:
    try:
        return RiskLevel(text)
    except ValueError:
        return RiskLevel.MEDIUM


class CaseUnitOfWork(Protocol):
    """The part of a unit of work that case work touches."""

    @property
    def cases(self) -> CaseWorkRepository: ...

    @property
    def audit(self) -> AuditLog: ...


def get_case(uow: CaseUnitOfWork, case_id: str) -> Case:
    case = uow.cases.get(case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    return case


def record_on_case(
    uow: CaseUnitOfWork,
    case: Case,
    *,
    actor: str,
    at: datetime,
    action: str,
    kind: str,
    text: str,
    payload: dict[str, Any],
) -> None:
    """Note `text` (a `kind` note) on the case and audit `action` on it; the audit payload
    also names the case's account."""
    uow.cases.add_note(Note(case.id, at, actor, text, kind))
    uow.audit.append(
        at=at,
        actor=actor,
        action=action,
        subject=f"case:{case.id}",
        payload={"account_id": case.account_id, **payload},
    )


def assign(uow: CaseUnitOfWork, case_id: str, assignee: str, *, actor: str, at: datetime) -> Case:
    """Give the case to `assignee` (an open case starts being investigated)."""
    case = get_case(uow, case_id)
    if not case.is_open:
        case.check_move(CaseStatus.INVESTIGATING)  # raises: a resolved case is final
    if not assignee.strip():
        raise InvalidInput([FieldProblem("$.assignee", "name who takes the case")])
    status = CaseStatus.INVESTIGATING if case.status is CaseStatus.OPEN else case.status
    updated = replace(case, assignee=assignee, status=status, updated_at=max(case.updated_at, at))
    uow.cases.save_case(updated)
    record_on_case(
        uow,
        updated,
        actor=actor,
        at=at,
        action="case.assigned",
        kind="assign",
        text=f"assigned to {assignee}" + (" (now investigating)" if status != case.status else ""),
        payload={"assignee": assignee, "from": case.assignee, "status": status.value},
    )
    return updated


def add_note(uow: CaseUnitOfWork, case_id: str, text: str, *, actor: str, at: datetime) -> Note:
    """Add a reviewer's note to the case (allowed at any status, resolved included)."""
    case = get_case(uow, case_id)
    if not text.strip():
        raise InvalidInput([FieldProblem("$.text", "a note needs some text")])
    note = Note(case.id, at, actor, text.strip(), "note")
    uow.cases.add_note(note)
    uow.audit.append(
        at=at,
        actor=actor,
        action="case.noted",
        subject=f"case:{case.id}",
        payload={"account_id": case.account_id, "text": note.text},
    )
    return note


def move(
    uow: CaseUnitOfWork, case_id: str, to: CaseStatus, *, actor: str, at: datetime, note: str = ""
) -> Case:
    """Move the case along the workflow (not to resolved: use `resolve`, which needs an
    outcome)."""
    case = get_case(uow, case_id)
    if to is CaseStatus.RESOLVED:
        raise InvalidInput([FieldProblem("$.status", "resolve a case with an outcome (resolve)")])
    case.check_move(to)
    updated = replace(case, status=to, updated_at=max(case.updated_at, at))
    uow.cases.save_case(updated)
    record_on_case(
        uow,
        updated,
        actor=actor,
        at=at,
        action="case.status_changed",
        kind="status",
        text=f"{case.status.value} → {to.value}" + (f": {note}" if note else ""),
        payload={"from": case.status.value, "to": to.value, "note": note},
    )
    return updated


class LabelSource(Protocol):
    """What resolving needs to know about the events of a case's alerts."""

    def rules_fired(self, event_id: str) -> tuple[str, ...]:
        """Active and shadow rules that fired on the event (from its decision trace)."""

    def feature_keys(self, event_id: str) -> tuple[str, ...]:
        """The typed keys an event names that fraud should mark: counterparty, device."""


class FeatureReports(Protocol):
    def add_report(self, keys: Iterable[str], *, source: str, at: datetime) -> None:
        """Queue keys for the feature store's fraud counts (read by every engine)."""


def resolve(
    uow: CaseUnitOfWork,
    case_id: str,
    outcome: CaseOutcome,
    *,
    actor: str,
    at: datetime,
    note: str,
    source: LabelSource,
    reports: FeatureReports,
) -> tuple[Case, list[Label]]:
    """Close the case with an outcome. Its events get labels (training data, per-rule
    precision); confirmed fraud reports the account, its counterparties and devices to the
    feature store."""
    case = get_case(uow, case_id)
    case.check_move(CaseStatus.RESOLVED)
    if not note.strip():
        raise InvalidInput([FieldProblem("$.note", "say why the case is resolved this way")])
    resolved = replace(
        case,
        status=CaseStatus.RESOLVED,
        outcome=outcome.value,
        resolved_at=at,
        updated_at=max(case.updated_at, at),
    )
    uow.cases.save_case(resolved)
    labels: list[Label] = []
    event_ids = list(dict.fromkeys(a.event_id for a in uow.cases.alerts_of(case.id)))
    reported: dict[str, None] = {}
    if outcome is CaseOutcome.FRAUD_CONFIRMED:
        reported[f"c:account:{case.account_id}"] = None
    for event_id in event_ids or [None]:
        keys: tuple[str, ...] = ()
        rules: tuple[str, ...] = ()
        if event_id is not None:
            rules = source.rules_fired(event_id)
            keys = source.feature_keys(event_id)
        if outcome is CaseOutcome.FRAUD_CONFIRMED:
            reported.update(dict.fromkeys(keys))
        label = Label(
            case.id,
            case.account_id,
            event_id,
            outcome.label,
            outcome.value,
            rules,
            keys if outcome is CaseOutcome.FRAUD_CONFIRMED else (),
            at,
            actor,
        )
        uow.cases.add_label(label)
        labels.append(label)
    if reported:
        reports.add_report(reported, source=f"case:{case.id}", at=at)
    record_on_case(
        uow,
        resolved,
        actor=actor,
        at=at,
        action="case.resolved",
        kind="resolve",
        text=f"resolved: {outcome.value}: {note.strip()}",
        payload={
            "outcome": outcome.value,
            "note": note.strip(),
            "labels": len(labels),
            "reported": list(reported),
        },
    )
    return resolved, labels
