"""What account holders do themselves, without an API key: the token in a notification's
"not me? freeze now" link is the credential."""

from __future__ import annotations

from fastapi import APIRouter, Request

from walletguard.accounts import service
from walletguard.api.deps import now, unit_of_work
from walletguard.api.routes.common import problems
from walletguard.api.schemas_accounts import SelfServiceFreezeIn, SelfServiceFreezeOut
from walletguard.api.security import PerClientAddress

router = APIRouter(prefix="/v1/self-service", tags=["self-service"])


@router.post(
    "/freeze",
    response_model=SelfServiceFreezeOut,
    summary="Freeze the account a freeze link names, at once (no API key: the token is the "
    "credential)",
    description="A token works once, until it expires. A used, expired or forged token is "
    "refused with 422 and `reason_code` FREEZE_LINK_USED, FREEZE_LINK_EXPIRED or "
    "FREEZE_LINK_INVALID. Rate-limited per client address.",
    responses=problems(409, 422),
)
def redeem_freeze_link(
    body: SelfServiceFreezeIn, request: Request, _: PerClientAddress
) -> SelfServiceFreezeOut:
    key = request.app.state.key_store.secret("freeze_link")
    with unit_of_work(request) as uow:
        result = service.redeem_freeze_link(uow, key, body.token, at=now())
    return SelfServiceFreezeOut(
        state=result.account.state,
        frozen_now=result.frozen_now,
        message="the account is frozen: no money moves until it is unfrozen"
        if result.frozen_now
        else f"the account was already {result.account.state.value}",
    )
