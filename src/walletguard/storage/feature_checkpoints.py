"""Durable feature state for the embedded default.

The in-memory store writes what changed since its last checkpoint, with the
sequence number of the last event it had seen. On start it loads the checkpoint
and then re-applies the events stored after that sequence number, so a restart
continues exactly where the previous run stopped, crash or not.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete, func, select

from walletguard.enrich.location import Located
from walletguard.events.decode import decode_event
from walletguard.events.model import LABELS, WalletEvent
from walletguard.features.memory import MemoryFeatureStore
from walletguard.features.store import EventKeys
from walletguard.storage import tables as t
from walletguard.storage.database import Database
from walletguard.storage.staging import upsert_rows

_SEQ_KEY = "features_seq"


class FeatureCheckpointer:
    def __init__(self, database: Database) -> None:
        self.database = database

    def save(self, store: MemoryFeatureStore) -> int:
        """Write every changed entity; returns how many rows were written or deleted."""
        written = 0
        with self.database.writing() as conn:
            seq = conn.execute(select(func.max(t.decisions.c.seq))).scalar() or 0
            batch: list[dict[str, object]] = []
            gone: list[str] = []
            for key, blob in store.checkpoint_rows():
                if blob is None:
                    gone.append(key)
                else:
                    batch.append({"key": key, "state": blob})
                if len(batch) >= 2000:
                    upsert_rows(conn, t.feature_checkpoints, batch)
                    written += len(batch)
                    batch = []
            if batch:
                upsert_rows(conn, t.feature_checkpoints, batch)
                written += len(batch)
            for i in range(0, len(gone), 500):
                conn.execute(
                    delete(t.feature_checkpoints).where(
                        t.feature_checkpoints.c.key.in_(gone[i : i + 500])
                    )
                )
            written += len(gone)
            upsert_rows(conn, t.settings_kv, [{"key": _SEQ_KEY, "value": str(seq)}])
        return written

    def load(
        self, store: MemoryFeatureStore, locate: Callable[[WalletEvent], Located]
    ) -> tuple[int, int]:
        """Restore the checkpoint, then re-apply later events. Returns (entities, events)."""
        with self.database.reading() as conn:
            rows = conn.execute(select(t.feature_checkpoints.c.key, t.feature_checkpoints.c.state))
            store.restore((row.key, row.state) for row in rows)
            entities = len(store.entities) + len(store.profiles)
            seq = conn.execute(
                select(t.settings_kv.c.value).where(t.settings_kv.c.key == _SEQ_KEY)
            ).scalar()
            after = int(seq) if seq is not None else 0
            later = conn.execute(
                select(t.decisions.c.payload, t.decisions.c.decision)
                .where(t.decisions.c.seq > after)
                .order_by(t.decisions.c.seq)
            )
            replayed = 0
            for row in later.all():
                event = decode_event(row.payload)
                allowed = row.decision == "allow"
                keys = EventKeys(event)
                if event.type in LABELS and event.ref_event_id is not None:
                    # label-fed windows count under the reported event's keys
                    reported = conn.execute(
                        select(t.decisions.c.payload).where(
                            t.decisions.c.event_id == event.ref_event_id
                        )
                    ).scalar()
                    if reported is not None:
                        keys.reported = EventKeys(decode_event(reported))
                store.update(event, keys, learn=allowed, where=locate(event))
                replayed += 1
        return entities, replayed
