"""Importing transfers by hand (`walletguard ledger transfers FILE`): the PostgreSQL batch
path where it is safe, the Python service elsewhere, with audit records either way.

The batch path (`ledger_batch.post_transfers`) checks funds, idempotency and every database
invariant but neither limits nor wallets' states, so a chunk takes it only on PostgreSQL,
only if none of its transfers is a customer's kind of movement (a transfer, payment or
withdrawal) touching a wallet, and only if none names an account a hand transfer must not
open (`ledger.operator.refusals`); everything else goes through `ledger.operator.transfer_as`.
A chunk the batch path cannot take whole (an amount past a balance's range) is applied
transfer by transfer instead, each with its own outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import DataError

from walletguard.kernel.errors import Conflict, Refused
from walletguard.ledger import operator
from walletguard.ledger.model import TransferRequest, is_wallet
from walletguard.ledger.settings import OPERATIONS, LedgerSettings
from walletguard.storage.ledger_batch import post_transfers
from walletguard.storage.ledger_session import LedgerSession


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    id: str
    status: str
    """posted, failed or conflict (the id was used before with another payload)."""
    reason_code: str | None
    replayed: bool
    """The id's first outcome, from an earlier import: nothing changed now."""
    detail: str = ""
    """What was wrong, where the path that decided says (a refusal, a conflict's difference)."""


def _customers_kind(request: TransferRequest) -> bool:
    """Limits and wallets' states apply: the per-transfer path only."""
    return request.kind in OPERATIONS and (
        is_wallet(request.source) or is_wallet(request.destination)
    )


def import_transfers(
    session: LedgerSession,
    chunk: list[TransferRequest],
    *,
    by: str,
    at: datetime,
    limits: LedgerSettings,
) -> list[ImportOutcome]:
    """Apply `chunk` in `session` (one unit of work); one outcome per request, in order."""
    if (
        session.database.is_sqlite
        or any(_customers_kind(r) for r in chunk)
        or operator.refusals(session, chunk, limits)  # each says why, unless a retry
    ):
        return [_one(session, r, by=by, at=at, limits=limits) for r in chunk]
    try:
        with session.conn.begin_nested():
            results = post_transfers(session.conn, chunk, at=at)
    except DataError:  # e.g. a balance past bigint: let each transfer say which it was
        return [_one(session, r, by=by, at=at, limits=limits) for r in chunk]
    changed = [r for r in results if not r.replayed and r.status != "conflict"]
    if changed:
        session.audit.append(
            at=at,
            actor=by,
            action="ledger.transfers",
            subject=f"transfers:{changed[0].id}",
            payload={
                "transfers": [
                    {"id": r.id, "status": r.status, "reason_code": r.reason_code} for r in changed
                ]
            },
        )
    return [ImportOutcome(r.id, r.status, r.reason_code, r.replayed) for r in results]


def _one(
    session: LedgerSession,
    request: TransferRequest,
    *,
    by: str,
    at: datetime,
    limits: LedgerSettings,
) -> ImportOutcome:
    try:
        record = operator.transfer_as(session, request, by=by, at=at, limits=limits)
    except Conflict as exc:
        return ImportOutcome(request.id, "conflict", "CONFLICT", False, exc.message)
    except Refused as exc:  # before the ledger saw it (a wallet's state): not remembered
        return ImportOutcome(request.id, "failed", exc.reason_code, False, exc.message)
    return ImportOutcome(
        request.id, record.status.value, record.reason_code, record.replayed, record.message or ""
    )
