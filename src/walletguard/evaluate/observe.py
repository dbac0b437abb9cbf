"""What the evaluation remembers of each decided event: a compact record with its label,
its decision and — for a challenge — how the challenge ended.

Outcomes (`Observation.outcome`):

| outcome | meaning | the operation |
|---|---|---|
| `allowed` | decided `allow` | went through |
| `passed` | challenged, the step-up passed | went through (held money posted) |
| `failed` | challenged, the step-up failed or expired | stopped (held money released) |
| `unanswered` | challenged, never answered | stopped (a hold expires unposted) |
| `held` | `review`: held for a person | stopped, unless a person releases it |
| `blocked` | `block` | stopped |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from walletguard.decisions.engine import Failure
from walletguard.decisions.model import Decision
from walletguard.evaluate.truth import EventLabel, GroundTruth
from walletguard.events.model import EventType, WalletEvent
from walletguard.kernel.money import to_units
from walletguard.kernel.risk import RiskLevel

WENT_THROUGH = frozenset({"allowed", "passed"})
STOPPED = frozenset({"failed", "unanswered", "held", "blocked"})
_LEVEL_RANK = {level.value: rank for rank, level in enumerate(RiskLevel)}
_NO_CODES: tuple[str, ...] = ()


@dataclass(slots=True)
class Observation:
    """One input event and what became of it."""

    index: int
    event_id: str
    type: EventType
    account_id: str
    at: datetime
    amount: int
    """Units of 1/10,000 (0 without an amount)."""
    label: EventLabel | None
    in_window: bool
    auth_failed: bool
    decision: str
    level: str
    score: int
    codes: tuple[str, ...]
    outcome: str
    challenge_method: str | None = None
    guard: str | None = None
    """The domain refusal that blocked the event whatever its score (e.g. ACCOUNT_FROZEN)."""
    counterparty: str | None = None
    channel_ref: str | None = None

    @property
    def level_rank(self) -> int:
        return _LEVEL_RANK[self.level]

    @property
    def went_through(self) -> bool:
        return self.outcome in WENT_THROUGH

    @property
    def decisive_reason(self) -> str:
        """Why: the domain refusal if there was one, else the heaviest rule."""
        if self.guard is not None:
            return self.guard
        return self.codes[0] if self.codes else "(none)"

    @property
    def risk_challenge(self) -> bool:
        """A challenge the risk engine asked for (medium risk or above); the verification
        every password reset asks for at low risk is routine, not friction."""
        return self.decision == "challenge" and self.level_rank >= _LEVEL_RANK["medium"]


@dataclass(slots=True)
class StepUpRecord:
    """An answer the evaluation sent, and the engine's verdict on it."""

    challenge_id: str
    decision: str
    codes: tuple[str, ...]


class Observer:
    """Collects observations from `decide_answering` (pass `observer.record` as its sink)."""

    def __init__(self, truth: GroundTruth) -> None:
        self.truth = truth
        self.observations: list[Observation] = []
        self.failures: list[Failure] = []
        self.step_ups: list[StepUpRecord] = []
        self._by_challenge: dict[str, int] = {}
        self.decisions: dict[str, int] = {}
        self._lockouts: dict[tuple[str, str], datetime] = {}

    def record(
        self, item: WalletEvent | Failure, result: Decision | Failure, injected: bool
    ) -> None:
        if isinstance(result, Failure) or isinstance(item, Failure):
            if not injected:
                self.failures.append(result if isinstance(result, Failure) else item)  # type: ignore[arg-type]
            return
        codes = tuple(r.code for r in result.reasons) if result.reasons else _NO_CODES
        if injected:
            self._resolve(item, result, codes)
            return
        self.decisions[result.decision] = self.decisions.get(result.decision, 0) + 1
        outcome = _OUTCOME[result.decision]
        method = None
        if result.decision == "challenge" and result.challenge_id is not None:
            self._by_challenge[result.challenge_id] = len(self.observations)
            method = next(
                (a.removeprefix("step_up:") for a in result.actions if a.startswith("step_up:")),
                None,
            )
        if result.locked_until is not None:
            self._lockouts.setdefault((item.account_id, result.locked_until), item.occurred_at)
        cp = item.counterparty
        self.observations.append(
            Observation(
                index=len(self.observations),
                event_id=item.event_id,
                type=item.type,
                account_id=item.account_id,
                at=item.occurred_at,
                amount=_units(item),
                label=self.truth.labels.get(item.event_id),
                in_window=self.truth.in_window(item.occurred_at),
                auth_failed=item.auth is not None and not item.auth.success,
                decision=result.decision,
                level=result.risk_level,
                score=result.score,
                codes=codes,
                outcome=outcome,
                challenge_method=method,
                guard=next((r.code for r in result.reasons if r.score == 0), None),
                counterparty=None if cp is None else f"{cp.type}:{cp.id}",
                channel_ref=item.topup.channel_ref if item.topup is not None else None,
            )
        )

    def _resolve(self, item: WalletEvent, result: Decision, codes: tuple[str, ...]) -> None:
        step = item.step_up
        if step is None:
            return
        self.step_ups.append(StepUpRecord(step.challenge_id, result.decision, codes))
        index = self._by_challenge.get(step.challenge_id)
        if index is None or result.decision == "challenge":
            return
        original = self.observations[index]
        if original.outcome == "unanswered":
            original.outcome = "passed" if result.decision == "allow" else "failed"

    @property
    def lockouts(self) -> list[tuple[str, datetime, datetime]]:
        """(account, locked at, locked until) for every lock-out a decision announced."""
        return [
            (account, at, datetime.fromisoformat(until))
            for (account, until), at in self._lockouts.items()
        ]


_OUTCOME = {
    "allow": "allowed",
    "challenge": "unanswered",
    "review": "held",
    "block": "blocked",
}


def _units(event: WalletEvent) -> int:
    if event.amount is None:
        return 0
    try:
        return to_units(event.amount)
    except ValueError:
        return 0
