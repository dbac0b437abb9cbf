"""Actions from a case, through the same services as everywhere else: freeze, unfreeze
(maker-checker), release or void a hold (large releases: maker-checker), unbind, list."""

from __future__ import annotations

from fastapi import APIRouter, Request

from walletguard.api.deps import now, unit_of_work
from walletguard.api.params import CaseId, HoldId
from walletguard.api.routes.common import problems
from walletguard.api.schemas import ApprovalOut, ReasonIn
from walletguard.api.schemas_cases import ActionOut, ListIn, UnbindIn
from walletguard.api.security import CanWorkCases
from walletguard.cases import actions
from walletguard.cases.actions import ActionResult
from walletguard.enrich.lists import ListEntity, ListEntry, ListKind, normalise_list_value

router = APIRouter(prefix="/v1/cases/{case_id}", tags=["case actions"])

ACT = problems(404, 409, 422)


def _out(result: ActionResult) -> ActionOut:
    approval = ApprovalOut.of(result.approval) if result.approval is not None else None
    return ActionOut(done=result.done, message=result.message, approval=approval)


@router.post(
    "/freeze", response_model=ActionOut, summary="Freeze the case's account now", responses=ACT
)
def freeze(case_id: CaseId, body: ReasonIn, request: Request, who: CanWorkCases) -> ActionOut:
    with unit_of_work(request) as uow:
        result = actions.freeze(uow, case_id, reason=body.reason, actor=who.actor, at=now())
    return _out(result)


@router.post(
    "/unfreeze",
    response_model=ActionOut,
    summary="Lift the freeze or restriction: needs a second person's approval",
    description="The first call asks for an approval (`done: false`); once someone whose key "
    "has another owner approved it (`POST /v1/approvals/{id}/approve`), the account is active "
    "again.",
    responses=ACT,
)
def unfreeze(case_id: CaseId, body: ReasonIn, request: Request, who: CanWorkCases) -> ActionOut:
    with unit_of_work(request) as uow:
        result = actions.unfreeze(uow, case_id, reason=body.reason, actor=who.actor, at=now())
    return _out(result)


@router.post(
    "/holds/{hold_id}/release",
    response_model=ActionOut,
    summary="Let held money go through (from 10,000.00: a second person approves first)",
    responses=ACT,
)
def release_hold(
    case_id: CaseId, hold_id: HoldId, body: ReasonIn, request: Request, who: CanWorkCases
) -> ActionOut:
    with unit_of_work(request) as uow:
        result = actions.release_hold(
            uow, case_id, hold_id, reason=body.reason, actor=who.actor, at=now()
        )
    return _out(result)


@router.post(
    "/holds/{hold_id}/void",
    response_model=ActionOut,
    summary="Cancel the held movement: the money goes back to the wallet",
    responses=ACT,
)
def void_hold(
    case_id: CaseId, hold_id: HoldId, body: ReasonIn, request: Request, who: CanWorkCases
) -> ActionOut:
    with unit_of_work(request) as uow:
        result = actions.void_hold(
            uow, case_id, hold_id, reason=body.reason, actor=who.actor, at=now()
        )
    return _out(result)


@router.post(
    "/unbind",
    response_model=ActionOut,
    summary="Unbind a card, account or device of the case's account (also when frozen)",
    responses=ACT,
)
def unbind(case_id: CaseId, body: UnbindIn, request: Request, who: CanWorkCases) -> ActionOut:
    with unit_of_work(request) as uow:
        result = actions.unbind(
            uow, case_id, body.token, reason=body.reason, actor=who.actor, at=now()
        )
    return _out(result)


@router.post(
    "/lists",
    response_model=ActionOut,
    summary="Put a value from the case on the block, allow or watch list",
    responses=ACT,
)
def add_to_list(case_id: CaseId, body: ListIn, request: Request, who: CanWorkCases) -> ActionOut:
    entity = ListEntity(body.entity)
    entry = ListEntry(
        ListKind(body.kind),
        entity,
        normalise_list_value(entity, body.value),
        body.reason,
        created_by=who.actor,
    )
    with unit_of_work(request) as uow:
        result = actions.add_to_list(uow, case_id, entry, actor=who.actor, at=now())
    request.app.state.decider.refresh_soon()
    return _out(result)
