"""The wallet ledger: balances, statements (JSON, CSV, PDF), holds, withdrawal approvals."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from walletguard.api.deps import ledger_session, ledger_settings, now
from walletguard.api.params import AccountId, HoldId
from walletguard.api.routes.common import problems
from walletguard.api.schemas import ApprovalOut, ReasonIn, UtcTime
from walletguard.api.schemas_ledger import (
    BalanceOut,
    HoldOut,
    HoldPostIn,
    HoldVoidIn,
    StatementOut,
    WithdrawalOut,
)
from walletguard.api.security import CanActOnLedger, CanApprove, CanReadLedger
from walletguard.kernel.money import units_of
from walletguard.ledger import operator, withdrawals
from walletguard.ledger.model import Balance, HoldStatus, wallet_account
from walletguard.ledger.statement_pdf import statement_pdf
from walletguard.ledger.statements import StatementFilter, statement_csv
from walletguard.storage.ledger_session import issue_statement, require_known_account

router = APIRouter(prefix="/v1", tags=["ledger"])

Currency = Annotated[str, Query(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
Filter = Annotated[str | None, Query(min_length=1, max_length=200, pattern=r"^[^\x00]+$")]


@router.get(
    "/accounts/{account_id}/balances",
    response_model=list[BalanceOut],
    summary="The wallet's posted, held, pending and available balance, per currency",
    description="Every currency the wallet has a balance in; with `currency`, that one only "
    "(zero if it has none). 404 for an account walletguard has never seen.",
    responses=problems(404, 422),
)
def balances(
    account_id: AccountId,
    request: Request,
    who: CanReadLedger,
    currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None,
) -> list[BalanceOut]:
    account = wallet_account(account_id)
    with ledger_session(request) as session:
        require_known_account(session, account)  # a made-up name is not an empty wallet
        found = session.queries.balances(account)
    if currency is not None:
        found = [b for b in found if b.currency == currency] or [Balance(account, currency)]
    return [BalanceOut.of(b) for b in found]


_STATEMENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
}


@router.get(
    "/accounts/{account_id}/statement",
    response_model=StatementOut,
    summary="An account statement with running balances, stamped with the audit chain's head",
    description="Lines in [from, to), filtered by type, channel and counterparty; the running "
    "balance counts every posting. Issuing a statement is audited with its digest. "
    "`format=csv` and `format=pdf` return the same statement as a file.",
    responses={
        200: {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            }
        },
        **problems(404, 422),
    },
)
def statement(
    account_id: AccountId,
    request: Request,
    who: CanReadLedger,
    start: Annotated[UtcTime | None, Query(alias="from")] = None,
    end: Annotated[UtcTime | None, Query(alias="to")] = None,
    types: Annotated[list[str] | None, Query(alias="type", max_length=20)] = None,
    channel: Filter = None,
    counterparty: Filter = None,
    currency: Currency = "CNY",
    fmt: Annotated[Literal["json", "csv", "pdf"], Query(alias="format")] = "json",
) -> Response:
    filters = StatementFilter(
        start=start,
        end=end,
        kinds=frozenset(types or ()),
        channel=channel,
        counterparty=counterparty,
    )
    with ledger_session(request) as session:
        made = issue_statement(
            session, wallet_account(account_id), currency, filters, at=now(), actor=who.actor
        )
    if fmt == "csv":
        body: bytes = statement_csv(made).encode()
    elif fmt == "pdf":
        body = statement_pdf(made)
    else:
        body = StatementOut.of(made).model_dump_json().encode()
    headers = {}
    if fmt != "json":
        name = f"statement-{made.digest[:16]}.{fmt}"
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return Response(body, media_type=_STATEMENT_TYPES[fmt], headers=headers)


@router.get(
    "/holds",
    response_model=list[HoldOut],
    summary="Holds, newest first (pending ones unless `status` says otherwise)",
    responses=problems(422),
)
def holds(
    request: Request,
    who: CanReadLedger,
    status: HoldStatus | None = HoldStatus.PENDING,
    account_id: Annotated[
        str | None, Query(min_length=1, max_length=128, pattern=r"^[^\x00]+$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[HoldOut]:
    with ledger_session(request) as session:
        found = session.queries.holds(
            account=wallet_account(account_id) if account_id else None, status=status, limit=limit
        )
    return [HoldOut.of(h) for h in found]


@router.post(
    "/holds/{hold_id}/post",
    response_model=HoldOut,
    summary="Move held money to its destination (not withdrawals: approve those; not "
    "10,000.00 or more: release those from their case, which asks a second person)",
    responses=problems(404, 409, 422),
)
def post_hold(hold_id: HoldId, body: HoldPostIn, request: Request, who: CanActOnLedger) -> HoldOut:
    amount = units_of(body.amount, "$.amount") if body.amount is not None else None
    with ledger_session(request) as session:
        hold = operator.post_hold_as(
            session, hold_id, by=who.actor, at=now(), amount=amount, note=body.note
        )
    return HoldOut.of(hold)


@router.post(
    "/holds/{hold_id}/void",
    response_model=HoldOut,
    summary="Release held money back to the wallet",
    responses=problems(404, 409, 422),
)
def void_hold(hold_id: HoldId, body: HoldVoidIn, request: Request, who: CanActOnLedger) -> HoldOut:
    with ledger_session(request) as session:
        hold = operator.void_hold_as(session, hold_id, by=who.actor, at=now(), note=body.note)
    return HoldOut.of(hold)


@router.post(
    "/withdrawals/{hold_id}/approve",
    response_model=WithdrawalOut,
    summary="Approve releasing a held withdrawal (maker-checker: never by the requester)",
    description="The money leaves once enough different people approved (one above the "
    "first threshold, two above the second); until then `released` is false.",
    responses=problems(404, 409, 422),
)
def approve_withdrawal(hold_id: HoldId, request: Request, who: CanApprove) -> WithdrawalOut:
    settings = ledger_settings(request)
    with ledger_session(request) as session:
        hold, approval = withdrawals.approve_withdrawal(
            session, settings, hold_id, approver=who.actor, at=now()
        )
    return WithdrawalOut(
        released=hold.status is HoldStatus.POSTED,
        hold=HoldOut.of(hold),
        approval=ApprovalOut.of(approval),
    )


@router.post(
    "/withdrawals/{hold_id}/reject",
    response_model=WithdrawalOut,
    summary="Reject a held withdrawal: the money is available again and the user is told why",
    responses=problems(404, 409, 422),
)
def reject_withdrawal(
    hold_id: HoldId, body: ReasonIn, request: Request, who: CanApprove
) -> WithdrawalOut:
    with ledger_session(request) as session:
        hold = withdrawals.reject_withdrawal(
            session, hold_id, by=who.actor, reason=body.reason, at=now()
        )
        approval = session.approvals.get(hold.approval_id) if hold.approval_id else None
    return WithdrawalOut(
        released=False,
        hold=HoldOut.of(hold),
        approval=ApprovalOut.of(approval) if approval else None,
    )
