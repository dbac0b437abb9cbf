"""The decision as it takes shape: the policy's assessment, then guards, then effects."""

from __future__ import annotations

from datetime import datetime

from walletguard.accounts.model import AccountSecurity
from walletguard.decisions.model import Action, Reason, Verdict
from walletguard.decisions.policy import Assessment
from walletguard.kernel.risk import RiskLevel
from walletguard.rules.ruleset import Rule

_OUTGOING_ACTIONS = (Action.HOLD_FUNDS.value,)


class Outcome:
    """Mutable while the event is being decided; frozen into a `Decision` at the end."""

    __slots__ = (
        "account",
        "actions",
        "case_id",
        "challenge_id",
        "fired",
        "flags",
        "guards",
        "hold_id",
        "level",
        "locked_until",
        "raw_score",
        "reasons",
        "score",
        "step_up",
        "verdict",
    )

    def __init__(self, assessment: Assessment, account: AccountSecurity) -> None:
        self.score = assessment.score
        self.raw_score = assessment.raw_score
        self.level: RiskLevel = assessment.level
        self.verdict: Verdict = assessment.verdict
        self.actions: list[str] = assessment.actions
        self.reasons: list[Reason] = assessment.reasons
        self.step_up: str | None = assessment.step_up
        self.fired: list[Rule] = assessment.fired
        self.account = account
        self.guards: list[str] = []
        self.flags: set[str] = set()
        self.hold_id: str | None = None
        self.case_id: str | None = None
        self.challenge_id: str | None = None
        self.locked_until: datetime | None = None

    def refuse(self, code: str, message: str) -> None:
        """A domain rule forbids the operation: block it, whatever the score said."""
        self.verdict = Verdict.BLOCK
        self.guards.append(code)
        self.reasons.append(Reason(code, message, 0))
        self.step_up = None
        self.actions = [
            a for a in self.actions if a not in _OUTGOING_ACTIONS and not a.startswith("step_up:")
        ]

    def add_action(self, action: str) -> None:
        if action not in self.actions:
            self.actions.append(action)

    @property
    def lead_rule(self) -> str:
        """Who to name as the actor of an automatic change: the heaviest rule, or the guard."""
        if self.fired:
            return "rule:" + max(self.fired, key=lambda r: r.score).id
        if self.guards:
            return "guard:" + self.guards[0]
        return "system"

    @property
    def lead_reason(self) -> str:
        return self.reasons[0].message if self.reasons else "risk decision"
