"""The PostgreSQL fast path: many simple transfers in one round trip.

`wg_post_transfers(jsonb)` (migration 0003_ledger) does inside the server what
`ledger.service.transfer` does in Python — the idempotency record (same id + same
payload → the first outcome, a different payload → `conflict`), the funds check, the
postings, the balances — for a whole batch, in the caller's transaction. The database's
own triggers and CHECK constraints still apply to every row it writes. It does not check
limits: it is meant for bulk internal movements (settlements, sweeps — `walletguard ledger
transfers` uses it for chunks with no limited wallet operation), not for the
user-initiated operations the engine decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import msgspec
from sqlalchemy import Connection, text

from walletguard.kernel.canonical import canonical_json
from walletguard.kernel.errors import Refused
from walletguard.ledger.model import RESERVED_PREFIXES, TransferRequest
from walletguard.ledger.service import payload_hash

_CALL = text("SELECT wg_post_transfers(CAST(:batch AS jsonb))")


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    id: str
    status: str
    """posted, failed or conflict."""
    reason_code: str | None
    replayed: bool


def post_transfers(
    conn: Connection, requests: list[TransferRequest], *, at: datetime
) -> list[BatchOutcome]:
    """Post `requests` in one statement on PostgreSQL; one outcome per request, in order."""
    if conn.dialect.name != "postgresql":
        raise Refused("the batch fast path needs PostgreSQL", reason_code="POSTGRESQL_ONLY")
    items = []
    for request in requests:
        if request.amount <= 0 or request.source == request.destination:
            raise Refused(
                f"transfer {request.id}: a positive amount between two accounts",
                reason_code="TRANSFER_INVALID",
            )
        if request.counterparty is not None or request.event_id is not None:
            raise Refused(
                f"transfer {request.id}: the batch path carries no counterparty or event id",
                reason_code="TRANSFER_INVALID",
            )
        if not request.id or request.id.startswith(RESERVED_PREFIXES):
            raise Refused(
                f"transfer id {request.id!r} is reserved or empty",
                reason_code="TRANSFER_ID_INVALID",
            )
        items.append(
            {
                "id": request.id,
                "kind": request.kind,
                "source": request.source,
                "destination": request.destination,
                "currency": request.currency,
                "amount": request.amount,
                "at": at.isoformat(),
                "memo": request.memo,
                "payload_hash": payload_hash(request),
            }
        )
    raw = conn.execute(_CALL, {"batch": canonical_json(items).decode()}).scalar_one()
    results = raw if isinstance(raw, list) else msgspec.json.decode(raw)
    return [
        BatchOutcome(r["id"], r["status"], r.get("reason_code"), bool(r.get("replayed")))
        for r in results
    ]
