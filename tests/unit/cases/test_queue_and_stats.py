"""The queue's order and per-rule precision, on plain values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from walletguard.cases.model import Case, CaseStatus, Label
from walletguard.cases.queue import order_queue
from walletguard.cases.stats import rule_precision
from walletguard.kernel.errors import IllegalTransition

NOW = datetime(2026, 3, 10, tzinfo=UTC)


def case(
    id_: str,
    *,
    score: int = 600,
    major: int = 0,
    hours_old: float = 1,
    level: str = "high",
    status: CaseStatus = CaseStatus.OPEN,
) -> Case:
    opened = NOW - timedelta(hours=hours_old)
    return Case(id_, "acct", status, opened, opened, score, major * 10_000, 1, risk_level=level)


def test_riskier_richer_and_overdue_cases_come_first() -> None:
    ranked = order_queue(
        [
            case("quiet", score=300, level="medium"),
            case("risky", score=900, level="critical"),
            case("rich", score=300, major=20_000, level="medium"),
            case("overdue", score=300, level="medium", hours_old=100),
            case("done", score=1000, status=CaseStatus.RESOLVED),
        ],
        NOW,
    )
    order = [e.case.id for e in ranked]
    assert order[-1] == "quiet"
    assert "done" not in order
    assert set(order[:3]) == {"risky", "rich", "overdue"}
    overdue = next(e for e in ranked if e.case.id == "overdue")
    assert overdue.overdue(NOW)


def test_the_same_case_rises_as_its_deadline_nears() -> None:
    young, old = (
        order_queue([case("x", hours_old=1)], NOW),
        order_queue([case("x", hours_old=23)], NOW),
    )
    assert old[0].priority > young[0].priority


def test_the_workflow_refuses_skipping_back() -> None:
    with pytest.raises(IllegalTransition, match="investigating, resolved"):
        case("x").check_move(CaseStatus.WAITING_CUSTOMER)
    with pytest.raises(IllegalTransition):
        case("x", status=CaseStatus.RESOLVED).check_move(CaseStatus.INVESTIGATING)


def label(outcome: str, kind: str, *rules: str) -> Label:
    return Label("c", "a", "e", kind, outcome, rules, (), NOW, "ann")


def test_precision_counts_fraud_against_false_positives_only() -> None:
    stats = {
        s.rule: s
        for s in rule_precision(
            [
                label("fraud_confirmed", "fraud", "r1", "r2"),
                label("fraud_confirmed", "fraud", "r1"),
                label("false_positive", "legit", "r1", "r2"),
                label("inconclusive", "unknown", "r2"),
            ]
        )
    }
    assert stats["r1"].precision == pytest.approx(2 / 3)
    assert (stats["r2"].fraud, stats["r2"].legit, stats["r2"].unknown) == (1, 1, 1)
    assert rule_precision([label("inconclusive", "unknown", "r3")])[0].precision is None
