"""Raising alerts: each joins the account's open case, or opens a new one."""

from __future__ import annotations

from dataclasses import replace

from walletguard.cases.model import Alert, Case, CaseRepository, CaseStatus


def raise_alert(repo: CaseRepository, alert: Alert) -> tuple[Case, bool]:
    """File `alert` under the account's open case (opening one if needed).
    Returns the case and whether it was newly opened."""
    case = repo.open_case_for(alert.account_id)
    opened = case is None
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
        )
    else:
        case = replace(
            case,
            updated_at=alert.created_at,
            max_score=max(case.max_score, alert.score),
            amount_at_stake_units=case.amount_at_stake_units + alert.amount_units,
            alert_count=case.alert_count + 1,
        )
    repo.save_case(case)
    repo.add_alert(alert, case.id)
    return case, opened
