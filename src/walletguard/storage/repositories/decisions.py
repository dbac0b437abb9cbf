"""Events and their decisions (idempotency by event id), sealed into the audit log.

Decision rows are append-only (triggers refuse UPDATE and DELETE) and every flush that
writes some seals them with one `decisions.sealed` audit record (`audit.decisions`):
their seqs, known only once the rows are inserted, and a digest over their digests."""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter
from typing import Any

import msgspec
from sqlalchemy import bindparam, select

from walletguard.audit.decisions import (
    DIGESTED,
    SEALED,
    seal_payload,
    seal_subject,
    sealed_values,
)
from walletguard.decisions.model import Decision, Trace, decision_json
from walletguard.decisions.ports import StoredDecision
from walletguard.events.decode import decode_event
from walletguard.events.model import WalletEvent
from walletguard.storage import tables as t
from walletguard.storage.repositories.base import SqlRepository, among, cached_lookup, chunks

_c = t.decisions.c
_STORED = select(_c.event_id, _c.payload_hash, _c.body).where(among(_c.event_id))
_AT, _ID = DIGESTED.index("occurred_at"), DIGESTED.index("event_id")
_SEQS = select(_c.seq, _c.event_id).where(among(_c.event_id))
_SEQ_OF = select(_c.seq).where(_c.event_id == bindparam("e"))
_EVENT_AT = select(_c.event_id).where(_c.seq == bindparam("s"))

_decision_decoder = msgspec.json.Decoder(Decision)
_trace_encoder = msgspec.json.Encoder()


class SqlDecisionRepository(SqlRepository):
    """Decisions are cached only for the unit of work: after commit the database answers."""

    cache_name = "uow:decisions"

    def get(self, event_id: str) -> StoredDecision | None:
        def load() -> StoredDecision | None:
            c = t.decisions.c
            row = self.uow.conn.execute(
                select(c.payload_hash, c.body).where(c.event_id == event_id)
            ).first()
            return None if row is None else _stored(event_id, row.payload_hash, row.body)

        return cached_lookup(self.cached, event_id, load)

    def prefetch(self, event_ids: Iterable[str]) -> None:
        cached = self.cached
        wanted = [i for i in dict.fromkeys(event_ids) if i not in cached]
        for batch in chunks(wanted):
            for eid in batch:
                cached[eid] = None
            for row in self.uow.conn.execute(_STORED, {"values": batch}):
                cached[row.event_id] = _stored(row.event_id, row.payload_hash, row.body)

    def add(self, event: WalletEvent, decision: Decision, trace: Trace) -> None:
        staging = self.uow.staging
        staging.insert(
            t.decisions,
            {
                "event_id": event.event_id,
                "account_id": event.account_id,
                "event_type": event.type,
                "occurred_at": event.occurred_at,
                "payload": event.payload.decode(),
                "payload_hash": event.payload_hash,
                "decision": decision.decision,
                "risk_level": decision.risk_level,
                "score": decision.score,
                "body": decision_json(decision).decode(),
                "trace": _trace_encoder.encode(trace).decode(),
                "ruleset_version": decision.ruleset_version,
                "model_version": decision.model_version,
            },
        )
        staging.remember(
            self.cached,
            event.event_id,
            StoredDecision(event.event_id, event.payload_hash, decision),
        )
        staging.remember(self._staged_events, event.event_id, event)

    def write_sealed(self, rows: list[dict[str, Any]]) -> None:
        """Write what the unit of work staged (`rows` are its staged decision rows) and
        append the audit record that seals those decisions (called by `flush`).

        The seal names rows by `seq`, which the database assigns on insert: the rows are
        written first, then their seqs read back."""
        sealed = [sealed_values(row) for row in rows]
        at = max(values[_AT] for values in sealed)
        uow = self.uow
        uow.staging.flush(uow.conn)
        payload = seal_payload(self._in_seq_order(sealed))
        uow.audit.append(
            at=at, actor="engine", action=SEALED, subject=seal_subject(payload), payload=payload
        )

    def _in_seq_order(self, sealed: list[tuple[Any, ...]]) -> list[tuple[int, tuple[Any, ...]]]:
        """The rows just inserted (in insertion order), each with the seq it was given."""
        conn = self.uow.conn
        first_id, last_id = sealed[0][_ID], sealed[-1][_ID]
        # One executemany inserts in order, so the rows have increasing seqs; with no other
        # writer in between (always on SQLite) they are the consecutive seqs ending at the
        # last row's: two index probes tell.
        last = conn.execute(_SEQ_OF, {"e": last_id}).scalar_one()
        first = last - len(sealed) + 1
        if conn.execute(_EVENT_AT, {"s": first}).scalar() == first_id:
            return list(zip(range(first, last + 1), sealed, strict=True))
        by_id = {values[_ID]: values for values in sealed}
        found: list[tuple[int, tuple[Any, ...]]] = []
        for batch in chunks(by_id):
            found.extend(
                (row.seq, by_id[row.event_id]) for row in conn.execute(_SEQS, {"values": batch})
            )
        return sorted(found, key=itemgetter(0))

    @property
    def _staged_events(self) -> dict[str, WalletEvent]:
        return self.uow.cache.map("uow:events")


def _stored(event_id: str, payload_hash: str, body: str) -> StoredDecision:
    return StoredDecision(event_id, payload_hash, _decision_decoder.decode(body))


class SqlEventLog(SqlRepository):
    cache_name = "uow:events"

    def get(self, event_id: str) -> WalletEvent | None:
        staged: WalletEvent | None = self.cached.get(event_id)
        if staged is not None:
            return staged
        row = self.uow.conn.execute(
            select(t.decisions.c.payload).where(t.decisions.c.event_id == event_id)
        ).first()
        return None if row is None else decode_event(row.payload)
