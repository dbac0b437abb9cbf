"""Users' appeals against a restriction on their account, tracked to their resolution."""

from __future__ import annotations

from fastapi import APIRouter, Request

from walletguard.api.deps import now, unit_of_work
from walletguard.api.params import AccountId, AppealId
from walletguard.api.routes.common import problems
from walletguard.api.schemas_accounts import AppealIn, AppealOut, AppealResolveIn
from walletguard.api.security import CanReadCases, CanWorkCases
from walletguard.cases.appeals import open_appeal, resolve_appeal

router = APIRouter(prefix="/v1", tags=["appeals"])


@router.post(
    "/accounts/{account_id}/appeals",
    response_model=AppealOut,
    status_code=201,
    summary="Record a user's appeal against the restriction on their account",
    description="Refused (422, NOTHING_TO_APPEAL) unless the account is restricted, frozen or "
    "locked; 409 while it has an open appeal. Filed on the account's open case, if any.",
    responses=problems(409, 422),
)
def open_appeal_(
    account_id: AccountId, body: AppealIn, request: Request, who: CanWorkCases
) -> AppealOut:
    with unit_of_work(request) as uow:
        state = uow.accounts.get(account_id)
        appeal = open_appeal(
            uow,
            account_id,
            restriction=state.state.value if state is not None else "unknown",
            text=body.text,
            actor=who.actor,
            at=now(),
        )
    return AppealOut.of(appeal)


@router.post(
    "/appeals/{appeal_id}/resolve",
    response_model=AppealOut,
    summary="Resolve an appeal: lifted (the user was right) or upheld",
    description="Lifting the restriction itself is a case action (`/v1/cases/{id}/unfreeze`, "
    "with approval).",
    responses=problems(404, 409, 422),
)
def resolve_appeal_(
    appeal_id: AppealId, body: AppealResolveIn, request: Request, who: CanWorkCases
) -> AppealOut:
    with unit_of_work(request) as uow:
        appeal = resolve_appeal(
            uow, appeal_id, body.result, note=body.note, actor=who.actor, at=now()
        )
    return AppealOut.of(appeal)


@router.get(
    "/appeals",
    response_model=list[AppealOut],
    summary="Appeals, oldest first, with their time to resolution",
    responses=problems(422),
)
def list_appeals(request: Request, who: CanReadCases, open_only: bool = False) -> list[AppealOut]:
    with unit_of_work(request) as uow:
        appeals = uow.appeals.list_appeals(open_only=open_only)
    return [AppealOut.of(a) for a in appeals]
