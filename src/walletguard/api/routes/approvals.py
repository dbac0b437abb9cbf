"""Maker-checker approvals of every kind (account unfreezes, case actions, withdrawal
releases): list them, approve (never the requester: with API keys, never a key of the same
owner) or reject."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from walletguard.api.deps import ledger_settings, now, unit_of_work
from walletguard.api.params import ApprovalId
from walletguard.api.routes.common import problems
from walletguard.api.schemas import ApprovalOut
from walletguard.api.schemas_cases import DecidedOut, RejectIn
from walletguard.api.security import CanApprove, CanReadCases
from walletguard.approvals.dispatch import Decided, approve_any, reject_any
from walletguard.approvals.model import ApprovalStatus
from walletguard.kernel.errors import NotFound

router = APIRouter(prefix="/v1/approvals", tags=["approvals"])


def _out(decided: Decided) -> DecidedOut:
    return DecidedOut(
        done=decided.done, message=decided.message, approval=ApprovalOut.of(decided.request)
    )


@router.get(
    "",
    response_model=list[ApprovalOut],
    summary="Approval requests, oldest first (pending ones unless `status` says otherwise)",
    responses=problems(422),
)
def list_approvals(
    request: Request,
    who: CanReadCases,
    status: ApprovalStatus | None = ApprovalStatus.PENDING,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ApprovalOut]:
    with unit_of_work(request) as uow:
        found = uow.approvals.requests(status=status, limit=limit)
    return [ApprovalOut.of(r) for r in found]


@router.get(
    "/{approval_id}",
    response_model=ApprovalOut,
    summary="One approval request",
    responses=problems(404, 422),
)
def read_approval(approval_id: ApprovalId, request: Request, who: CanReadCases) -> ApprovalOut:
    with unit_of_work(request) as uow:
        found = uow.approvals.get(approval_id)
    if found is None:
        raise NotFound(f"no approval request {approval_id}")
    return ApprovalOut.of(found)


@router.post(
    "/{approval_id}/approve",
    response_model=DecidedOut,
    summary="Approve a request someone else made; once enough people approved, it runs",
    description="Refused (422, SELF_APPROVAL) for the person who asked — with API keys the "
    "person is the key's owner — and (DUPLICATE_APPROVAL) for one who approved already; "
    "409 once the request was decided.",
    responses=problems(404, 409, 422),
)
def approve(approval_id: ApprovalId, request: Request, who: CanApprove) -> DecidedOut:
    settings = ledger_settings(request)
    with unit_of_work(request) as uow:
        decided = approve_any(uow, settings, approval_id, approver=who.actor, at=now())
    return _out(decided)


@router.post(
    "/{approval_id}/reject",
    response_model=DecidedOut,
    summary="Reject a request: the action will not happen",
    description="A rejected withdrawal's money is available again and the user is told why.",
    responses=problems(404, 409, 422),
)
def reject(
    approval_id: ApprovalId, body: RejectIn, request: Request, who: CanApprove
) -> DecidedOut:
    with unit_of_work(request) as uow:
        decided = reject_any(uow, approval_id, by=who.actor, reason=body.reason, at=now())
    return _out(decided)
