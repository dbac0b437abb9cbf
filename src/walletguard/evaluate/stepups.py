"""Answering step-up challenges during an evaluation, as the person holding the phone would.

A `challenge` decision only resolves when its `step_up_result` arrives. In a replay of
recorded or simulated events nobody answers, so the evaluation answers for them, in
event time (30–90 s after the challenge; 2–24 h for a manual identity review), with the
engine's own `challenge_id` and the method the decision asked for:

- the account's owner passes: a legit customer, a deceived customer acting themselves
  (a scam victim passes any check — a step-up cannot stop a scam), a fraudster on the
  wallet they opened (a mule passes the SMS code to its own phone);
- someone acting on another person's account (a takeover) passes only a method they
  control: after a SIM swap the victim's SMS codes (`sms_otp`), in password-reset abuse
  the victim's mailbox (`email_otp`); never a face, a fingerprint or a manual review.

Answers are deterministic: the delay follows from the challenge id and the attempt.
A failed answer with attempts left gets `challenge` again; the fraudster tries again
until the challenge is used up.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec

from walletguard.decisions.model import Decision
from walletguard.evaluate.truth import FRAUDSTER_ROLES, VICTIM_STAGES, GroundTruth
from walletguard.events.decode import EventDecoder
from walletguard.events.model import EventType, WalletEvent

ATTACKER_CONTROLS: dict[str, frozenset[str]] = {
    "sim_swap": frozenset({"sms_otp"}),
    "reset_abuse": frozenset({"email_otp"}),
}
"""Verification methods a fraudster controls on a victim's account, by typology."""

_COPIED = ("session_id", "channel", "device", "network", "geo")
_payload = msgspec.json.Decoder()


@dataclass(frozen=True, slots=True)
class Answer:
    """Who answered a challenge and how it went (for the evaluation's step-up figures)."""

    challenge_id: str
    method: str
    who: str
    """`owner` (a legit customer), `victim` (deceived, acting themselves), `fraudster`
    (on their own wallet) or `intruder` (on someone else's)."""
    success: bool
    typology: str | None


@dataclass(slots=True)
class _Challenge:
    original: WalletEvent
    who: str
    typology: str | None
    attempts: int = 0


class StepUpResponder:
    """Makes the `step_up_result` event that answers a challenge decision."""

    def __init__(self, truth: GroundTruth, decoder: EventDecoder | None = None) -> None:
        self._truth = truth
        self._decoder = decoder or EventDecoder()
        self._open: dict[str, _Challenge] = {}
        self.answers: list[Answer] = []

    def follow(self, event: WalletEvent, decision: Decision) -> list[WalletEvent]:
        """The answer to a challenge decision, as a follow-up event (`run.Follower`)."""
        if decision.decision != "challenge":
            return []
        reply = self.answer(event, decision)
        return [] if reply is None else [reply]

    def answer(self, event: WalletEvent, decision: Decision) -> WalletEvent | None:
        """The answer to `decision` (a challenge of `event`), or None if there is nothing to
        answer. `event` may itself be an earlier answer that failed with attempts left."""
        challenge_id = decision.challenge_id
        method = _method(decision)
        if challenge_id is None or method is None:
            return None
        state = self._open.get(challenge_id)
        if state is None:
            if event.type is EventType.STEP_UP_RESULT:
                return None
            who, typology = self._who(event)
            state = self._open[challenge_id] = _Challenge(event, who, typology)
        state.attempts += 1
        success = self._passes(state, method)
        self.answers.append(Answer(challenge_id, method, state.who, success, state.typology))
        at = event.occurred_at + _delay(challenge_id, state.attempts, method)
        if success:
            del self._open[challenge_id]
        return self._decoder.decode(
            _document(state.original, challenge_id, state.attempts, method, success, at)
        )

    def _who(self, event: WalletEvent) -> tuple[str, str | None]:
        label = self._truth.labels.get(event.event_id)
        if label is None:
            return "owner", None
        if label.stage in VICTIM_STAGES:
            return "victim", label.typology
        campaign = self._truth.campaigns.get(label.campaign_id)
        role = campaign.role_of(event.account_id) if campaign is not None else None
        if role in FRAUDSTER_ROLES:
            return "fraudster", label.typology
        return "intruder", label.typology

    @staticmethod
    def _passes(state: _Challenge, method: str) -> bool:
        if state.who != "intruder":
            return True
        return method in ATTACKER_CONTROLS.get(state.typology or "", frozenset())


def _method(decision: Decision) -> str | None:
    for action in decision.actions:
        if action.startswith("step_up:"):
            return action.removeprefix("step_up:")
    return None


def _delay(challenge_id: str, attempt: int, method: str) -> timedelta:
    digest = hashlib.sha256(f"{challenge_id}:{attempt}".encode()).digest()
    spread = int.from_bytes(digest[:4], "big")
    if method == "manual_kyc":
        return timedelta(seconds=2 * 3600 + spread % (22 * 3600))
    return timedelta(seconds=30 + spread % 61)


def _document(
    original: WalletEvent,
    challenge_id: str,
    attempt: int,
    method: str,
    success: bool,
    at: datetime,
) -> dict[str, Any]:
    source = _payload.decode(original.payload)
    sent = datetime.fromisoformat(source["occurred_at"])
    local = at.astimezone(sent.tzinfo)
    doc: dict[str, Any] = {
        "event_id": f"{original.event_id}.su{attempt}",
        "type": EventType.STEP_UP_RESULT.value,
        "occurred_at": local.isoformat(),
        "account_id": original.account_id,
        "step_up": {"challenge_id": challenge_id, "method": method, "success": success},
    }
    for name in _COPIED:
        if source.get(name) is not None:
            doc[name] = source[name]
    return doc
