"""Who answers a challenge during an evaluation, and whether they pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support import EventFactory
from walletguard.decisions.model import Decision
from walletguard.evaluate.stepups import StepUpResponder
from walletguard.evaluate.truth import Campaign, EventLabel, GroundTruth
from walletguard.events.decode import decode_event
from walletguard.events.model import EventType, WalletEvent


def challenge(event: WalletEvent, method: str, challenge_id: str = "ch-1") -> Decision:
    return Decision(
        event_id=event.event_id,
        decision="challenge",
        risk_level="medium",
        score=400,
        reasons=[],
        actions=["hold_funds", f"step_up:{method}"],
        account_state="active",
        ruleset_version="test",
        model_version=None,
        challenge_id=challenge_id,
    )


def truth_with(
    event_id: str, typology: str, stage: str, roles: dict[str, tuple[str, ...]]
) -> GroundTruth:
    accounts = tuple(a for members in roles.values() for a in members)
    return GroundTruth(
        labels={event_id: EventLabel("c-1", typology, stage)},
        campaigns={
            "c-1": Campaign(
                "c-1", typology, datetime(2026, 3, 1, tzinfo=UTC), accounts, roles, 0, "CNY"
            )
        },
    )


@pytest.fixture
def withdrawal() -> WalletEvent:
    return decode_event(EventFactory().withdraw("alice", amount="900.00"))


def test_a_customer_passes_shortly_after_on_the_same_device(withdrawal: WalletEvent) -> None:
    responder = StepUpResponder(GroundTruth())
    [answer] = responder.follow(withdrawal, challenge(withdrawal, "sms_otp"))
    assert answer.type is EventType.STEP_UP_RESULT
    assert answer.step_up is not None
    assert (answer.step_up.challenge_id, answer.step_up.method, answer.step_up.success) == (
        "ch-1",
        "sms_otp",
        True,
    )
    assert answer.account_id == "alice"
    assert answer.device_id == withdrawal.device_id
    delay = answer.occurred_at - withdrawal.occurred_at
    assert timedelta(seconds=30) <= delay <= timedelta(seconds=90)
    assert responder.answers[0].who == "owner"


def test_an_intruder_fails_every_attempt_until_the_challenge_is_used_up(
    withdrawal: WalletEvent,
) -> None:
    truth = truth_with(withdrawal.event_id, "account_takeover", "cash_out", {"victim": ("alice",)})
    responder = StepUpResponder(truth)
    [first] = responder.follow(withdrawal, challenge(withdrawal, "sms_otp"))
    assert first.step_up is not None
    assert not first.step_up.success
    # the engine asks again (same challenge): the intruder tries again and fails again
    [second] = responder.follow(first, challenge(first, "sms_otp"))
    assert second.step_up is not None
    assert not second.step_up.success
    assert second.event_id != first.event_id
    assert second.occurred_at > first.occurred_at
    assert [a.who for a in responder.answers] == ["intruder", "intruder"]


@pytest.mark.parametrize(("method", "passes"), [("sms_otp", True), ("face", False)])
def test_after_a_sim_swap_the_intruder_holds_the_sms_codes_but_not_the_face(
    withdrawal: WalletEvent, method: str, passes: bool
) -> None:
    truth = truth_with(withdrawal.event_id, "sim_swap", "cash_out", {"victim": ("alice",)})
    [answer] = StepUpResponder(truth).follow(withdrawal, challenge(withdrawal, method))
    assert answer.step_up is not None
    assert answer.step_up.success is passes


@pytest.mark.parametrize(
    ("stage", "roles", "who"),
    [
        ("victim_payment", {"victim": ("alice",)}, "victim"),
        ("cash_out", {"mule": ("alice",)}, "fraudster"),
    ],
)
def test_a_deceived_victim_and_a_fraudster_on_their_own_wallet_pass(
    withdrawal: WalletEvent, stage: str, roles: dict[str, tuple[str, ...]], who: str
) -> None:
    truth = truth_with(withdrawal.event_id, "mule_ring", stage, roles)
    responder = StepUpResponder(truth)
    [answer] = responder.follow(withdrawal, challenge(withdrawal, "face"))
    assert answer.step_up is not None
    assert answer.step_up.success
    assert responder.answers[0].who == who


def test_a_manual_review_takes_hours(withdrawal: WalletEvent) -> None:
    [answer] = StepUpResponder(GroundTruth()).follow(
        withdrawal, challenge(withdrawal, "manual_kyc")
    )
    assert timedelta(hours=2) <= answer.occurred_at - withdrawal.occurred_at <= timedelta(hours=24)


def test_nothing_to_answer_without_a_challenge(withdrawal: WalletEvent) -> None:
    allow = Decision(
        event_id=withdrawal.event_id,
        decision="allow",
        risk_level="none",
        score=0,
        reasons=[],
        actions=[],
        account_state="active",
        ruleset_version="test",
        model_version=None,
    )
    assert StepUpResponder(GroundTruth()).follow(withdrawal, allow) == []


def test_answers_are_the_same_every_run(withdrawal: WalletEvent) -> None:
    runs = [
        StepUpResponder(GroundTruth()).follow(withdrawal, challenge(withdrawal, "sms_otp"))[0]
        for _ in range(2)
    ]
    assert runs[0].payload == runs[1].payload
