"""Account security: the state with its bindings and decisions; freeze, restrict, lift a
restriction, unfreeze (maker-checker), unbind and flag bindings, mint freeze links."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request

from walletguard.accounts import service
from walletguard.accounts.model import LockScope
from walletguard.api.deps import now, unit_of_work
from walletguard.api.params import AccountId, Token
from walletguard.api.routes.common import problems
from walletguard.api.schemas import ReasonIn
from walletguard.api.schemas_accounts import (
    AccountOut,
    AccountStateOut,
    BindingActionOut,
    BindingOut,
    FreezeLinkIn,
    FreezeLinkOut,
    LockOut,
    RecentDecisionOut,
    TransitionOut,
    UnfreezeIn,
    UnfreezeOut,
)
from walletguard.api.security import CanActOnAccounts, CanReadAccounts
from walletguard.kernel.errors import NotFound

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])

ACT = problems(404, 409, 422)


@router.get(
    "/{account_id}",
    response_model=AccountOut,
    summary="An account's security state, lock-out, cool-off, bindings and recent decisions",
    responses=problems(404, 422),
)
def read_account(account_id: AccountId, request: Request, who: CanReadAccounts) -> AccountOut:
    with unit_of_work(request) as uow:
        account = uow.accounts.get(account_id)
        if account is None:
            raise _unknown(account_id)
        transitions = uow.accounts.history(account_id, limit=50)
        bindings = uow.accounts.bindings.history(account_id)
        recent = uow.accounts.recent_decisions(account_id, 20)
        totp = uow.accounts.totp.get(account_id) is not None
    lock = (
        LockOut(scope=account.lock_scope or LockScope.LOGIN, until=account.locked_until)
        if account.locked_until is not None
        else None
    )
    return AccountOut(
        **AccountStateOut.of(account).model_dump(),
        tier=account.tier,
        lock_out=lock,
        login_failures=account.login_failures,
        txn_password_failures=account.txn_failures,
        cool_off_until=account.cool_off_until,
        authenticator_enrolled=totp,
        bindings=[BindingOut.of(b) for b in bindings],
        transitions=[TransitionOut.of(c) for c in transitions],
        recent_decisions=[RecentDecisionOut.of(d) for d in recent],
    )


@router.post(
    "/{account_id}/freeze",
    response_model=AccountStateOut,
    summary="Freeze now: no money moves, no binding changes",
    responses=ACT,
)
def freeze(
    account_id: AccountId, body: ReasonIn, request: Request, who: CanActOnAccounts
) -> AccountStateOut:
    with unit_of_work(request) as uow:
        account = service.freeze(uow, account_id, reason=body.reason, actor=who.actor, at=now())
    return AccountStateOut.of(account)


@router.post(
    "/{account_id}/restrict",
    response_model=AccountStateOut,
    summary="Make the account read-only: money may come in, nothing goes out",
    responses=ACT,
)
def restrict(
    account_id: AccountId, body: ReasonIn, request: Request, who: CanActOnAccounts
) -> AccountStateOut:
    with unit_of_work(request) as uow:
        account = service.restrict(uow, account_id, reason=body.reason, actor=who.actor, at=now())
    return AccountStateOut.of(account)


@router.post(
    "/{account_id}/lift-restriction",
    response_model=UnfreezeOut,
    summary="Lift a restriction (restricted → active; maker-checker unless it is your own)",
    description="A restriction the key's owner put on is lifted at once. One a rule or another "
    "person put on gets an approval request instead (`done: false`, `approval`), which a "
    "supervisor whose key has another owner approves with `POST /v1/approvals/{id}/approve`.",
    responses=ACT,
)
def lift_restriction(
    account_id: AccountId, body: ReasonIn, request: Request, who: CanActOnAccounts
) -> UnfreezeOut:
    with unit_of_work(request) as uow:
        result = service.lift_restriction(
            uow, account_id, reason=body.reason, actor=who.actor, at=now()
        )
    return UnfreezeOut.of(result)


@router.post(
    "/{account_id}/unfreeze",
    response_model=UnfreezeOut,
    summary="Unfreeze after verifying the holder (maker-checker unless the holder froze it)",
    description="An account the holder froze themself is unfrozen at once. One a rule or a "
    "person froze gets an approval request instead (`done: false`, `approval`), which a "
    "supervisor whose key has another owner approves with `POST /v1/approvals/{id}/approve`.",
    responses=ACT,
)
def unfreeze(
    account_id: AccountId, body: UnfreezeIn, request: Request, who: CanActOnAccounts
) -> UnfreezeOut:
    with unit_of_work(request) as uow:
        result = service.request_unfreeze(
            uow,
            account_id,
            reason=body.reason,
            actor=who.actor,
            verified_by=body.verified_by,
            at=now(),
        )
    return UnfreezeOut.of(result)


@router.post(
    "/{account_id}/bindings/{token}/unbind",
    response_model=BindingActionOut,
    summary="Remove a bound account or device in one step (its record is kept)",
    responses=ACT,
)
def unbind(
    account_id: AccountId, token: Token, body: ReasonIn, request: Request, who: CanActOnAccounts
) -> BindingActionOut:
    with unit_of_work(request) as uow:
        binding = service.unbind(
            uow, account_id, token, reason=body.reason, actor=who.actor, at=now()
        )
    return BindingActionOut(account_id=account_id, binding=BindingOut.of(binding))


@router.post(
    "/{account_id}/bindings/{token}/mark-suspicious",
    response_model=BindingActionOut,
    summary="Mark a binding suspicious: withdrawals to it are refused",
    responses=ACT,
)
def mark_suspicious(
    account_id: AccountId, token: Token, body: ReasonIn, request: Request, who: CanActOnAccounts
) -> BindingActionOut:
    with unit_of_work(request) as uow:
        binding = service.mark_suspicious(
            uow, account_id, token, reason=body.reason, actor=who.actor, at=now()
        )
    return BindingActionOut(account_id=account_id, binding=BindingOut.of(binding))


@router.post(
    "/{account_id}/freeze-links",
    response_model=FreezeLinkOut,
    status_code=201,
    summary='Mint a signed, single-use "not me? freeze now" link for a notification',
    description="Whoever holds the token can freeze the account, once, until it expires, "
    "with `POST /v1/self-service/freeze` (no API key). Minting is audited.",
    responses=problems(404, 422),
)
def mint_freeze_link(
    account_id: AccountId, body: FreezeLinkIn, request: Request, who: CanActOnAccounts
) -> FreezeLinkOut:
    with unit_of_work(request) as uow:
        link = service.issue_freeze_link(
            uow,
            request.app.state.key_store.secret("freeze_link"),
            account_id,
            at=now(),
            ttl=timedelta(hours=body.ttl_hours),
            actor=who.actor,
            base_url=body.base_url,
        )
    return FreezeLinkOut(token=link.token, url=link.url, expires_at=link.expires_at)


def _unknown(account_id: str) -> NotFound:
    return NotFound(f"no account {account_id}: walletguard has never seen an event for it")
