"""Step-up challenges: create one for a `challenge` decision; resolve it on `step_up_result`.

Resolving: a success lets the guarded operation go on (held money is posted into the
movement it was held for, a challenged binding is recorded, a reset request counts as
verified, a challenged reset completion is applied); a failure with attempts left asks
again (decision `challenge`, same id); the last failure or an expired challenge refuses
the operation (held money released) and counts toward the account's risk
(`step_up_failed_*` features).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from walletguard.accounts.bindings import binding_from_event
from walletguard.accounts.challenges import Challenge, ChallengeStatus
from walletguard.accounts.resets import note_verified
from walletguard.accounts.settings import AccountSettings
from walletguard.decisions.context import DecisionContext
from walletguard.decisions.effects.accounts import record_binding, reset_after_step_up
from walletguard.decisions.effects.ledger import still_allowed
from walletguard.decisions.model import Verdict
from walletguard.decisions.outcome import Outcome
from walletguard.enrich.location import Located
from walletguard.events.model import EventType, WalletEvent
from walletguard.features.store import FeatureStore
from walletguard.kernel.canonical import sha256_hex
from walletguard.ledger import service


def challenge_id_for(event_id: str) -> str:
    """Stable id of the challenge guarding an event (a retried event gets the same one)."""
    return "ch-" + sha256_hex(event_id.encode())[:20]


class ChallengeEffects:
    def __init__(
        self,
        features: FeatureStore,
        locate: Callable[[WalletEvent], Located],
        settings: AccountSettings | None = None,
    ) -> None:
        self._features = features
        self._locate = locate
        self._settings = settings or AccountSettings()

    def guard(self, ctx: DecisionContext, out: Outcome) -> None:
        event = ctx.event
        if event.type is not EventType.STEP_UP_RESULT or event.step_up is None:
            return
        challenge = ctx.uow.challenges.get(event.step_up.challenge_id)
        if challenge is None or challenge.account_id != event.account_id:
            out.refuse("CHALLENGE_UNKNOWN", "no such challenge for this account")
        elif challenge.status is not ChallengeStatus.PENDING:
            out.refuse("CHALLENGE_RESOLVED", f"the challenge was already {challenge.status.value}")
        elif event.occurred_at > challenge.expires_at:
            out.refuse("CHALLENGE_EXPIRED", "the challenge expired before it was answered")
        elif event.step_up.method != challenge.method:
            out.refuse(
                "CHALLENGE_METHOD_MISMATCH",
                f"the challenge asked for {challenge.method}, not {event.step_up.method}",
            )
        elif event.occurred_at < challenge.created_at:
            out.refuse("CHALLENGE_NOT_ASKED_YET", "the answer is dated before the challenge")
        elif event.step_up.success and (guarded := ctx.uow.events.get(challenge.event_id)):
            # Passing proves who the user is; it does not undo what changed meanwhile.
            stopped = still_allowed(ctx, out, guarded)
            if stopped is not None:
                out.refuse(*stopped)

    def apply(self, ctx: DecisionContext, out: Outcome) -> None:
        event = ctx.event
        if event.type is EventType.STEP_UP_RESULT and event.step_up is not None:
            self._resolve(ctx, out)
        elif out.verdict is Verdict.CHALLENGE:
            self._create(ctx, out)

    def _create(self, ctx: DecisionContext, out: Outcome) -> None:
        event = ctx.event
        s = ctx.settings
        method = out.step_up or "sms_otp"
        if method == "manual_kyc":
            lifetime = timedelta(hours=self._settings.manual_review_hours)
        else:
            lifetime = timedelta(minutes=s.challenge_expiry_minutes)
        challenge = Challenge(
            id=challenge_id_for(event.event_id),
            account_id=event.account_id,
            event_id=event.event_id,
            method=method,
            created_at=event.occurred_at,
            expires_at=event.occurred_at + lifetime,
            attempts_left=s.challenge_attempts,
            hold_id=out.hold_id,
            purpose=event.type.value,
        )
        ctx.uow.challenges.save(challenge)
        out.challenge_id = challenge.id

    def _resolve(self, ctx: DecisionContext, out: Outcome) -> None:
        event = ctx.event
        step = event.step_up
        assert step is not None
        uow = ctx.uow
        challenge = uow.challenges.get(step.challenge_id)
        if (
            challenge is None
            or challenge.account_id != event.account_id  # another account's answer: nothing
            or challenge.status is not ChallengeStatus.PENDING
            or event.occurred_at < challenge.created_at
        ):
            return
        if event.occurred_at > challenge.expires_at:
            self._finish(ctx, challenge, ChallengeStatus.EXPIRED, "challenge expired")
            return
        if out.verdict is Verdict.BLOCK:
            return
        if step.success:
            self._finish(ctx, challenge, ChallengeStatus.PASSED, "step-up passed")
            self._passed(ctx, out, challenge)
            return
        remaining = challenge.attempts_left - 1
        if remaining > 0:
            uow.challenges.save(replace(challenge, attempts_left=remaining))
            out.verdict = Verdict.CHALLENGE
            out.challenge_id = challenge.id
            out.add_action(f"step_up:{challenge.method}")
            return
        self._finish(ctx, challenge, ChallengeStatus.FAILED, "step-up failed")
        out.refuse(
            "STEP_UP_FAILED", f"the {challenge.method} check failed: the operation is refused"
        )

    def _passed(self, ctx: DecisionContext, out: Outcome, challenge: Challenge) -> None:
        """Let the guarded operation go on."""
        uow = ctx.uow
        guarded = uow.events.get(challenge.event_id)
        if guarded is not None:
            where = self._locate(guarded)
            self._features.learn_later(guarded, where)
            binding = binding_from_event(
                guarded,
                at=ctx.event.occurred_at,
                country=where.country,
                lat=where.lat,
                lon=where.lon,
            )
            if binding is not None:
                record_binding(ctx, binding, actor="user")
        if challenge.purpose == EventType.PASSWORD_RESET_REQUEST.value:
            account = note_verified(out.account, challenge.method, ctx.event.occurred_at)
            uow.accounts.save(account)
            out.account = account
        elif challenge.purpose == EventType.PASSWORD_RESET_COMPLETE.value and guarded is not None:
            reset_after_step_up(ctx, out, guarded, method=challenge.method, settings=self._settings)

    @staticmethod
    def _finish(
        ctx: DecisionContext, challenge: Challenge, status: ChallengeStatus, note: str
    ) -> None:
        event = ctx.event
        uow = ctx.uow
        uow.challenges.save(replace(challenge, status=status, resolved_at=event.occurred_at))
        if challenge.hold_id is not None:
            hold = uow.ledger.hold(challenge.hold_id)
            if hold is not None and hold.status.value == "pending":
                if status is ChallengeStatus.PASSED:
                    service.post_hold(uow.ledger, hold.id, at=event.occurred_at, note=note)
                else:
                    service.void_hold(uow.ledger, hold.id, at=event.occurred_at, note=note)
        uow.audit.append(
            at=event.occurred_at,
            actor="user",
            action=f"challenge.{status.value}",
            subject=f"account:{challenge.account_id}",
            payload={
                "challenge_id": challenge.id,
                "method": challenge.method,
                "guarded_event": challenge.event_id,
                "hold_id": challenge.hold_id,
            },
        )
