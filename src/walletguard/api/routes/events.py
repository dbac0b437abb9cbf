"""Submit an event, get its decision; read a stored decision."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from walletguard.api.batcher import DecisionsUnavailable
from walletguard.api.deps import unit_of_work
from walletguard.api.params import EventId
from walletguard.api.problems import problem, problem_for
from walletguard.api.schemas import DecisionOut, Problem
from walletguard.api.security import CanReadDecisions, CanSubmitEvents
from walletguard.decisions.engine import INTERNAL_ERROR, Failure
from walletguard.events.decode import event_schema
from walletguard.kernel.errors import NotFound
from walletguard.storage import tables as t

router = APIRouter(prefix="/v1", tags=["events"])
log = logging.getLogger("walletguard.api")

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No valid API key"},
    403: {"model": Problem, "description": "The key's role does not allow this"},
    429: {"model": Problem, "description": "Rate limit exceeded (see Retry-After)"},
}


def _event_body_doc() -> dict[str, Any]:
    schema = {k: v for k, v in event_schema().items() if k not in ("$schema", "$id")}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


_FAILURE_STATUS = {"conflict": (409, "Conflict"), INTERNAL_ERROR: (500, "Internal error")}
"""HTTP status and title of an event the engine could not decide, by `Failure.code`."""


@router.post(
    "/events",
    response_model=DecisionOut,
    summary="Submit an event and get its decision",
    description="Decides the event with all its effects and answers once the decision is durably "
    "stored. The same event_id again returns the first decision; the same event_id with a "
    "different body is refused with 409.",
    openapi_extra=_event_body_doc(),
    responses={
        **_ERRORS,
        409: {"model": Problem},
        413: {"model": Problem},
        422: {"model": Problem},
        500: {"model": Problem, "description": "This event met an internal error; not stored"},
        503: {"model": Problem, "description": "Not stored (e.g. the database is away); retry"},
    },
)
async def submit_event(request: Request, who: CanSubmitEvents) -> Response:
    started = time.perf_counter()
    state = request.app.state
    body = await request.body()
    event = state.decoder.decode(body)  # InvalidInput → 422 with every field path
    try:
        answer = await asyncio.wait_for(
            asyncio.wrap_future(state.decider.submit(event)), state.decision_timeout
        )
    except DecisionsUnavailable as exc:
        log.warning("%s", exc)
        # Nothing of this event was kept (e.g. the database went away), or it was and a
        # retry finds it by its event id: sending it again is safe and gets one decision.
        return _unavailable("the decision could not be stored; retry the event")
    except TimeoutError:
        log.warning("no decision for %s within %s s", event.event_id, state.decision_timeout)
        return _unavailable(
            f"no decision within {state.decision_timeout:g} s; retry the event (if it was "
            "decided meanwhile, the retry returns that decision)"
        )
    if isinstance(answer, Failure):
        status, title = _FAILURE_STATUS.get(answer.code, (422, "Refused"))
        return problem(status, title, answer.message, code=answer.code)
    state.metrics.decisions.labels(answer.outcome).inc()
    state.metrics.latency.observe(time.perf_counter() - started)
    return Response(answer.body, media_type="application/json")


def _unavailable(detail: str) -> Response:
    return problem(503, "Unavailable", detail, headers={"Retry-After": "1"}, code="unavailable")


@router.get(
    "/decisions/{event_id:path}",  # an event id may hold '/' (sent as %2F)
    response_model=DecisionOut,
    summary="Read the decision made for an event",
    responses={**_ERRORS, 404: {"model": Problem}},
)
def read_decision(event_id: EventId, request: Request, who: CanReadDecisions) -> Response:
    with unit_of_work(request) as uow:
        body = uow.conn.execute(
            select(t.decisions.c.body).where(t.decisions.c.event_id == event_id)
        ).scalar()
    if body is None:
        return problem_for(NotFound(f"no decision for event {event_id}"))
    return Response(body, media_type="application/json")
