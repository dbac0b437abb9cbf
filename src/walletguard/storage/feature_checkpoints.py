"""Durable feature state for the embedded default.

The in-memory store writes what changed since its last checkpoint, with the
sequence number of the last event it had seen. On start it loads the checkpoint
and then re-applies the events stored after that sequence number, so a restart
continues exactly where the previous run stopped, crash or not.

Fraud reports from resolved cases (`feature_reports`, written by whichever process
resolved the case) are applied the same way: the checkpoint records the last report it
includes, and loading applies the ones after it; a running engine picks up new ones
with `catch_up_reports`.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec
from sqlalchemy import Connection, delete, func, select

from walletguard.enrich.location import Located
from walletguard.events.decode import decode_event
from walletguard.events.model import LABELS, WalletEvent
from walletguard.features.memory import MemoryFeatureStore
from walletguard.features.store import EventKeys
from walletguard.storage import tables as t
from walletguard.storage.database import Database
from walletguard.storage.staging import upsert_rows

_SEQ_KEY = "features_seq"
_REPORTS_KEY = "feature_reports_seq"


class FeatureCheckpointer:
    def __init__(self, database: Database) -> None:
        self.database = database
        self.reports_applied = 0
        """The last `feature_reports` row the store has applied."""
        self._reports_loaded = False

    def catch_up_reports(self, store: MemoryFeatureStore) -> int:
        """Apply fraud reports written since the last ones applied; returns how many."""
        with self.database.reading() as conn:
            return self._apply_reports(conn, store)

    def _apply_reports(self, conn: Connection, store: MemoryFeatureStore) -> int:
        r = t.feature_reports.c
        rows = conn.execute(
            select(r.id, r.feature_keys).where(r.id > self.reports_applied).order_by(r.id)
        ).all()
        for row in rows:
            store.report_fraud(msgspec.json.decode(row.feature_keys, type=list[str]))
            self.reports_applied = row.id
        return len(rows)

    def save(self, store: MemoryFeatureStore) -> int:
        """Write every changed entity; returns how many rows were written or deleted. If
        the write fails, the changes stay for the next checkpoint to write."""
        keys = store.take_changes()
        try:
            return self.write(store, keys)
        except BaseException:
            store.mark_changed(keys)
            raise

    def last_seq(self) -> int:
        """The sequence number of the last stored decision."""
        with self.database.reading() as conn:
            return int(conn.execute(select(func.max(t.decisions.c.seq))).scalar() or 0)

    def write(self, store: MemoryFeatureStore, keys: set[str], seq: int | None = None) -> int:
        """Write the state of `keys`, in one transaction, as a checkpoint that holds every
        event up to decision `seq` (default: the last stored now) — which the state of
        `store` must; returns how many rows were written or deleted. The state is encoded
        before the transaction begins: the database's write lock is held for the writing
        only."""
        rows: list[dict[str, object]] = []
        gone: list[str] = []
        for key, blob in store.checkpoint_rows(keys):
            if blob is None:
                gone.append(key)
            else:
                rows.append({"key": key, "state": blob})
        with self.database.writing() as conn:
            if seq is None:
                seq = conn.execute(select(func.max(t.decisions.c.seq))).scalar() or 0
            for i in range(0, len(rows), 2000):
                upsert_rows(conn, t.feature_checkpoints, rows[i : i + 2000])
            for i in range(0, len(gone), 500):
                conn.execute(
                    delete(t.feature_checkpoints).where(
                        t.feature_checkpoints.c.key.in_(gone[i : i + 500])
                    )
                )
            marks = [{"key": _SEQ_KEY, "value": str(seq)}]
            if self._reports_loaded:
                marks.append({"key": _REPORTS_KEY, "value": str(self.reports_applied)})
            upsert_rows(conn, t.settings_kv, marks)
        return len(rows) + len(gone)

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
            reports = conn.execute(
                select(t.settings_kv.c.value).where(t.settings_kv.c.key == _REPORTS_KEY)
            ).scalar()
            self.reports_applied = int(reports) if reports is not None else 0
            self._reports_loaded = True
            self._apply_reports(conn, store)
        return entities, replayed
