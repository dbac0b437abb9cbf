"""The evaluation's measures on small hand-made runs: what counts as stopped, as money
that left, as friction, and how operating metrics are counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from walletguard.evaluate.detection import detection_table
from walletguard.evaluate.friction import friction
from walletguard.evaluate.observe import Observation
from walletguard.evaluate.operating import operating_metrics
from walletguard.evaluate.ports import AppealFact, StateChange
from walletguard.evaluate.truth import Campaign, EventLabel, GroundTruth
from walletguard.evaluate.typologies import by_typology, campaign_outcomes
from walletguard.events.model import EventType

START = datetime(2026, 3, 2, tzinfo=UTC)
_ids = iter(range(1, 10_000))


def obs(
    type_: str,
    account: str = "alice",
    *,
    minutes: float = 0,
    amount: str = "0",
    label: tuple[str, str, str] | None = None,
    decision: str = "allow",
    level: str = "none",
    outcome: str | None = None,
    codes: tuple[str, ...] = (),
    guard: str | None = None,
    auth_failed: bool = False,
    in_window: bool = True,
    **extra: Any,
) -> Observation:
    n = next(_ids)
    default = {"allow": "allowed", "challenge": "passed", "review": "held", "block": "blocked"}
    return Observation(
        index=n,
        event_id=f"e{n}",
        type=EventType(type_),
        account_id=account,
        at=START + timedelta(minutes=minutes),
        amount=int(float(amount) * 10_000),
        label=EventLabel(*label) if label else None,
        in_window=in_window,
        auth_failed=auth_failed,
        decision=decision,
        level=level,
        score=0,
        codes=codes,
        outcome=outcome or default[decision],
        guard=guard,
        **extra,
    )


def campaign(cid: str, typology: str, roles: dict[str, tuple[str, ...]]) -> Campaign:
    accounts = tuple(a for members in roles.values() for a in members)
    return Campaign(cid, typology, START, accounts, roles, 5_000_0000, "CNY")


def test_money_left_is_what_cash_outs_took_out_and_transfers_are_not_cash_outs() -> None:
    ato = ("c1", "account_takeover", "cash_out")
    mule = ("c2", "mule_ring", "layering")
    observations = [
        obs("withdrawal", "victim", minutes=10, amount="300", label=ato),
        obs("withdrawal", "victim", minutes=12, amount="200", label=ato, decision="block"),
        obs("transfer", "mule-1", minutes=5, amount="900", label=mule),
        obs(
            "withdrawal",
            "mule-2",
            minutes=30,
            amount="900",
            label=(*mule[:2], "cash_out"),
            decision="review",
            level="high",
        ),
    ]
    truth = GroundTruth(
        labels={o.event_id: o.label for o in observations if o.label},
        campaigns={
            "c1": campaign("c1", "account_takeover", {"victim": ("victim",)}),
            "c2": campaign("c2", "mule_ring", {"mule": ("mule-1", "mule-2")}),
            "c3": campaign("c3", "cs_scam", {"mule": ("m3",)}),
        },
    )
    outcomes = {c.campaign_id: c for c in campaign_outcomes(observations, truth)}
    assert (outcomes["c1"].tried, outcomes["c1"].left, outcomes["c1"].outcome) == (
        500_0000,
        300_0000,
        "partly",
    )
    assert (outcomes["c2"].tried, outcomes["c2"].left, outcomes["c2"].outcome) == (
        900_0000,
        0,
        "stopped",
    )
    assert outcomes["c3"].outcome == "no_cash_out"
    rows = {
        r.typology: r
        for r in by_typology(
            list(outcomes.values()), ["account_takeover", "mule_ring", "cs_scam", "sim_swap"]
        )
    }
    assert rows["account_takeover"].share_stopped == pytest.approx(0.4)
    assert rows["mule_ring"].share_stopped == 1.0
    assert rows["cs_scam"].share_stopped is None
    assert rows["sim_swap"].campaigns == 0


def test_a_failed_password_guess_is_not_a_stop_the_blocked_withdrawal_is() -> None:
    ato = ("c1", "account_takeover", "credential_stuffing")
    observations = [
        obs(
            "login",
            "victim",
            minutes=1,
            label=ato,
            decision="block",
            level="high",
            auth_failed=True,
        ),
        obs("login", "victim", minutes=20, label=(*ato[:2], "takeover_login")),
        obs(
            "withdrawal",
            "victim",
            minutes=45,
            amount="50",
            label=(*ato[:2], "cash_out"),
            decision="challenge",
            level="medium",
            outcome="failed",
        ),
    ]
    truth = GroundTruth(
        labels={o.event_id: o.label for o in observations if o.label},
        campaigns={"c1": campaign("c1", "account_takeover", {"victim": ("victim",)})},
    )
    [outcome] = campaign_outcomes(observations, truth)
    assert outcome.first_stop_event == observations[2].event_id
    assert outcome.minutes_to_first_stop == pytest.approx(45)
    assert outcome.outcome == "stopped"


def test_friction_counts_customers_own_events_not_attacks_on_them_nor_fraudsters() -> None:
    truth = GroundTruth(
        campaigns={"c1": campaign("c1", "mule_ring", {"mule": ("mule",), "victim": ("vic",)})}
    )
    stolen = obs("login", "vic", label=("c1", "mule_ring", "victim_login"), decision="block")
    truth.labels[stolen.event_id] = stolen.label  # type: ignore[assignment]
    observations = [
        obs("payment", "bob", amount="10"),
        obs("payment", "bob", amount="10", decision="challenge", level="medium"),
        obs("password_reset_request", "carol", decision="challenge", level="none"),
        obs(
            "payment",
            "vic",
            amount="10",
            decision="block",
            guard="ACCOUNT_FROZEN",
            codes=("ACCOUNT_FROZEN",),
        ),
        obs(
            "payment",
            "dan",
            amount="90000",
            decision="block",
            guard="LIMIT_PER_TRANSACTION_PAYMENT",
            codes=("LIMIT_PER_TRANSACTION_PAYMENT",),
        ),
        obs(
            "withdrawal",
            "erin",
            amount="10",
            decision="review",
            level="high",
            codes=("FAILED_STEP_UPS",),
        ),
        obs("withdrawal", "mule", amount="10", decision="review", level="high"),
        obs("payment", "frank", amount="10", decision="block", in_window=False),
        stolen,
    ]
    f = friction(observations, truth)
    assert f.users == 5  # bob carol vic dan erin: frank acted only outside the window, mule is out
    assert f.challenged == 1  # bob; carol's reset check is routine
    assert f.held == 1  # erin
    assert f.challenged_or_held == 2
    assert f.money_movements == 5
    assert f.money_movements_blocked == 2
    assert f.money_movements_refused_by_ledger == 1
    assert f.money_movements_blocked_by_risk == 1
    assert f.block_reasons["ACCOUNT_FROZEN"] == 1
    assert f.bystanders == 4  # vic is a campaign's victim


def test_precision_and_recall_by_risk_level() -> None:
    bad = ("c1", "card_testing", "probe")
    observations = [
        obs("topup", label=bad, level="high", decision="block"),
        obs("topup", label=bad, level="low"),
        obs("topup", level="medium", decision="challenge"),
        obs("topup"),
        obs("topup"),
        obs("topup", label=bad, level="critical", in_window=False),
    ]
    rows = {d.flagged_when: d for d in detection_table(observations)}
    low, medium, high = rows["risk ≥ low"], rows["risk ≥ medium"], rows["risk ≥ high"]
    assert (low.true_positives, low.false_positives, low.false_negatives) == (2, 1, 0)
    assert (medium.precision, medium.recall) == pytest.approx((0.5, 0.5))
    assert (high.precision, high.recall, high.false_positive_rate) == pytest.approx((1, 0.5, 0))
    intervened = rows["decision ≠ allow"]
    assert intervened.false_positive_rate == pytest.approx(1 / 3)


def test_operating_metrics_unlock_times_appeals_and_anomaly_ratios() -> None:
    hour = timedelta(hours=1)
    observations = [
        obs("register", "new-1"),
        obs("login", "new-1", level="medium", decision="challenge"),
        obs("register", "new-2"),
        obs("topup", "bob", channel_ref="r1"),
        obs(
            "topup_confirmation",
            "bob",
            amount="100",
            channel_ref="r1",
            decision="block",
            level="critical",
        ),
        obs("topup", "carol", channel_ref="r2"),
        obs("topup_confirmation", "carol", amount="300", channel_ref="r2"),
        obs(
            "topup_confirmation",
            "x",
            amount="100",
            channel_ref="r3",
            label=("c9", "card_testing", "charge_confirmation"),
        ),
        obs("withdrawal", "bob", decision="review", level="high"),
        obs("withdrawal", "carol"),
    ]
    changes = [
        StateChange("bob", "active", "frozen", START, "rule:x"),
        StateChange("bob", "frozen", "active", START + 6 * hour, "analyst:a"),
        StateChange("carol", "active", "restricted", START, "rule:y"),
    ]
    appeals = [AppealFact("bob", "frozen", START + hour, START + 6 * hour, "lifted")]
    m = operating_metrics(
        observations,
        state_changes=changes,
        appeals=appeals,
        suspected_topups=set(),
        lockouts=[("dan", START, START + timedelta(minutes=15))],
        window=(START - hour, START + 7 * 24 * hour),
        ended_at=START + 7 * 24 * hour,
    )
    assert m.new_account_anomaly_rate == 0.5
    assert m.topup_anomaly_ratio == 0.5
    assert m.withdrawal_anomaly_ratio == 0.5
    assert (m.chargebacks, m.confirmed_topups) == (1, 2)
    assert m.restricted_accounts == 3  # bob, carol, dan
    assert m.appeal_rate == pytest.approx(1 / 3)
    assert m.mean_hours_to_unlock == pytest.approx((6 + 0.25) / 2)
    assert m.still_restricted == 1  # carol
