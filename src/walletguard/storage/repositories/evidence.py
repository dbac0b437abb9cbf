"""Reading what an evidence package holds about an account or a case."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Connection, Table, select

from walletguard.audit.chain import AuditRecord
from walletguard.evidence.package import Scope
from walletguard.kernel.errors import NotFound, Refused
from walletguard.ledger.model import wallet_account
from walletguard.storage import tables as t
from walletguard.storage.database import Database
from walletguard.storage.repositories.audit import SqlAuditReader

_JSON_COLUMNS = {
    "payload",
    "body",
    "trace",
    "params",
    "rules",
    "feature_keys",
    "approvers",
    "members",
    "patterns",
    "flows",
}
_BINDING_TYPES = ("account_bind", "account_unbind", "device_bind", "device_unbind")


def _plain(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row._mapping.items():
        if isinstance(value, datetime):
            value = value.isoformat()
        elif key in _JSON_COLUMNS and isinstance(value, str):
            value = msgspec.json.decode(value)
        out[key] = value
    return out


def _rows(conn: Connection, table: Table, *where: Any, order: Any) -> list[dict[str, Any]]:
    return [_plain(r) for r in conn.execute(select(table).where(*where).order_by(order))]


def resolve_scope(database: Database, *, account_id: str | None, case_id: str | None) -> Scope:
    """The scope named on the command line (exactly one of account and case)."""
    if (account_id is None) == (case_id is None):
        raise ValueError("name an account or a case")
    if case_id is not None:
        with database.reading() as conn:
            found = conn.execute(
                select(t.cases.c.account_id).where(t.cases.c.id == case_id)
            ).scalar()
        if found is None:
            raise NotFound(f"no case {case_id}")
        return Scope("case", case_id, found)
    assert account_id is not None
    with database.reading() as conn:
        known = (
            conn.execute(
                select(t.decisions.c.event_id)
                .where(t.decisions.c.account_id == account_id)
                .limit(1)
            ).first()
            or conn.execute(
                select(t.accounts.c.account_id).where(t.accounts.c.account_id == account_id)
            ).first()
        )
    if known is None:
        raise NotFound(f"walletguard knows nothing about account {account_id}")
    return Scope("account", account_id, account_id)


def require_sealed(database: Database, scope: Scope) -> None:
    """Refuse to export the scope's decisions if they no longer match their seals (edited,
    deleted or inserted behind the engine's back): the package would sign a forgery. Run
    before the export is recorded, so that a refused export is not recorded as made."""
    d = t.decisions.c
    with database.reading() as conn:
        seqs = list(conn.execute(select(d.seq).where(d.account_id == scope.account_id)).scalars())
    problems = SqlAuditReader(database).decision_problems(seqs)
    if problems:
        raise Refused(
            "; ".join(problems) + " (see `walletguard audit verify`); nothing is exported",
            reason_code="DECISIONS_TAMPERED",
        )


def collect(
    database: Database, scope: Scope
) -> tuple[dict[str, list[dict[str, Any]]], list[AuditRecord]]:
    """The sections of the package and the audit records that cover them."""
    account = scope.account_id
    wallet = wallet_account(account)
    sections: dict[str, list[dict[str, Any]]] = {}
    with database.reading() as conn:
        d = t.decisions.c
        events = []
        for row in conn.execute(
            select(
                d.seq,
                d.event_id,
                d.event_type,
                d.occurred_at,
                d.payload,
                d.payload_hash,
                d.body,
                d.trace,
                d.ruleset_version,
                d.model_version,
            )
            .where(d.account_id == account)
            .order_by(d.seq)
        ):
            plain = _plain(row)
            plain["event"] = plain.pop("payload")
            plain["decision"] = plain.pop("body")
            events.append(plain)
        sections["events"] = events
        sections["bindings"] = [
            {
                "event_id": e["event_id"],
                "occurred_at": e["occurred_at"],
                "type": e["event_type"],
                "binding": e["event"].get("binding"),
                "device": e["event"].get("device") if "device" in e["event_type"] else None,
                "decision": e["decision"].get("decision"),
            }
            for e in events
            if e["event_type"] in _BINDING_TYPES
        ]
        sections["accounts"] = _rows(
            conn, t.accounts, t.accounts.c.account_id == account, order=t.accounts.c.account_id
        )
        sections["account_state_changes"] = _rows(
            conn,
            t.account_state_changes,
            t.account_state_changes.c.account_id == account,
            order=t.account_state_changes.c.id,
        )
        sections["postings"] = _rows(
            conn, t.postings, t.postings.c.account == wallet, order=t.postings.c.id
        )
        sections["holds"] = _rows(conn, t.holds, t.holds.c.account == wallet, order=t.holds.c.id)
        sections["topups"] = _rows(
            conn, t.topups, t.topups.c.account_id == account, order=t.topups.c.requested_at
        )
        notifications = _rows(conn, t.outbox, t.outbox.c.account_id == account, order=t.outbox.c.id)
        ids = [n["id"] for n in notifications]
        deliveries = _rows(
            conn,
            t.notification_deliveries,
            t.notification_deliveries.c.outbox_id.in_(ids),
            order=t.notification_deliveries.c.outbox_id,
        )
        for n in notifications:
            n["deliveries"] = [x for x in deliveries if x["outbox_id"] == n["id"]]
        sections["notifications"] = notifications
        case_filter = (
            t.cases.c.id == scope.id if scope.kind == "case" else t.cases.c.account_id == account
        )
        cases = _rows(conn, t.cases, case_filter, order=t.cases.c.opened_at)
        case_ids = [c["id"] for c in cases]
        sections["cases"] = cases
        sections["alerts"] = _rows(
            conn, t.alerts, t.alerts.c.case_id.in_(case_ids), order=t.alerts.c.created_at
        )
        sections["case_notes"] = _rows(
            conn, t.case_notes, t.case_notes.c.case_id.in_(case_ids), order=t.case_notes.c.id
        )
        sections["case_labels"] = _rows(
            conn, t.case_labels, t.case_labels.c.case_id.in_(case_ids), order=t.case_labels.c.id
        )
        sections["appeals"] = _rows(
            conn, t.appeals, t.appeals.c.account_id == account, order=t.appeals.c.opened_at
        )
        sections["rings"] = _rows(  # members, money flows and picture of a ring case
            conn, t.ring_cases, t.ring_cases.c.case_id.in_(case_ids), order=t.ring_cases.c.case_id
        )
    subjects = {f"account:{account}"}
    subjects.update(f"case:{c}" for c in case_ids)
    subjects.update(f"event:{e['event_id']}" for e in events)
    subjects.update(f"hold:{h['id']}" for h in sections["holds"])
    records = SqlAuditReader(database).for_subjects(subjects)
    return sections, records
