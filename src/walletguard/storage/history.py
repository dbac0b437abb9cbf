"""Reading stored history in bulk: decided events and the labels they carry.

For batch work (training, ring scans), not the per-event path: rows are streamed in
arrival order (`decisions.seq`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select

from walletguard.events.decode import decode_event
from walletguard.events.model import LABELS, WalletEvent
from walletguard.scoring.labels import Label, LabelSource
from walletguard.storage import tables as t
from walletguard.storage.database import Database

CASE_OUTCOMES = {"fraud_confirmed": True, "false_positive": False}


def decided_events(
    database: Database,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    types: set[str] | None = None,
) -> Iterator[tuple[WalletEvent, str]]:
    """`(event, decision)` for every stored event in the range, in arrival order."""
    c = t.decisions.c
    stmt = select(c.payload, c.decision).order_by(c.seq)
    if since is not None:
        stmt = stmt.where(c.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(c.occurred_at < until)
    if types is not None:
        stmt = stmt.where(c.event_type.in_(sorted(types)))
    with database.reading() as conn:
        for row in conn.execution_options(yield_per=2000).execute(stmt):
            yield decode_event(row.payload), row.decision


def stored_labels(database: Database) -> list[Label]:
    """Labels in the database: chargebacks and fraud reports (known when they arrived)
    and case outcomes (known when the case was last updated), for the events alerted."""
    c = t.decisions.c
    found: list[Label] = []
    with database.reading() as conn:
        rows = conn.execute(
            select(c.payload).where(c.event_type.in_(sorted(e.value for e in LABELS)))
        )
        for row in rows:
            event = decode_event(row.payload)
            if event.ref_event_id is not None:
                found.append(
                    Label(event.ref_event_id, True, event.ts, LabelSource(event.type.value))
                )
        cases, alerts = t.cases.c, t.alerts.c
        rows = conn.execute(
            select(alerts.event_id, cases.outcome, cases.updated_at)
            .select_from(t.alerts.join(t.cases, cases.id == alerts.case_id))
            .where(cases.outcome.in_(sorted(CASE_OUTCOMES)), alerts.event_id.is_not(None))
        )
        for row in rows:
            found.append(
                Label(
                    row.event_id,
                    CASE_OUTCOMES[row.outcome],
                    row.updated_at.timestamp(),
                    LabelSource.CASE,
                )
            )
    return found


def latest_event_time(database: Database) -> datetime | None:
    from sqlalchemy import func

    with database.reading() as conn:
        value: datetime | None = conn.execute(select(func.max(t.decisions.c.occurred_at))).scalar()
    return value


def model_scores(database: Database, event_ids: list[str]) -> dict[str, float]:
    """The champion's probability stored in the trace of each of these decided events."""
    import msgspec

    c = t.decisions.c
    found: dict[str, float] = {}
    with database.reading() as conn:
        for i in range(0, len(event_ids), 500):
            rows = conn.execute(
                select(c.event_id, c.trace).where(c.event_id.in_(event_ids[i : i + 500]))
            )
            for row in rows:
                score = msgspec.json.decode(row.trace).get("model_score")
                if score is not None:
                    found[row.event_id] = float(score)
    return found
