"""Durable feature state for the embedded default.

The in-memory store writes what changed since its last checkpoint, with the
sequence number of the last event it had seen. On start it loads the checkpoint
and then re-applies the events stored after that sequence number as the engine applied
them when it decided them (the same learning rule, the fraud a report named, a held event
learnt when its step-up passed), so a restart continues exactly where the previous run
stopped, crash or not.

Fraud reports from resolved cases (`feature_reports`, written by whichever process
resolved the case) are applied the same way: the checkpoint records the last report it
includes, and loading applies the ones after it; a running engine picks up new ones
within a second (`FraudReportFollower`, an engine refresher), on the in-process store and
on a shared one alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import msgspec
from sqlalchemy import Connection, delete, func, select

from walletguard.enrich.location import NOWHERE, Located
from walletguard.events.decode import decode_event
from walletguard.events.model import LABELS, WalletEvent
from walletguard.features.learning import fraud_named, learns
from walletguard.features.memory import MemoryFeatureStore
from walletguard.features.profile import AccountProfile
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
        """Restore the checkpoint, then re-apply later events as the engine applied them when
        it decided them (`_reapply`). Returns (entities, events)."""
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
            taught: set[str] = set()
            for row in later.all():
                event = decode_event(row.payload)
                _reapply(conn, store, event, row.decision, locate, taught)
                replayed += 1
            reports = conn.execute(
                select(t.settings_kv.c.value).where(t.settings_kv.c.key == _REPORTS_KEY)
            ).scalar()
            self.reports_applied = int(reports) if reports is not None else 0
            self._reports_loaded = True
            self._apply_reports(conn, store)
        return entities, replayed


@runtime_checkable
class CaseReportStore(Protocol):
    """A shared feature store that counts each case report once across its users
    (`RedisFeatureStore`)."""

    def case_reports_cursor(self) -> int: ...

    def apply_case_reports(self, rows: Sequence[tuple[int, Sequence[str]]]) -> tuple[int, int]: ...


class FraudReportFollower:
    """Engine refresher: applies the fraud reports of cases resolved since it last looked
    (`feature_reports` rows) to the engine's feature store, checked with the engine's lists
    and rulesets: every unit of work, or at most once per `engine.refresh_seconds` (the
    service: a second) — one query per check, at the start of a unit of work, nothing per
    event.

    The in-process store follows the checkpointer's cursor (saved with its checkpoints). A
    shared store counts each report once across every worker: the rows go to
    `apply_case_reports`, which skips the ids some worker applied already; this follower
    sends the rows above the store's cursor less `REPORT_LOOKBACK` that it has not sent
    itself, so a row committed late (out of id order) is still applied."""

    def __init__(
        self,
        checkpointer: FeatureCheckpointer,
        store: MemoryFeatureStore | CaseReportStore,
        *,
        lookback: int = 1000,
    ) -> None:
        self._checkpointer = checkpointer
        self._store = store
        self._lookback = lookback
        self._checked = float("-inf")
        self._floor: int | None = None
        self._sent: set[int] = set()

    def __call__(self, engine: Any, uow: object) -> None:
        now = time.monotonic()
        if now - self._checked < engine.refresh_seconds:
            return
        self._checked = now
        self.catch_up()

    def catch_up(self) -> int:
        """Apply the reports not applied yet; returns how many this call applied."""
        store = self._store
        if isinstance(store, MemoryFeatureStore):
            return self._checkpointer.catch_up_reports(store)
        if self._floor is None:
            self._floor = max(0, store.case_reports_cursor() - self._lookback)
        r = t.feature_reports.c
        with self._checkpointer.database.reading() as conn:
            found = conn.execute(
                select(r.id, r.feature_keys).where(r.id > self._floor).order_by(r.id)
            ).all()
        rows = [
            (row.id, msgspec.json.decode(row.feature_keys, type=list[str]))
            for row in found
            if row.id not in self._sent
        ]
        if not rows:
            return 0
        applied, cursor = store.apply_case_reports(rows)
        self._sent.update(report_id for report_id, _ in rows)
        self._floor = max(self._floor, cursor - self._lookback)
        floor = self._floor
        self._sent = {report_id for report_id in self._sent if report_id > floor}
        return applied


def _reapply(
    conn: Connection,
    store: MemoryFeatureStore,
    event: WalletEvent,
    decision: str,
    locate: Callable[[WalletEvent], Located],
    taught: set[str],
) -> None:
    """Apply a decided event to `store` as the engine did when it decided it: the same
    learning rule (`learns`), the fraud its report named (`fraud_named`, as of the profile
    just before it), and, for a step-up answer that passed its challenge, the held event
    learnt then (`ChallengeEffects` calls `learn_later` before the answer's own update).
    Labels and step-up answers cost a look-up or two; other events none."""
    keys = EventKeys(event)
    reports: list[str] = []
    if event.type in LABELS and event.ref_event_id is not None:
        reported = _stored_event(conn, event.ref_event_id)
        if reported is not None:
            # label-fed windows count under the reported event's keys
            keys.reported = EventKeys(reported)
            profile = store.profiles.get(event.account_id) or AccountProfile()
            reports = fraud_named(reported, profile)
    if event.step_up is not None and event.step_up.success:
        guarded = _passed_by(conn, event, taught)
        if guarded is not None:
            store.learn_later(guarded, locate(guarded))
    learn = learns(event, decision)
    store.update(
        event, keys, learn=learn, where=locate(event) if learn else NOWHERE, reports=reports
    )


def _stored_event(conn: Connection, event_id: str) -> WalletEvent | None:
    payload = conn.execute(
        select(t.decisions.c.payload).where(t.decisions.c.event_id == event_id)
    ).scalar()
    return None if payload is None else decode_event(payload)


def _passed_by(conn: Connection, answer: WalletEvent, taught: set[str]) -> WalletEvent | None:
    """The held event whose challenge this successful step-up answer passed, if it did.

    A challenge passes once, at the time of the answer that passed it (`resolved_at`): the
    first successful answer of its account at that time, in the order decided, is that
    answer (later ones found it passed already). `taught` holds the challenges passed so far
    in this replay."""
    assert answer.step_up is not None
    c = t.challenges.c
    row = conn.execute(
        select(c.account_id, c.event_id, c.status, c.resolved_at).where(
            c.id == answer.step_up.challenge_id
        )
    ).first()
    if (
        row is None
        or row.status != "passed"
        or row.account_id != answer.account_id
        or row.resolved_at != answer.occurred_at
        or answer.step_up.challenge_id in taught
    ):
        return None
    taught.add(answer.step_up.challenge_id)
    return _stored_event(conn, row.event_id)
