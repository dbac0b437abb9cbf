"""Events and their decisions (idempotency by event id)."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
from sqlalchemy import select

from walletguard.decisions.model import Decision, Trace, decision_json
from walletguard.decisions.ports import StoredDecision
from walletguard.events.decode import decode_event
from walletguard.events.model import WalletEvent
from walletguard.storage import tables as t
from walletguard.storage.repositories.base import SqlRepository, among, cached_lookup, chunks

_c = t.decisions.c
_STORED = select(_c.event_id, _c.payload_hash, _c.body).where(among(_c.event_id))

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
