"""One chronological view over the sections of an evidence package."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _line(section: str, row: Mapping[str, Any]) -> dict[str, Any] | None:
    if section == "events":
        decision = row.get("decision") or {}
        reasons = decision.get("reasons") or []
        lead = reasons[0]["message"] if reasons else ""
        return {
            "at": row["occurred_at"],
            "kind": "decision",
            "ref": row["event_id"],
            "summary": f"{row['event_type']} → {decision.get('decision')} "
            f"(score {decision.get('score')}, {decision.get('risk_level')})"
            + (f": {lead}" if lead else ""),
        }
    if section == "account_state_changes":
        return {
            "at": row["at"],
            "kind": "account_state",
            "ref": row.get("event_id") or "",
            "summary": f"{row['from_state']} → {row['to_state']} by {row['actor']}: "
            f"{row['reason']}",
        }
    if section == "postings":
        return {
            "at": row["at"],
            "kind": "ledger_posting",
            "ref": row["transaction_id"],
            "summary": f"{row['account']} {row['amount']:+d} units {row['currency']}",
        }
    if section == "holds":
        return {
            "at": row["created_at"],
            "kind": "hold",
            "ref": row["id"],
            "summary": f"hold of {row['amount']} units {row['currency']} for {row['purpose']}: "
            f"{row['status']}",
        }
    if section == "topups":
        return {
            "at": row["requested_at"],
            "kind": "topup",
            "ref": f"{row['channel']}/{row['channel_ref']}",
            "summary": f"top-up of {row['amount']} units {row['currency']}: {row['status']}",
        }
    if section == "notifications":
        return {
            "at": row["created_at"],
            "kind": "notification",
            "ref": row["dedupe_key"],
            "summary": f"{row['template']}: {row['status']} after {row['attempts']} attempt(s)",
        }
    if section == "case_notes":
        return {
            "at": row["at"],
            "kind": "case_note",
            "ref": row["case_id"],
            "summary": f"{row['author']} ({row['kind']}): {row['text']}",
        }
    if section == "appeals":
        return {
            "at": row["opened_at"],
            "kind": "appeal",
            "ref": row["id"],
            "summary": f"appeal against {row['restriction']}: {row.get('result') or 'open'}",
        }
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
