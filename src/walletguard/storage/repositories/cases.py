"""Cases and their alerts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from walletguard.cases.model import Alert, Case, CaseStatus
from walletguard.storage import tables as t
from walletguard.storage.repositories.base import SqlRepository, cached_lookup, chunks


def case_from_row(row: Any) -> Case:
    return Case(
        id=row.id,
        account_id=row.account_id,
        status=CaseStatus(row.status),
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        max_score=row.max_score,
        amount_at_stake_units=row.amount_at_stake,
        alert_count=row.alert_count,
        assignee=row.assignee,
        outcome=row.outcome,
    )


class SqlCaseRepository(SqlRepository):
    cache_name = "open_cases"

    def open_case_for(self, account_id: str) -> Case | None:
        def load() -> Case | None:
            c = t.cases.c
            stmt = (
                select(t.cases)
                .where(c.account_id == account_id, c.status != CaseStatus.RESOLVED.value)
                .order_by(c.opened_at.desc())
                .limit(1)
            )
            if self.uow.lock_rows:
                stmt = stmt.with_for_update()
            row = self.uow.conn.execute(stmt).first()
            return None if row is None else case_from_row(row)

        return cached_lookup(self.cached, account_id, load)

    def prefetch(self, account_ids: Iterable[str]) -> None:
        """Load the open cases of these accounts in bulk."""
        cached = self.cached
        wanted = [a for a in dict.fromkeys(account_ids) if a not in cached]
        c = t.cases.c
        for batch in chunks(wanted):
            for account_id in batch:
                cached[account_id] = None
            rows = self.uow.conn.execute(
                select(t.cases)
                .where(c.account_id.in_(batch), c.status != CaseStatus.RESOLVED.value)
                .order_by(c.opened_at)
            )
            for row in rows:
                cached[row.account_id] = case_from_row(row)

    def save_case(self, case: Case) -> None:
        self.uow.staging.upsert(
            t.cases,
            (case.id,),
            {
                "id": case.id,
                "account_id": case.account_id,
                "status": case.status.value,
                "opened_at": case.opened_at,
                "updated_at": case.updated_at,
                "max_score": case.max_score,
                "amount_at_stake": case.amount_at_stake_units,
                "alert_count": case.alert_count,
                "assignee": case.assignee,
                "outcome": case.outcome,
            },
        )
        open_case = None if case.status is CaseStatus.RESOLVED else case
        self.uow.staging.remember(self.cached, case.account_id, open_case)

    def add_alert(self, alert: Alert, case_id: str) -> None:
        self.uow.staging.insert(
            t.alerts,
            {
                "id": alert.id,
                "case_id": case_id,
                "account_id": alert.account_id,
                "kind": alert.kind.value,
                "event_id": alert.event_id,
                "risk_level": alert.risk_level,
                "score": alert.score,
                "amount": alert.amount_units,
                "currency": alert.currency,
                "summary": alert.summary,
                "created_at": alert.created_at,
            },
        )
