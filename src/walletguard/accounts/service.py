"""What people do to an account: an analyst freezes, restricts, unbinds, flags; the user
freezes from a notification link; unfreezing needs verification and, when a rule or an
analyst froze the account, another person's approval (maker-checker), as lifting a
restriction someone else put on does.

Every function changes state through the caller's unit of work and appends an audit
record to it; nothing is written when it raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from walletguard.accounts.bindings import Binding, Target
from walletguard.accounts.freeze_links import (
    mint_freeze_token,
    token_of_link,
    verify_freeze_token,
)
from walletguard.accounts.model import (
    SEVERITY,
    AccountSecurity,
    AccountState,
    Actor,
    StateChange,
    actor_kind,
    restriction_author,
)
from walletguard.accounts.ports import AccountStateWork, AccountsUnitOfWork
from walletguard.approvals import service as approvals
from walletguard.approvals.model import ApprovalRequest, ApprovalStatus, person_of
from walletguard.kernel.errors import Conflict, IllegalTransition, NotFound, Refused

UNFREEZE = "account.unfreeze"
VERIFICATIONS = ("sms_otp", "email_otp", "totp", "biometric", "face", "manual_kyc")
"""How a person may have proved they are the account holder before an unfreeze."""
HISTORY_LOOKBACK = 200
"""Transitions read to find who put a restriction on; past them, maker-checker applies."""


def _subject(account_id: str) -> str:
    return f"account:{account_id}"


def _audit(
    uow: AccountStateWork,
    *,
    at: datetime,
    actor: str,
    action: str,
    account_id: str,
    payload: dict[str, object],
) -> None:
    uow.audit.append(
        at=at, actor=actor, action=action, subject=_subject(account_id), payload=payload
    )


def _account(uow: AccountsUnitOfWork, account_id: str) -> AccountSecurity:
    account = uow.accounts.get(account_id)
    if account is None:
        raise NotFound(f"no account {account_id}: walletguard has never seen an event for it")
    return account


def save_change(
    uow: AccountStateWork, account: AccountSecurity, change: StateChange, **extra: object
) -> None:
    """Store the account with the transition that produced it, and its audit record
    (`account.state_changed`, by the change's actor; `extra` joins its payload)."""
    uow.accounts.save(account, change)
    _audit(
        uow,
        at=change.at,
        actor=change.actor,
        action="account.state_changed",
        account_id=account.account_id,
        payload={
            "from": change.from_state.value,
            "to": change.to_state.value,
            "reason": change.reason,
            **extra,
        },
    )


def _need_reason(reason: str) -> str:
    if not reason.strip():
        raise Refused("say why (--reason)", reason_code="REASON_REQUIRED")
    return reason.strip()


def freeze(
    uow: AccountsUnitOfWork, account_id: str, *, reason: str, actor: str, at: datetime
) -> AccountSecurity:
    """Freeze at once: no money moves, no binding changes. An account its holder froze is
    taken over by `actor` (unfreezing it then needs approval); `IllegalTransition` if
    frozen by anyone else, or closed."""
    account = _account(uow, account_id)
    frozen, change = account.transition(
        AccountState.FROZEN, reason=_need_reason(reason), actor=actor, at=at
    )
    save_change(uow, frozen, change)
    return frozen


def restrict(
    uow: AccountsUnitOfWork, account_id: str, *, reason: str, actor: str, at: datetime
) -> AccountSecurity:
    """Make the account read-only. Never a way to loosen a frozen account: that is an
    unfreeze, with its verification and approval."""
    account = _account(uow, account_id)
    if SEVERITY[account.state] > SEVERITY[AccountState.RESTRICTED]:
        raise IllegalTransition(
            f"account {account_id} is {account.state.value}; restricting would loosen it "
            "(use unfreeze)"
        )
    if account.state is AccountState.LOCKED and account.resume_state is AccountState.RESTRICTED:
        # Restricting again would only make the restriction this actor's own to lift.
        raise IllegalTransition(
            f"account {account_id} is restricted already (and locked out until "
            f"{account.locked_until.isoformat() if account.locked_until else 'further notice'})"
        )
    restricted, change = account.transition(
        AccountState.RESTRICTED, reason=_need_reason(reason), actor=actor, at=at
    )
    save_change(uow, restricted, change)
    return restricted


def lift_restriction(
    uow: AccountsUnitOfWork, account_id: str, *, reason: str, actor: str, at: datetime
) -> UnfreezeResult:
    """Restricted → active. A restriction `actor` put on themself is lifted at once; one a
    rule or another person put on needs a second person's approval, as an unfreeze does
    (`approve_unfreeze`) — lifting someone else's finding alone is what maker-checker stops."""
    account = _account(uow, account_id)
    if account.state is not AccountState.RESTRICTED:
        raise IllegalTransition(f"account {account_id} is {account.state.value}, not restricted")
    reason = _need_reason(reason)
    author = restriction_author(uow.accounts.history(account_id, limit=HISTORY_LOOKBACK))
    own = (
        author is not None
        and actor_kind(author) is Actor.ANALYST
        and person_of(author) == person_of(actor)
    )
    if own:
        return UnfreezeResult(_make_active(uow, account, reason=reason, actor=actor, at=at))
    return UnfreezeResult(account, _ask_to_lift(uow, account, reason=reason, actor=actor, at=at))


@dataclass(frozen=True, slots=True)
class UnfreezeResult:
    """Either the account was unfrozen, or an approval now waits for another person."""

    account: AccountSecurity
    approval: ApprovalRequest | None = None

    @property
    def done(self) -> bool:
        return self.approval is None


def needs_approval(uow: AccountsUnitOfWork, account: AccountSecurity) -> bool:
    """Whether unfreezing needs maker-checker: yes unless the user froze it themself — and
    even then if a rule or a person had restricted the account before: unfreezing makes it
    active, so a self-service freeze must not be a way out of someone else's restriction."""
    if actor_kind(account.actor) is not Actor.USER:
        return True
    history = uow.accounts.history(account.account_id, limit=HISTORY_LOOKBACK)  # newest first
    if not history:
        return False
    if history[0].from_state not in (AccountState.RESTRICTED, AccountState.LOCKED):
        return False  # frozen straight from active: nothing else to lift
    author = restriction_author(history[1:])  # what the freeze was put over
    return author is not None and actor_kind(author) is not Actor.USER


def request_unfreeze(
    uow: AccountsUnitOfWork,
    account_id: str,
    *,
    reason: str,
    actor: str,
    verified_by: str | None,
    at: datetime,
) -> UnfreezeResult:
    """Unfreeze after the holder proved who they are (`verified_by`). An account the user
    froze is unfrozen at once; one a rule or analyst froze gets an approval request that
    someone other than `actor` must approve (`approve_unfreeze`)."""
    account = _account(uow, account_id)
    if account.state is not AccountState.FROZEN:
        raise IllegalTransition(f"account {account_id} is {account.state.value}, not frozen")
    if verified_by not in VERIFICATIONS:
        given = "" if verified_by is None else f"{verified_by!r} is not a way of verifying; "
        raise Refused(
            f"{given}unfreezing needs the holder verified first: say how (--verified "
            f"{'|'.join(VERIFICATIONS)})",
            reason_code="VERIFICATION_REQUIRED",
        )
    reason = _need_reason(reason)
    if not needs_approval(uow, account):
        return UnfreezeResult(_make_active(uow, account, reason=reason, actor=actor, at=at))
    request = _ask_to_lift(uow, account, reason=reason, actor=actor, at=at, verified_by=verified_by)
    return UnfreezeResult(account, request)


def _ask_to_lift(
    uow: AccountsUnitOfWork,
    account: AccountSecurity,
    *,
    reason: str,
    actor: str,
    at: datetime,
    verified_by: str | None = None,
) -> ApprovalRequest:
    """An approval request to make the account active again, naming the restriction it
    lifts (`AccountSecurity.restriction`), audited."""
    payload: dict[str, object] = {"state": account.restriction, "by": account.actor}
    if verified_by is not None:
        payload["verified_by"] = verified_by
    request = approvals.request_approval(
        uow.approvals,
        action=UNFREEZE,
        subject=_subject(account.account_id),
        requested_by=actor,
        reason=reason,
        required=1,
        at=at,
        payload=payload,
    )
    _audit(
        uow,
        at=at,
        actor=actor,
        action="approval.requested",
        account_id=account.account_id,
        payload={"approval_id": request.id, "action": UNFREEZE, "verified_by": verified_by},
    )
    return request


def approve_unfreeze(
    uow: AccountsUnitOfWork, approval_id: str, *, approver: str, at: datetime
) -> UnfreezeResult:
    """Approve a pending unfreeze or lifting of a restriction (not by who asked for it) and
    carry it out; `Conflict` if the account changed since it was asked for."""
    pending = uow.approvals.get(approval_id)
    if pending is None or pending.action != UNFREEZE:
        raise NotFound(f"no unfreeze approval {approval_id}")
    case_id = pending.payload.get("case_id")
    if case_id is not None:
        raise Refused(
            f"{approval_id} was asked for from case {case_id}: approve it there "
            f"(walletguard cases approve {approval_id})",
            reason_code="CASE_APPROVAL",
        )
    account_id = pending.subject.removeprefix("account:")
    account = _account(uow, account_id)
    if pending.payload.get("state") != account.restriction:
        raise Conflict(
            f"account {account_id} changed since {approval_id} was asked for "
            f"(it is {account.state.value} now): ask again"
        )
    request = approvals.approve(uow.approvals, approval_id, approver=approver, at=at)
    _audit(
        uow,
        at=at,
        actor=approver,
        action="approval.approved",
        account_id=account_id,
        payload={"approval_id": approval_id, "action": UNFREEZE},
    )
    if request.status is not ApprovalStatus.APPROVED:
        return UnfreezeResult(account, request)
    reason = f"{request.reason} (asked by {request.requested_by}, approved by {approver})"
    return UnfreezeResult(
        _make_active(uow, account, reason=reason, actor=approver, at=at, approval_id=approval_id)
    )


def _make_active(
    uow: AccountsUnitOfWork,
    account: AccountSecurity,
    *,
    reason: str,
    actor: str,
    at: datetime,
    approval_id: str | None = None,
) -> AccountSecurity:
    active, change = account.transition(AccountState.ACTIVE, reason=reason, actor=actor, at=at)
    extra: dict[str, object] = {"approval_id": approval_id} if approval_id else {}
    save_change(uow, active, change, **extra)
    return active


def mint_freeze_link(
    key: bytes, account_id: str, *, at: datetime, ttl: timedelta, base_url: str | None = None
) -> str:
    """A "not me? freeze now" link (or the bare token when there is no base URL)."""
    token = mint_freeze_token(key, account_id, at=at, ttl=ttl)
    return f"{base_url.rstrip('/')}/freeze/{token}" if base_url else token


@dataclass(frozen=True, slots=True)
class FreezeLink:
    token: str
    url: str | None
    """The token under `base_url`, when one was given."""
    expires_at: datetime


def issue_freeze_link(
    uow: AccountsUnitOfWork,
    key: bytes,
    account_id: str,
    *,
    at: datetime,
    ttl: timedelta,
    actor: str,
    base_url: str | None = None,
) -> FreezeLink:
    """A freeze link for an account walletguard knows (`NotFound` otherwise: a link must
    not make up an account), audited as minted by `actor` with its token id and expiry."""
    _account(uow, account_id)
    link = mint_freeze_link(key, account_id, at=at, ttl=ttl, base_url=base_url)
    token = token_of_link(link)
    claim = verify_freeze_token(key, token, at=at)
    _audit(
        uow,
        at=at,
        actor=actor,
        action="account.freeze_link_minted",
        account_id=account_id,
        payload={"token_id": claim.token_id, "expires_at": claim.expires_at.isoformat()},
    )
    return FreezeLink(token, link if base_url else None, claim.expires_at)


@dataclass(frozen=True, slots=True)
class Redemption:
    account: AccountSecurity
    frozen_now: bool
    """False when the account was already frozen (or closed): nothing more to do."""


def redeem_freeze_link(
    uow: AccountsUnitOfWork, key: bytes, token: str, *, at: datetime
) -> Redemption:
    """Freeze the account a link names, at once and without signing in. A token works
    once, until it expires; a forged, used or expired one is `Refused`."""
    claim = verify_freeze_token(key, token_of_link(token), at=at)
    tokens = uow.accounts.freeze_tokens
    used = tokens.used_at(claim.token_id)
    if used is not None:
        raise Refused(
            f"this freeze link was already used at {used.isoformat()}",
            reason_code="FREEZE_LINK_USED",
        )
    tokens.mark_used(claim.token_id, claim.account_id, at)
    account = uow.accounts.get(claim.account_id) or AccountSecurity(claim.account_id)
    payload: dict[str, object] = {"token_id": claim.token_id}
    if account.state in (AccountState.FROZEN, AccountState.CLOSED):
        _audit(
            uow,
            at=at,
            actor="user",
            action="account.freeze_link_redeemed",
            account_id=claim.account_id,
            payload={**payload, "state": account.state.value},
        )
        return Redemption(account, frozen_now=False)
    frozen, change = account.transition(
        AccountState.FROZEN,
        reason="frozen by the account holder from a notification link",
        actor="user",
        at=at,
    )
    save_change(uow, frozen, change, **payload)
    return Redemption(frozen, frozen_now=True)


def _binding(uow: AccountsUnitOfWork, account_id: str, token: str) -> Binding:
    repo = uow.accounts.bindings
    for target in (Target.ACCOUNT, Target.DEVICE):
        found = repo.current(account_id, target, token)
        if found is not None and found.active:
            return found
    raise NotFound(f"{account_id} has no active binding {token}")


def unbind(
    uow: AccountsUnitOfWork,
    account_id: str,
    token: str,
    *,
    reason: str,
    actor: str,
    at: datetime,
) -> Binding:
    """Remove a binding in one step (the record stays, stamped)."""
    binding = _binding(uow, account_id, token).unbind(by=actor, at=at, reason=_need_reason(reason))
    uow.accounts.bindings.save(binding)
    _audit(
        uow,
        at=at,
        actor=actor,
        action="binding.unbound",
        account_id=account_id,
        payload={"binding_id": binding.id, "token": token, "reason": binding.unbind_reason},
    )
    return binding


def mark_suspicious(
    uow: AccountsUnitOfWork,
    account_id: str,
    token: str,
    *,
    reason: str,
    actor: str,
    at: datetime,
) -> Binding:
    """Flag a binding: withdrawals to it are refused until it is unbound and bound again."""
    repo = uow.accounts.bindings
    binding = next(
        (b for t in Target if (b := repo.current(account_id, t, token)) is not None), None
    )
    if binding is None:
        raise NotFound(f"{account_id} never bound {token}")
    flagged = binding.flag(by=actor, at=at, reason=_need_reason(reason))
    repo.save(flagged)
    _audit(
        uow,
        at=at,
        actor=actor,
        action="binding.flagged",
        account_id=account_id,
        payload={"binding_id": binding.id, "token": token, "reason": flagged.suspicious_reason},
    )
    return flagged
