"""Request and response bodies of the account endpoints (security state, bindings,
freeze links, the self-service freeze, appeals)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from walletguard.accounts.bindings import Binding, Target
from walletguard.accounts.model import AccountSecurity, AccountState, LockScope, StateChange
from walletguard.accounts.service import VERIFICATIONS, UnfreezeResult
from walletguard.api.schemas import NO_NUL, ApprovalOut, Reason, Strict
from walletguard.cases.appeals import Appeal, AppealResult
from walletguard.storage.repositories.account_parts import RecentDecision

Verification = Literal["sms_otp", "email_otp", "totp", "biometric", "face", "manual_kyc"]
assert set(Verification.__args__) == set(VERIFICATIONS)  # type: ignore[attr-defined]


class AccountStateOut(BaseModel):
    account_id: str
    state: AccountState
    reason: str
    changed_by: str
    changed_at: datetime | None

    @classmethod
    def of(cls, account: AccountSecurity) -> AccountStateOut:
        return cls(
            account_id=account.account_id,
            state=account.state,
            reason=account.reason,
            changed_by=account.actor,
            changed_at=account.changed_at,
        )


class LockOut(BaseModel):
    scope: LockScope
    until: datetime


class BindingOut(BaseModel):
    id: str
    target: Target
    kind: str
    token: str
    institution: str | None
    bound_at: datetime
    from_device: str | None
    from_ip: str | None
    from_country: str | None
    active: bool
    unbound_at: datetime | None
    unbound_by: str | None
    unbind_reason: str | None
    suspicious: bool
    suspicious_reason: str | None
    flagged_by: str | None
    flagged_at: datetime | None

    @classmethod
    def of(cls, b: Binding) -> BindingOut:
        return cls(
            id=b.id,
            target=b.target,
            kind=b.kind,
            token=b.token,
            institution=b.institution,
            bound_at=b.bound_at,
            from_device=b.from_device,
            from_ip=b.from_ip,
            from_country=b.from_country,
            active=b.active,
            unbound_at=b.unbound_at,
            unbound_by=b.unbound_by,
            unbind_reason=b.unbind_reason,
            suspicious=b.suspicious,
            suspicious_reason=b.suspicious_reason,
            flagged_by=b.flagged_by,
            flagged_at=b.flagged_at,
        )


class TransitionOut(BaseModel):
    at: datetime
    from_state: AccountState
    to_state: AccountState
    by: str
    reason: str
    event_id: str | None

    @classmethod
    def of(cls, c: StateChange) -> TransitionOut:
        return cls(
            at=c.at,
            from_state=c.from_state,
            to_state=c.to_state,
            by=c.actor,
            reason=c.reason,
            event_id=c.event_id,
        )


class RecentDecisionOut(BaseModel):
    event_id: str
    type: str
    occurred_at: datetime
    decision: str
    risk_level: str
    score: int
    reasons: list[str]

    @classmethod
    def of(cls, d: RecentDecision) -> RecentDecisionOut:
        return cls(
            event_id=d.event_id,
            type=d.event_type,
            occurred_at=d.occurred_at,
            decision=d.decision,
            risk_level=d.risk_level,
            score=d.score,
            reasons=list(d.reasons),
        )


class AccountOut(AccountStateOut):
    """An account's security state, with what explains it."""

    tier: str
    lock_out: LockOut | None
    """The lock-out in force or last set (the state says `locked` while it holds)."""
    login_failures: int
    txn_password_failures: int
    cool_off_until: datetime | None
    """After a weakly verified password reset: no withdrawals or new bindings before this."""
    authenticator_enrolled: bool
    bindings: list[BindingOut]
    """Every binding, active or not: the history is kept."""
    transitions: list[TransitionOut]
    """State changes, newest first."""
    recent_decisions: list[RecentDecisionOut]


class UnfreezeIn(Strict):
    reason: Reason
    verified_by: Verification = Field(
        description="How the holder proved who they are before the unfreeze"
    )


class UnfreezeOut(BaseModel):
    done: bool
    """True: the account is active again. False: `approval` waits for another person."""
    account: AccountStateOut
    approval: ApprovalOut | None = None

    @classmethod
    def of(cls, result: UnfreezeResult) -> UnfreezeOut:
        return cls(
            done=result.done,
            account=AccountStateOut.of(result.account),
            approval=ApprovalOut.of(result.approval) if result.approval else None,
        )


class BindingActionOut(BaseModel):
    account_id: str
    binding: BindingOut


class FreezeLinkIn(Strict):
    ttl_hours: float = Field(
        default=24 * 7, ge=0.01, le=24 * 30, description="How long the link works (hours)"
    )
    base_url: (
        Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"^https?://\S+$")]
        | None
    ) = Field(default=None, description="Prefix of the link, e.g. https://wallet.example/security")


class FreezeLinkOut(BaseModel):
    token: str
    url: str | None
    """`<base_url>/freeze/<token>` when a base URL was given."""
    expires_at: datetime


class SelfServiceFreezeIn(Strict):
    token: Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=NO_NUL)] = Field(
        description="The token of the link (or the whole link)"
    )


class SelfServiceFreezeOut(BaseModel):
    state: AccountState
    frozen_now: bool
    """False when the account was already frozen (or closed): nothing more was done."""
    message: str


class AppealIn(Strict):
    text: Annotated[str, StringConstraints(min_length=1, max_length=4000, pattern=NO_NUL)] = Field(
        description="What the user says"
    )


class AppealResolveIn(Strict):
    result: AppealResult
    note: Reason


class AppealOut(BaseModel):
    id: str
    account_id: str
    restriction: str
    text: str
    opened_at: datetime
    opened_by: str
    case_id: str | None
    result: AppealResult | None
    resolved_at: datetime | None
    resolved_by: str | None
    note: str
    seconds_to_resolution: int | None

    @classmethod
    def of(cls, a: Appeal) -> AppealOut:
        took = a.time_to_resolution
        return cls(
            id=a.id,
            account_id=a.account_id,
            restriction=a.restriction,
            text=a.text,
            opened_at=a.opened_at,
            opened_by=a.opened_by,
            case_id=a.case_id,
            result=a.result,
            resolved_at=a.resolved_at,
            resolved_by=a.resolved_by,
            note=a.note,
            seconds_to_resolution=int(took.total_seconds()) if took is not None else None,
        )
