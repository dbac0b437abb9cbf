"""Importing transfers by hand (`walletguard ledger transfers FILE`): the PostgreSQL batch
path where it is safe, the Python service elsewhere, with audit records either way.

The batch path (`ledger_batch.post_transfers`) checks funds, idempotency and every database
invariant but not limits, so a chunk takes it only on PostgreSQL and only if none of its
transfers is a limited operation out of a wallet (a transfer, payment or withdrawal a
customer could make); everything else goes through `ledger.operator.transfer_as`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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


def _limited(request: TransferRequest) -> bool:
    return request.kind in OPERATIONS and is_wallet(request.source)


def import_transfers(
    session: LedgerSession,
    chunk: list[TransferRequest],
    *,
    by: str,
    at: datetime,
    limits: LedgerSettings,
) -> list[ImportOutcome]:
    """Apply `chunk` in `session` (one unit of work); one outcome per request, in order."""
    if session.database.is_sqlite or any(_limited(r) for r in chunk):
        return [_one(session, r, by=by, at=at, limits=limits) for r in chunk]
    results = post_transfers(session.conn, chunk, at=at)
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
