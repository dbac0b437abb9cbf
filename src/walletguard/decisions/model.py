"""The decision, exactly as the public contract writes it, plus what walletguard keeps
alongside it (the per-rule trace)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import msgspec

from walletguard.kernel.risk import RiskLevel


class Verdict(StrEnum):
    ALLOW = "allow"
    CHALLENGE = "challenge"
    REVIEW = "review"
    BLOCK = "block"


class Action(StrEnum):
    NOTIFY_USER = "notify_user"
    HOLD_FUNDS = "hold_funds"
    RESTRICT_ACCOUNT = "restrict_account"
    FREEZE_ACCOUNT = "freeze_account"
    OPEN_CASE = "open_case"


class Reason(msgspec.Struct, frozen=True):
    code: str
    message: str
    score: int


class Decision(msgspec.Struct, omit_defaults=True):
    """The contract's decision document. Extra fields (`locked_until`, `hold_id`, `case_id`)
    extend it without breaking it; they, and `challenge_id`, appear only when set."""

    event_id: str
    decision: str
    risk_level: str
    score: int
    reasons: list[Reason]
    actions: list[str]
    account_state: str
    ruleset_version: str
    model_version: str | None
    challenge_id: str | None = None
    locked_until: str | None = None
    hold_id: str | None = None
    case_id: str | None = None

    @property
    def verdict(self) -> Verdict:
        return Verdict(self.decision)

    @property
    def level(self) -> RiskLevel:
        return RiskLevel(self.risk_level)

    def to_dict(self) -> dict[str, Any]:
        """The contract document as plain data."""
        body: dict[str, Any] = msgspec.to_builtins(self)
        return body


class RuleHit(msgspec.Struct, frozen=True, array_like=False):
    """One rule that fired, with the values that made it fire (stored with the decision)."""

    rule: str
    code: str
    score: int
    mode: str
    values: dict[str, Any]


class Trace(msgspec.Struct):
    """How the decision was reached: every rule that fired (shadow ones included), the
    raw score before the policy and any guard that overrode it."""

    hits: list[RuleHit]
    raw_score: int
    guards: list[str] = msgspec.field(default_factory=list)
    model_score: float | None = None
    """The champion's fraud probability, when a model scored the event."""
    model_points: int = 0
    """The score points the champion's probability was worth (see the policy's `model`)."""
    shadow_scores: dict[str, float] | None = None
    """Shadow models' probabilities by version: recorded, never acted on."""


_decision_encoder = msgspec.json.Encoder()


def decision_json(decision: Decision) -> bytes:
    """The decision as one line of contract JSON."""
    return _decision_encoder.encode(decision)


def error_line(event_id: str | None, code: str, message: str) -> bytes:
    """The decision-shaped error line `replay` writes for an input that is not a valid event."""
    return _decision_encoder.encode(
        {"event_id": event_id, "error": {"code": code, "message": message}}
    )
