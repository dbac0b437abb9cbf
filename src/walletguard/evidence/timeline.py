"""One chronological view over the sections of an evidence package."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _entry(at: Any, kind: str, ref: Any, summary: str) -> dict[str, Any]:
    """A timeline line: when, what kind of item, which record, and what happened."""
    return {"at": at, "kind": kind, "ref": ref, "summary": summary}


def _line(section: str, row: Mapping[str, Any]) -> dict[str, Any] | None:
    if section == "events":
        decision = row.get("decision") or {}
        reasons = decision.get("reasons") or []
        lead = reasons[0]["message"] if reasons else ""
        summary = (
            f"{row['event_type']} → {decision.get('decision')} "
            f"(score {decision.get('score')}, {decision.get('risk_level')})"
            + (f": {lead}" if lead else "")
        )
        return _entry(row["occurred_at"], "decision", row["event_id"], summary)
    if section == "account_state_changes":
        summary = f"{row['from_state']} → {row['to_state']} by {row['actor']}: {row['reason']}"
        return _entry(row["at"], "account_state", row.get("event_id") or "", summary)
    if section == "postings":
        summary = f"{row['account']} {row['amount']:+d} units {row['currency']}"
        return _entry(row["at"], "ledger_posting", row["transaction_id"], summary)
    if section == "holds":
        summary = (
            f"hold of {row['amount']} units {row['currency']} for {row['purpose']}: {row['status']}"
        )
        return _entry(row["created_at"], "hold", row["id"], summary)
    if section == "topups":
        summary = f"top-up of {row['amount']} units {row['currency']}: {row['status']}"
        ref = f"{row['channel']}/{row['channel_ref']}"
        return _entry(row["requested_at"], "topup", ref, summary)
    if section == "notifications":
        summary = f"{row['template']}: {row['status']} after {row['attempts']} attempt(s)"
        return _entry(row["created_at"], "notification", row["dedupe_key"], summary)
    if section == "case_notes":
        summary = f"{row['author']} ({row['kind']}): {row['text']}"
        return _entry(row["at"], "case_note", row["case_id"], summary)
    if section == "rings":
        summary = f"suspected ring of {len(row['members'])} wallets: {', '.join(row['patterns'])}"
        return _entry(row["detected_at"], "ring", row["case_id"], summary)
    if section == "appeals":
        summary = f"appeal against {row['restriction']}: {row.get('result') or 'open'}"
        return _entry(row["opened_at"], "appeal", row["id"], summary)
    return None


def build_timeline(sections: Mapping[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every dated item of every section, oldest first."""
    lines = [
        line
        for section, rows in sections.items()
        for row in rows
        if (line := _line(section, row)) is not None
    ]
    lines.sort(key=lambda line: (str(line["at"]), line["kind"], str(line["ref"])))
    return lines
