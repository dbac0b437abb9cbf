"""Cases, their alerts, notes and labels; appeals; fraud reports for the feature store."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import select

from walletguard.cases.appeals import Appeal, AppealResult
from walletguard.cases.model import Alert, AlertKind, Case, CaseStatus, Label, Note
from walletguard.decisions.model import Trace
from walletguard.features.store import EventKeys
from walletguard.kernel.canonical import canonical_json
from walletguard.ledger.model import Hold, wallet_account
from walletguard.storage import tables as t
from walletguard.storage.repositories.base import SqlRepository, among, cached_lookup, chunks
from walletguard.storage.repositories.ledger import hold_from_row

_OPEN_CASES = (
    select(t.cases)
    .where(among(t.cases.c.account_id), t.cases.c.status != CaseStatus.RESOLVED.value)
    .order_by(t.cases.c.opened_at)
)

_trace_decoder = msgspec.json.Decoder(Trace)


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
        risk_level=row.risk_level,
        resolved_at=row.resolved_at,
    )


def alert_from_row(row: Any) -> Alert:
    return Alert(
        id=row.id,
        account_id=row.account_id,
        kind=AlertKind(row.kind),
        event_id=row.event_id,
        risk_level=row.risk_level,
        score=row.score,
        amount_units=row.amount,
        currency=row.currency,
        summary=row.summary,
        created_at=row.created_at,
        case_id=row.case_id,
    )


def note_from_row(row: Any) -> Note:
    return Note(row.case_id, row.at, row.author, row.text, row.kind)


def label_from_row(row: Any) -> Label:
    return Label(
        case_id=row.case_id,
        account_id=row.account_id,
        event_id=row.event_id,
        label=row.label,
        outcome=row.outcome,
        rules=tuple(msgspec.json.decode(row.rules)),
        keys=tuple(msgspec.json.decode(row.feature_keys)),
        created_at=row.created_at,
        created_by=row.created_by,
        id=row.id,
    )


def appeal_from_row(row: Any) -> Appeal:
    return Appeal(
        id=row.id,
        account_id=row.account_id,
        restriction=row.restriction,
        text=row.text,
        opened_at=row.opened_at,
        opened_by=row.opened_by,
        case_id=row.case_id,
        result=AppealResult(row.result) if row.result else None,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        note=row.note,
    )


class SqlCaseRepository(SqlRepository):
    """Implements `cases.model.CaseWorkRepository` and `cases.service.LabelSource`."""

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
                self.uow.claim_accounts([account_id])
                stmt = stmt.with_for_update()
            row = self.uow.conn.execute(stmt).first()
            return None if row is None else case_from_row(row)

        return cached_lookup(self.cached, account_id, load)

    def prefetch(self, account_ids: Iterable[str]) -> None:
        """Load the open cases of these accounts in bulk."""
        cached = self.cached
        wanted = [a for a in dict.fromkeys(account_ids) if a not in cached]
        for batch in chunks(wanted):
            for account_id in batch:
                cached[account_id] = None
            for row in self.uow.conn.execute(_OPEN_CASES, {"values": batch}):
                cached[row.account_id] = case_from_row(row)

    @property
    def _by_id(self) -> dict[str, Case | None]:
        return self.uow.cache.map("uow:cases")

    def get(self, case_id: str) -> Case | None:
        def load() -> Case | None:
            stmt = select(t.cases).where(t.cases.c.id == case_id)
            if self.uow.lock_rows:
                self.uow.claim_owners_of(t.cases.c.account_id, where=t.cases.c.id == case_id)
                stmt = stmt.with_for_update()
            row = self.uow.conn.execute(stmt).first()
            return None if row is None else case_from_row(row)

        return cached_lookup(self._by_id, case_id, load)

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
                "risk_level": case.risk_level,
                "resolved_at": case.resolved_at,
            },
        )
        open_case = None if case.status is CaseStatus.RESOLVED else case
        self.uow.staging.remember(self.cached, case.account_id, open_case)
        self.uow.staging.remember(self._by_id, case.id, case)

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

    # -- reading for the queue and case work (flushes what is staged first) ------------

    def _read(self) -> Any:
        self.uow.flush()
        return self.uow.conn

    def alerts_of(self, case_id: str) -> list[Alert]:
        a = t.alerts.c
        rows = self._read().execute(
            select(t.alerts).where(a.case_id == case_id).order_by(a.created_at, a.id)
        )
        return [alert_from_row(r) for r in rows]

    def list_cases(
        self,
        *,
        open_only: bool = True,
        assignee: str | None = None,
        account_id: str | None = None,
        limit: int | None = None,
    ) -> list[Case]:
        c = t.cases.c
        stmt = select(t.cases).order_by(c.opened_at)
        if open_only:
            stmt = stmt.where(c.status != CaseStatus.RESOLVED.value)
        if assignee is not None:
            stmt = stmt.where(c.assignee == assignee)
        if account_id is not None:
            stmt = stmt.where(c.account_id == account_id)
        if limit is not None:
            stmt = stmt.limit(limit)
        return [case_from_row(r) for r in self._read().execute(stmt)]

    def add_note(self, note: Note) -> None:
        self.uow.staging.insert(
            t.case_notes,
            {
                "case_id": note.case_id,
                "at": note.at,
                "author": note.author,
                "kind": note.kind,
                "text": note.text,
            },
        )

    def notes_of(self, case_id: str) -> list[Note]:
        n = t.case_notes.c
        rows = self._read().execute(select(t.case_notes).where(n.case_id == case_id).order_by(n.id))
        return [note_from_row(r) for r in rows]

    def add_label(self, label: Label) -> None:
        self.uow.staging.insert(
            t.case_labels,
            {
                "case_id": label.case_id,
                "account_id": label.account_id,
                "event_id": label.event_id,
                "label": label.label,
                "outcome": label.outcome,
                "rules": canonical_json(list(label.rules)).decode(),
                "feature_keys": canonical_json(list(label.keys)).decode(),
                "created_at": label.created_at,
                "created_by": label.created_by,
            },
        )

    def labels(self, *, case_id: str | None = None) -> list[Label]:
        lc = t.case_labels.c
        stmt = select(t.case_labels).order_by(lc.id)
        if case_id is not None:
            stmt = stmt.where(lc.case_id == case_id)
        return [label_from_row(r) for r in self._read().execute(stmt)]

    def add_report(self, keys: Iterable[str], *, source: str, at: datetime) -> None:
        self.uow.staging.insert(
            t.feature_reports,
            {
                "feature_keys": canonical_json(list(keys)).decode(),
                "source": source,
                "created_at": at,
            },
        )

    def holds_of(self, account_id: str) -> list[Hold]:
        """The holds on the account's wallet, newest first (what a reviewer may act on)."""
        h = t.holds.c
        rows = self._read().execute(
            select(t.holds)
            .where(h.account == wallet_account(account_id))
            .order_by(h.created_at.desc())
        )
        return [hold_from_row(r) for r in rows]

    # -- LabelSource ---------------------------------------------------------------------

    def rules_fired(self, event_id: str) -> tuple[str, ...]:
        row = (
            self._read()
            .execute(select(t.decisions.c.trace).where(t.decisions.c.event_id == event_id))
            .first()
        )
        if row is None:
            return ()
        return tuple(hit.rule for hit in _trace_decoder.decode(row.trace).hits)

    def feature_keys(self, event_id: str) -> tuple[str, ...]:
        event = self.uow.events.get(event_id)
        if event is None:
            return ()
        keys = EventKeys(event)
        return tuple(k for k in (keys.counterparty, keys.device) if k is not None)


class SqlAppealRepository(SqlRepository):
    cache_name = "uow:appeals"

    def get_appeal(self, appeal_id: str) -> Appeal | None:
        def load() -> Appeal | None:
            stmt = select(t.appeals).where(t.appeals.c.id == appeal_id)
            if self.uow.lock_rows:
                stmt = stmt.with_for_update()
            row = self.uow.conn.execute(stmt).first()
            return None if row is None else appeal_from_row(row)

        return cached_lookup(self.cached, appeal_id, load)

    def save_appeal(self, appeal: Appeal) -> None:
        self.uow.staging.upsert(
            t.appeals,
            (appeal.id,),
            {
                "id": appeal.id,
                "account_id": appeal.account_id,
                "restriction": appeal.restriction,
                "text": appeal.text,
                "opened_at": appeal.opened_at,
                "opened_by": appeal.opened_by,
                "case_id": appeal.case_id,
                "result": appeal.result.value if appeal.result else None,
                "resolved_at": appeal.resolved_at,
                "resolved_by": appeal.resolved_by,
                "note": appeal.note,
            },
        )
        self.uow.staging.remember(self.cached, appeal.id, appeal)

    def open_appeal_for(self, account_id: str) -> Appeal | None:
        self.uow.flush()
        a = t.appeals.c
        stmt = select(t.appeals).where(a.account_id == account_id, a.result.is_(None)).limit(1)
        if self.uow.lock_rows:
            stmt = stmt.with_for_update()
        row = self.uow.conn.execute(stmt).first()
        return None if row is None else appeal_from_row(row)

    def list_appeals(self, *, open_only: bool = False) -> list[Appeal]:
        self.uow.flush()
        a = t.appeals.c
        stmt = select(t.appeals).order_by(a.opened_at)
        if open_only:
            stmt = stmt.where(a.result.is_(None))
        return [appeal_from_row(r) for r in self.uow.conn.execute(stmt)]
