"""Top-up reconciliation: upload a channel's statement, read the reports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from walletguard.api.deps import ledger_session, ledger_settings, now
from walletguard.api.params import Channel, Digest
from walletguard.api.routes.common import problems
from walletguard.api.schemas_ledger import ReconciliationOut, ReconciliationSummary
from walletguard.api.security import CanReadLedger, CanReconcile
from walletguard.kernel.errors import NotFound
from walletguard.ledger.reconcile import reconcile

router = APIRouter(prefix="/v1/reconciliations", tags=["reconciliation"])

MAX_STATEMENT_BYTES = 8 * 1024 * 1024
"""The body limit of a statement upload (the service's general limit is much smaller)."""


async def _raw_body(request: Request) -> bytes:
    return await request.body()


@router.post(
    "/{channel}",
    response_model=ReconciliationOut,
    summary="Reconcile a channel's statement (CSV) against the ledger's top-ups",
    description="The body is the statement as the channel wrote it (`text/csv`, in the "
    "channel's configured layout, at most 8 MiB). Every line is classified; a suspected fake "
    "top-up is marked, its money held and a case opened. Posting the same statement again "
    "changes nothing and returns the first report (`already_imported: true`).",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
    responses=problems(413, 422),
)
def upload_statement(
    channel: Channel,
    request: Request,
    who: CanReconcile,
    data: Annotated[bytes, Depends(_raw_body)],
    source: Annotated[
        str, Query(min_length=1, max_length=200, pattern=r"^[^\x00]+$", description="A name for it")
    ] = "upload",
) -> ReconciliationOut:
    settings = ledger_settings(request)
    with ledger_session(request) as session:
        report = reconcile(
            session,
            session.queries,
            settings,
            channel=channel,
            data=data,
            source=source,
            at=now(),
            actor=who.actor,
        )
    return ReconciliationOut.of(report, again=bool(report["already_imported"]))


def _summaries(request: Request, channel: str | None, limit: int) -> list[ReconciliationSummary]:
    with ledger_session(request) as session:
        found = session.queries.statement_imports(channel=channel, limit=limit)
    return [ReconciliationSummary.model_validate(row) for row in found]


Limit = Annotated[int, Query(ge=1, le=1000)]


@router.get(
    "",
    response_model=list[ReconciliationSummary],
    summary="Statements reconciled, newest first",
    responses=problems(422),
)
def list_reconciliations(
    request: Request, who: CanReadLedger, limit: Limit = 100
) -> list[ReconciliationSummary]:
    return _summaries(request, None, limit)


@router.get(
    "/{channel}",
    response_model=list[ReconciliationSummary],
    summary="A channel's statements reconciled, newest first",
    responses=problems(422),
)
def list_channel_reconciliations(
    channel: Channel, request: Request, who: CanReadLedger, limit: Limit = 100
) -> list[ReconciliationSummary]:
    return _summaries(request, channel, limit)


@router.get(
    "/{channel}/{digest}",
    response_model=ReconciliationOut,
    summary="The report of a reconciled statement (its digest is in the upload's answer)",
    responses=problems(404, 422),
)
def read_reconciliation(
    channel: Channel, digest: Digest, request: Request, who: CanReadLedger
) -> ReconciliationOut:
    with ledger_session(request) as session:
        report = session.queries.statement_import(digest)
    if report is None or report.get("channel") != channel:
        raise NotFound(f"no statement {digest} reconciled for channel {channel}")
    return ReconciliationOut.of(report, again=True)
