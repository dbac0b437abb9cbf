"""Block, allow and watch lists."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from walletguard.api.deps import now, unit_of_work
from walletguard.api.routes.events import _ERRORS
from walletguard.api.schemas import ListEntryIn, ListEntryOut, Problem
from walletguard.api.security import CanReadLists, CanWriteLists
from walletguard.enrich.lists import ListEntity, ListEntry, ListKind, normalise_list_value
from walletguard.kernel.errors import FieldProblem, InvalidInput, NotFound

router = APIRouter(prefix="/v1/lists", tags=["lists"])


def _out(entry: ListEntry) -> ListEntryOut:
    assert entry.id is not None
    return ListEntryOut(
        id=entry.id,
        kind=entry.kind.value,
        entity=entry.entity.value,
        value=entry.value,
        reason=entry.reason,
        expires_at=entry.expires_at,
        created_by=entry.created_by,
    )


@router.get("", response_model=list[ListEntryOut], summary="Every list entry", responses=_ERRORS)
def list_entries(request: Request, who: CanReadLists) -> list[ListEntryOut]:
    with unit_of_work(request) as uow:
        return [_out(e) for e in uow.lists.all()]


@router.post(
    "",
    response_model=ListEntryOut,
    status_code=201,
    summary="Add an entry (takes effect for the next events decided)",
    responses={**_ERRORS, 422: {"model": Problem}},
)
def add_entry(entry: ListEntryIn, request: Request, who: CanWriteLists) -> ListEntryOut:
    entity = ListEntity(entry.entity)
    value = normalise_list_value(entity, entry.value)
    at = now()
    if entry.expires_at is not None and entry.expires_at <= at:
        raise InvalidInput(
            [FieldProblem("$.expires_at", "is already past: the entry would do nothing")]
        )
    with unit_of_work(request) as uow:
        stored = ListEntry(
            ListKind(entry.kind), entity, value, entry.reason, entry.expires_at, who.actor
        )
        entry_id = uow.lists.add(stored, at=at)
        uow.audit.append(
            at=at,
            actor=who.actor,
            action="list.added",
            subject=f"list:{entry_id}",
            payload={
                "kind": entry.kind,
                "entity": entry.entity,
                "value": value,
                "reason": entry.reason,
            },
        )
    request.app.state.decider.refresh_soon()
    return _out(
        ListEntry(stored.kind, entity, value, entry.reason, entry.expires_at, who.actor, entry_id)
    )


@router.delete(
    "/{entry_id}",
    status_code=204,
    summary="Remove an entry",
    responses={**_ERRORS, 404: {"model": Problem}},
)
def remove_entry(
    entry_id: Annotated[int, Path(ge=1, le=2**63 - 1)], request: Request, who: CanWriteLists
) -> None:
    with unit_of_work(request) as uow:
        if not uow.lists.remove(entry_id):
            raise NotFound(f"no list entry {entry_id}")
        uow.audit.append(
            at=now(), actor=who.actor, action="list.removed", subject=f"list:{entry_id}", payload={}
        )
    request.app.state.decider.refresh_soon()
