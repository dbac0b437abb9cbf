"""The review queue and working a case: read, assign, note, move, resolve."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from walletguard.api.deps import now, unit_of_work
from walletguard.api.params import CaseId
from walletguard.api.routes.common import problems
from walletguard.api.schemas_cases import (
    AlertOut,
    AssignIn,
    CaseDetailOut,
    CaseOut,
    LabelOut,
    NoteIn,
    NoteOut,
    ReasonOut,
    ResolvedOut,
    ResolveIn,
    StatusIn,
)
from walletguard.api.schemas_ledger import HoldOut
from walletguard.api.security import CanReadCases, CanWorkCases
from walletguard.cases import service
from walletguard.cases.model import Case, CaseStatus, QueueSettings
from walletguard.cases.queue import order_queue, priority

router = APIRouter(prefix="/v1/cases", tags=["cases"])

_QUEUE = QueueSettings()
Name = Annotated[str | None, Query(min_length=1, max_length=128, pattern=r"^[^\x00]+$")]


def _out(case: Case) -> CaseOut:
    return CaseOut.of(case, priority(case, now(), _QUEUE) if case.is_open else None)


@router.get(
    "",
    response_model=list[CaseOut],
    summary="The review queue: open cases, most urgent first",
    description="Priority weighs risk, money at stake and age against the SLA of the case's "
    "risk level (docs/cases.md). `include_resolved` appends resolved cases, oldest first.",
    responses=problems(422),
)
def queue(
    request: Request,
    who: CanReadCases,
    assignee: Name = None,
    account_id: Name = None,
    include_resolved: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[CaseOut]:
    with unit_of_work(request) as uow:
        cases = uow.cases.list_cases(
            open_only=not include_resolved, assignee=assignee, account_id=account_id
        )
    entries = order_queue(cases, now(), _QUEUE)
    found = [CaseOut.of(e.case, e) for e in entries]
    found += [CaseOut.of(c, None) for c in cases if not c.is_open]
    return found[:limit]


@router.get(
    "/{case_id}",
    response_model=CaseDetailOut,
    summary="A case: its alerts with their decisions' reasons, notes, holds and labels",
    responses=problems(404, 422),
)
def read_case(case_id: CaseId, request: Request, who: CanReadCases) -> CaseDetailOut:
    with unit_of_work(request) as uow:
        case = service.get_case(uow, case_id)
        alerts = []
        for alert in uow.cases.alerts_of(case.id):
            stored = uow.decisions.get(alert.event_id) if alert.event_id else None
            decision = stored.decision if stored else None
            reasons = [
                ReasonOut(code=r.code, message=r.message, score=r.score)
                for r in (decision.reasons if decision else [])
            ]
            alerts.append(AlertOut.of(alert, decision.decision if decision else None, reasons))
        notes = uow.cases.notes_of(case.id)
        labels = uow.cases.labels(case_id=case.id)
        account = uow.accounts.get(case.account_id)
        holds = uow.cases.holds_of(case.account_id)
    return CaseDetailOut(
        **_out(case).model_dump(),
        account_state=account.state.value if account else None,
        alerts=alerts,
        notes=[NoteOut.of(n) for n in notes],
        holds=[HoldOut.of(h) for h in holds],
        labels=[LabelOut.of(label) for label in labels],
    )


WORK = problems(404, 409, 422)


@router.post(
    "/{case_id}/assign",
    response_model=CaseOut,
    summary="Give a case to a reviewer (an open case moves to investigating)",
    responses=WORK,
)
def assign(case_id: CaseId, body: AssignIn, request: Request, who: CanWorkCases) -> CaseOut:
    with unit_of_work(request) as uow:
        case = service.assign(uow, case_id, body.assignee, actor=who.actor, at=now())
    return _out(case)


@router.post(
    "/{case_id}/notes",
    response_model=NoteOut,
    status_code=201,
    summary="Add a note to a case",
    responses=WORK,
)
def add_note(case_id: CaseId, body: NoteIn, request: Request, who: CanWorkCases) -> NoteOut:
    with unit_of_work(request) as uow:
        note = service.add_note(uow, case_id, body.text, actor=who.actor, at=now())
    return NoteOut.of(note)


@router.post(
    "/{case_id}/status",
    response_model=CaseOut,
    summary="Move a case along open → investigating ⇄ waiting_customer",
    responses=WORK,
)
def move(case_id: CaseId, body: StatusIn, request: Request, who: CanWorkCases) -> CaseOut:
    with unit_of_work(request) as uow:
        case = service.move(
            uow, case_id, CaseStatus(body.status), actor=who.actor, at=now(), note=body.note
        )
    return _out(case)


@router.post(
    "/{case_id}/resolve",
    response_model=ResolvedOut,
    summary="Close a case with an outcome; its events become labels",
    description="A confirmed fraud reports the account, its counterparties and devices to "
    "the feature store. Resolved is final.",
    responses=WORK,
)
def resolve(case_id: CaseId, body: ResolveIn, request: Request, who: CanWorkCases) -> ResolvedOut:
    with unit_of_work(request) as uow:
        case, labels = service.resolve(
            uow,
            case_id,
            body.outcome,
            actor=who.actor,
            at=now(),
            note=body.note,
            source=uow.cases,
            reports=uow.cases,
        )
    return ResolvedOut(**_out(case).model_dump(), labels=len(labels))
