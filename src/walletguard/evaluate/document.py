"""An evaluation as plain JSON data (`walletguard evaluate --json`, the demo's summary).

Amounts are decimal strings in the currency's major unit (never floats); shares are
fractions between 0 and 1 rounded to six places; times are RFC 3339 UTC.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from walletguard.evaluate.service import Evaluation
from walletguard.kernel.money import format_amount, from_units


def money(units: int) -> str:
    return format_amount(from_units(units))


def share(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def evaluation_document(ev: Evaluation) -> dict[str, Any]:
    f = ev.friction
    op = ev.operating
    lat = ev.latency
    return {
        "ruleset_version": ev.ruleset_version,
        "window": None
        if ev.window is None
        else {"start": _time(ev.window[0]), "end": _time(ev.window[1])},
        "events": ev.events,
        "invalid_lines": ev.errors,
        "decisions": dict(sorted(ev.decisions.items())),
        "seconds": round(ev.seconds, 3),
        "cpu_seconds": round(ev.cpu_seconds, 3),
        "events_per_second": round(ev.events_per_second, 1),
        "targets": [
            {"name": t.name, "goal": t.goal, "measured": share(t.measured), "met": t.met}
            for t in ev.targets
        ],
        "detection": [
            {
                "flagged_when": d.flagged_when,
                "flagged": d.flagged,
                "true_positives": d.true_positives,
                "false_positives": d.false_positives,
                "false_negatives": d.false_negatives,
                "true_negatives": d.true_negatives,
                "precision": share(d.precision),
                "recall": share(d.recall),
                "false_positive_rate": share(d.false_positive_rate),
            }
            for d in ev.detection
        ],
        "typologies": [
            {
                "typology": t.typology,
                "campaigns": t.campaigns,
                "detected": t.detected,
                "cash_out_attempted": t.cash_out_attempted,
                "stopped": t.stopped,
                "partly_stopped": t.partly,
                "missed": t.missed,
                "no_cash_out": t.no_cash_out,
                "labelled_events": t.labelled_events,
                "money_at_risk": money(t.money_at_risk),
                "money_tried": money(t.tried),
                "money_left": money(t.left),
                "money_stopped": money(t.stopped_money),
                "share_stopped": share(t.share_stopped),
                "median_minutes_to_first_stop": _round(t.median_minutes_to_stop),
                "p90_minutes_to_first_stop": _round(t.p90_minutes_to_stop),
            }
            for t in ev.typologies
        ],
        "campaigns": [
            {
                "campaign_id": c.campaign_id,
                "typology": c.typology,
                "started_at": _time(c.started_at),
                "outcome": c.outcome,
                "events": c.events,
                "money_at_risk": money(c.money_at_risk),
                "money_tried": money(c.tried),
                "money_left": money(c.left),
                "first_stop_at": _time(c.first_stop),
                "first_stop_event": c.first_stop_event,
                "minutes_to_first_stop": _round(c.minutes_to_first_stop),
            }
            for c in ev.campaigns
        ],
        "friction": {
            "legitimate_users": f.users,
            "bystanders": f.bystanders,
            "users_challenged": f.challenged,
            "users_held": f.held,
            "users_blocked": f.blocked,
            "users_challenged_or_held": f.challenged_or_held,
            "share_challenged_or_held": share(f.share_challenged_or_held),
            "bystanders_challenged_or_held": f.bystanders_challenged_or_held,
            "share_challenged": share(f.share_challenged),
            "share_held": share(f.share_held),
            "share_blocked": share(f.share_blocked),
            "events": f.events,
            "events_challenged": f.events_challenged,
            "events_held": f.events_held,
            "events_blocked": f.events_blocked,
            "money_movements": f.money_movements,
            "money_movements_blocked": f.money_movements_blocked,
            "money_movements_held": f.money_movements_held,
            "share_money_movements_blocked": share(f.share_money_blocked),
            "money_movements_blocked_by_risk": f.money_movements_blocked_by_risk,
            "share_money_movements_blocked_by_risk": share(f.share_money_blocked_by_risk),
            "money_movements_refused_by_ledger": f.money_movements_refused_by_ledger,
            "block_reasons": dict(f.block_reasons.most_common()),
            "hold_reasons": dict(f.hold_reasons.most_common()),
            "challenge_reasons": dict(f.challenge_reasons.most_common()),
        },
        "latency": {
            "samples": lat.samples,
            "p50_us": _round(lat.p50_us),
            "p99_us": _round(lat.p99_us),
            "mean_us": _round(lat.mean_us),
        },
        "rules": [
            {
                "rule": r.rule,
                "mode": r.mode,
                "hits": r.hits,
                "malicious": r.malicious,
                "legit": r.legit,
                "legit_users": len(r.legit_users),
                "precision": share(r.precision),
                "typologies": dict(sorted(r.typologies.items())),
            }
            for r in ev.rules
        ],
        "operating": {
            "new_accounts": op.new_accounts,
            "new_account_anomaly_rate": share(op.new_account_anomaly_rate),
            "topups": op.topups,
            "topup_anomaly_ratio": share(op.topup_anomaly_ratio),
            "withdrawals": op.withdrawals,
            "withdrawal_anomaly_ratio": share(op.withdrawal_anomaly_ratio),
            "confirmed_topups": op.confirmed_topups,
            "chargebacks": op.chargebacks,
            "chargeback_rate": share(op.chargeback_rate),
            "chargeback_amount_rate": share(op.chargeback_amount_rate),
            "restricted_accounts": op.restricted_accounts,
            "appeals": op.appeals,
            "appeals_resolved": op.appeals_resolved,
            "appeal_rate": share(op.appeal_rate),
            "mean_hours_to_unlock": _round(op.mean_hours_to_unlock),
            "unlocked_by_people": len(op.unlock_hours or []),
            "lockouts_ended": len(op.lockout_hours or []),
            "still_restricted": op.still_restricted,
        },
        "step_ups": step_up_table(ev),
        "cases": ev.cases,
        "support": None
        if ev.support is None
        else {
            "appeals": ev.support.appeals,
            "lifted": ev.support.lifted,
            "nothing_to_do": ev.support.nothing_to_do,
            "problems": ev.support.problems,
        },
    }


def step_up_table(ev: Evaluation) -> list[dict[str, Any]]:
    """Answers by who answered and the method asked: how many, how many passed."""
    asked: Counter[tuple[str, str, str]] = Counter()
    passed: Counter[tuple[str, str, str]] = Counter()
    for a in ev.step_ups:
        key = (a.who, a.typology or "", a.method)
        asked[key] += 1
        passed[key] += a.success
    return [
        {
            "who": who,
            "typology": typology or None,
            "method": method,
            "answers": n,
            "passed": passed[(who, typology, method)],
        }
        for (who, typology, method), n in sorted(asked.items())
    ]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
