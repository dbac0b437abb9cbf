"""Account security: refuse what the state, a lock-out or a reset cool-off forbids;
count sign-in and transaction-password attempts; grade password-reset verification;
record bindings; restrict or freeze when the policy says.

`guard` and `apply` work from one plan per event (`_plan`): what the clock and the
attempt itself did to the account before anything else is decided.
"""

from __future__ import annotations

from datetime import datetime

from walletguard.accounts.bindings import (
    Binding,
    BindingRepository,
    Target,
    binding_from_event,
    unbinding_target,
)
from walletguard.accounts.lockouts import end_if_due, record_attempt
from walletguard.accounts.model import AccountSecurity, AccountState, LockScope, StateChange
from walletguard.accounts.permissions import Refusal, destination_refusal, refusal
from walletguard.accounts.resets import complete_reset, verification_for
from walletguard.accounts.settings import AccountSettings
from walletguard.decisions.context import DecisionContext
from walletguard.decisions.model import Action, Verdict
from walletguard.decisions.outcome import Outcome
from walletguard.events.model import BINDING_CHANGES, EventType, WalletEvent

_ATTEMPTS = {
    EventType.LOGIN: LockScope.LOGIN,
    EventType.TXN_PASSWORD_VERIFY: LockScope.TXN_PASSWORD,
}
_CONTACT_CHANGE_HOURS = 72.0
"""After a SIM or phone change an SMS code proves little: a reset asks for e-mail."""


class _Plan:
    """What the clock and the attempt itself do to the account, before anything else."""

    __slots__ = ("account", "changes", "notes", "refusal")

    def __init__(self, account: AccountSecurity) -> None:
        self.account = account
        self.changes: list[StateChange] = []
        self.refusal: Refusal | None = None
        self.notes: list[tuple[str, dict[str, object]]] = []
        """Audit records for changes that are not transitions (a lock-out kept alongside
        a frozen state, a lock-out lifted)."""


class AccountEffects:
    def __init__(self, settings: AccountSettings | None = None) -> None:
        self.settings = settings or AccountSettings()
        self._last: tuple[Outcome, _Plan] | None = None

    # -- the plan --------------------------------------------------------------------

    def _plan(self, ctx: DecisionContext, out: Outcome) -> _Plan:
        last = self._last
        if last is not None and last[0] is out:
            return last[1]
        event = ctx.event
        at = event.occurred_at
        plan = _Plan(out.account)
        if plan.account.locked_until is not None:
            ended = end_if_due(plan.account, at, event.event_id)
            if ended.unlocked:
                plan.account = ended.account
                if ended.change is not None:
                    plan.changes.append(ended.change)
                else:
                    plan.notes.append(("account.lockout_ended", {"by": "clock"}))
        plan.refusal = refusal(event.type, plan.account, at)
        scope = _ATTEMPTS.get(event.type)
        if plan.refusal is None and scope is not None and event.auth is not None:
            attempt = record_attempt(
                plan.account,
                scope,
                success=event.auth.success,
                at=at,
                settings=self.settings,
                event_id=event.event_id,
            )
            plan.account = attempt.account
            if attempt.change is not None:
                plan.changes.append(attempt.change)
            if attempt.locked:
                until = plan.account.locked_until
                assert until is not None
                if attempt.change is None:
                    plan.notes.append(
                        ("account.locked_out", {"until": until.isoformat(), "scope": scope.value})
                    )
                plan.refusal = Refusal(
                    "ACCOUNT_LOCKED",
                    f"too many failures in a row: {plan.account.lock_scope} locked until "
                    f"{until.isoformat()}",
                    until,
                )
        if plan.refusal is None and event.type is EventType.PASSWORD_RESET_COMPLETE:
            verified = complete_reset(
                plan.account,
                auth_method=event.auth.method if event.auth else None,
                auth_success=event.auth.success if event.auth else None,
                at=at,
                settings=self.settings,
                event_id=event.event_id,
            )
            if verified.verified_by is None:
                plan.refusal = Refusal(
                    "RESET_NOT_VERIFIED",
                    "a password reset completes only after the holder proved who they are",
                )
        self._last = (out, plan)
        return plan

    # -- the stage -----------------------------------------------------------------------

    def guard(self, ctx: DecisionContext, out: Outcome) -> None:
        plan = self._plan(ctx, out)
        if plan.refusal is not None:
            out.refuse(plan.refusal.code, plan.refusal.message)
            if plan.refusal.locked_until is not None:
                out.locked_until = plan.refusal.locked_until
            return
        event = ctx.event
        if event.type is EventType.WITHDRAWAL and event.binding is not None:
            self._guard_destination(ctx.uow.accounts.bindings, out, event.binding.token)

    @staticmethod
    def _guard_destination(repo: BindingRepository, out: Outcome, token: str) -> None:
        destination = repo.current(out.account.account_id, Target.ACCOUNT, token)
        refused = destination_refusal(destination) if destination is not None else None
        if refused is not None:
            out.refuse(refused.code, refused.message)

    def apply(self, ctx: DecisionContext, out: Outcome) -> None:
        event = ctx.event
        plan = self._plan(ctx, out)
        self._last = None
        account = plan.account
        changes = list(plan.changes)
        kind = event.type
        if ctx.account is None:  # the first event of this account walletguard sees
            plan.notes.append(
                ("account.opened", {"state": account.state.value, "tier": account.tier})
            )
        if kind is EventType.PASSWORD_RESET_COMPLETE and out.verdict is Verdict.ALLOW:
            account = reset_password(
                ctx, account, event, settings=self.settings, changes=changes, notes=plan.notes
            )
        elif kind is EventType.PASSWORD_RESET_REQUEST:
            self._grade_reset(ctx, out)
        target = None
        if Action.FREEZE_ACCOUNT.value in out.actions:
            target = AccountState.FROZEN
        elif Action.RESTRICT_ACCOUNT.value in out.actions:
            target = AccountState.RESTRICTED
        if target is not None:
            account, change = account.escalate(
                target,
                reason=out.lead_reason,
                actor=out.lead_rule,
                at=event.occurred_at,
                event_id=event.event_id,
            )
            if change is not None:
                changes.append(change)
        if kind in BINDING_CHANGES:
            if out.verdict is Verdict.ALLOW:
                self._record_binding(ctx)
            if out.verdict is not Verdict.BLOCK:
                self._record_unbinding(ctx)
        if account is ctx.account and not changes:
            return
        save_account(ctx, account, changes, plan.notes)
        out.account = account

    # -- parts -------------------------------------------------------------------------------

    def _grade_reset(self, ctx: DecisionContext, out: Outcome) -> None:
        """A reset is always verified; how strongly depends on its risk."""
        if out.verdict is Verdict.BLOCK:
            return
        method = verification_for(out.level, self.settings)
        if method is None:
            out.refuse("RESET_TOO_RISKY", "this password reset is too risky to allow")
            return
        profile = ctx.profile
        if method == "sms_otp":
            recent = [
                ts
                for ts in (profile.last_sim_change_ts, profile.last_phone_change_ts)
                if ts is not None and (ctx.event.ts - ts) / 3600.0 < _CONTACT_CHANGE_HOURS
            ]
            if recent:
                method = "email_otp"
        out.verdict = Verdict.CHALLENGE
        out.step_up = method
        out.actions = [a for a in out.actions if not a.startswith("step_up:")]
        out.add_action(f"step_up:{method}")
        if method == "manual_kyc":
            out.add_action(Action.OPEN_CASE.value)

    def _record_binding(self, ctx: DecisionContext) -> None:
        event = ctx.event
        if event.type is not EventType.ACCOUNT_BIND and event.type is not EventType.DEVICE_BIND:
            return
        where = ctx.located
        binding = binding_from_event(
            event, at=event.occurred_at, country=where.country, lat=where.lat, lon=where.lon
        )
        if binding is not None:
            record_binding(ctx, binding, actor="user")

    def _record_unbinding(self, ctx: DecisionContext) -> None:
        event = ctx.event
        removed = unbinding_target(event)
        if removed is None:
            return
        repo = ctx.uow.accounts.bindings
        current = repo.current(event.account_id, *removed)
        if current is None or not current.active:
            return
        unbound = current.unbind(by="user", at=event.occurred_at, reason="unbound by the user")
        repo.save(unbound)
        _audit(ctx, "user", "binding.unbound", {"binding_id": unbound.id, "token": unbound.token})


def reset_password(
    ctx: DecisionContext,
    account: AccountSecurity,
    completion: WalletEvent,
    *,
    settings: AccountSettings,
    changes: list[StateChange],
    notes: list[tuple[str, dict[str, object]]],
    stepped_up: str | None = None,
) -> AccountSecurity:
    """Apply a `password_reset_complete` that goes on — allowed, or challenged and its
    step-up passed with `stepped_up` — at the time of the event being decided. Returns
    the account after it; its transition and its `account.password_reset` record are
    added to `changes` and `notes`, for `save_account`."""
    event = ctx.event
    auth = completion.auth
    reset = complete_reset(
        account,
        auth_method=auth.method if auth else None,
        auth_success=auth.success if auth else None,
        at=event.occurred_at,
        settings=settings,
        event_id=event.event_id,
        stepped_up=stepped_up,
        asked_at=completion.occurred_at,
    )
    if reset.change is not None:
        changes.append(reset.change)
    notes.append(
        (
            "account.password_reset",
            {
                "verified_by": reset.verified_by,
                "strong": reset.strong,
                "cool_off_until": _iso(reset.account.cool_off_until),
            },
        )
    )
    return reset.account


def reset_after_step_up(
    ctx: DecisionContext,
    out: Outcome,
    completion: WalletEvent,
    *,
    method: str,
    settings: AccountSettings,
) -> None:
    """A `password_reset_complete` that was challenged has passed its step-up (`method`,
    answered by the event being decided): apply it now, as an allowed one is applied."""
    changes: list[StateChange] = []
    notes: list[tuple[str, dict[str, object]]] = []
    account = reset_password(
        ctx,
        out.account,
        completion,
        settings=settings,
        changes=changes,
        notes=notes,
        stepped_up=method,
    )
    save_account(ctx, account, changes, notes)
    out.account = account


def save_account(
    ctx: DecisionContext,
    account: AccountSecurity,
    changes: list[StateChange],
    notes: list[tuple[str, dict[str, object]]],
) -> None:
    """Store the account with each transition and its audit record, then the other notes."""
    accounts = ctx.uow.accounts
    if not changes:
        accounts.save(account)
    for change in changes:
        accounts.save(account, change)
        _audit(
            ctx,
            change.actor,
            "account.state_changed",
            {
                "from": change.from_state.value,
                "to": change.to_state.value,
                "reason": change.reason,
            },
        )
    for action, payload in notes:
        _audit(ctx, "system", action, payload)


def record_binding(ctx: DecisionContext, binding: Binding, *, actor: str) -> None:
    """Store a new binding (a re-bind of an active one keeps the first) with its audit."""
    repo = ctx.uow.accounts.bindings
    current = repo.current(binding.account_id, binding.target, binding.token)
    if current is not None and current.active:
        return
    repo.save(binding)
    _audit(
        ctx,
        actor,
        "binding.bound",
        {
            "binding_id": binding.id,
            "target": binding.target.value,
            "kind": binding.kind,
            "token": binding.token,
            "from_device": binding.from_device,
            "from_country": binding.from_country,
        },
    )


def _audit(ctx: DecisionContext, actor: str, action: str, payload: dict[str, object]) -> None:
    event = ctx.event
    ctx.uow.audit.append(
        at=event.occurred_at,
        actor=actor,
        action=action,
        subject=f"account:{event.account_id}",
        payload={**payload, "event_id": event.event_id},
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
