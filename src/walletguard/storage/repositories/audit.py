"""The audit log tables: appends sealed into their chains when the unit of work is written.

Appends are collected in memory and sealed at flush: the heads of the chains they go to
are then read (`FOR UPDATE`, in chain order, on PostgreSQL), so a chain's head is locked
only between the flush and the commit, and two writers never deadlock.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Connection, func, select

from walletguard.audit.chain import AuditRecord, ChainHead, chain_for, seal
from walletguard.audit.checkpoint import (
    CHECKPOINT_SIGNED,
    CHECKPOINT_SUBJECT,
    Checkpoint,
    TrustedKeys,
    checkpoint_named,
    heads_document,
    heads_from_document,
)
from walletguard.audit.decisions import (
    DIGESTED,
    GAPLESS_FROM,
    SEALED,
    SEALED_FROM,
    SUBJECT,
    Seal,
    SealCheck,
    payload_intact,
    sealed_values,
    subject_span,
)
from walletguard.kernel.canonical import canonical_json, sha256_hex
from walletguard.storage import tables as t
from walletguard.storage.database import Database
from walletguard.storage.repositories.base import SqlRepository, among, chunks

_HEADS = select(t.audit_heads).where(among(t.audit_heads.c.chain)).order_by(t.audit_heads.c.chain)
_HEADS_LOCKED = _HEADS.with_for_update()

_chain_counts: dict[str, int] = {}


def chain_count(conn: Connection, url: str) -> int:
    """How many chains the log of this database has (fixed when it was created)."""
    found = _chain_counts.get(url)
    if found is None:
        rows = conn.execute(select(t.audit_heads.c.chain)).scalars().all()
        found = max(rows) + 1 if rows else 1
        _chain_counts[url] = found
    return found


class SqlAuditLog(SqlRepository):
    """Implements `audit.chain.AuditLog` in a unit of work."""

    def __init__(self, uow: Any) -> None:
        super().__init__(uow)
        self._pending: list[tuple[datetime, str, str, str, dict[str, Any]]] = []

    def append(
        self, *, at: datetime, actor: str, action: str, subject: str, payload: dict[str, Any]
    ) -> None:
        pending = self._pending
        pending.append((at, actor, action, subject, payload))

        def undo() -> None:
            pending.pop()

        self.uow.staging.on_undo(undo)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def seal_pending(self) -> list[AuditRecord]:
        """Seal what was appended into the chains and stage the rows (called by flush)."""
        if not self._pending:
            return []
        pending, self._pending = self._pending, []
        conn = self.uow.conn
        chains = chain_count(conn, self.uow.database.url)
        routed = [(chain_for(p[3], chains), p) for p in pending]
        heads = self._heads(sorted({chain for chain, _ in routed}))
        staging = self.uow.staging
        sealed = []
        for chain, (at, actor, action, subject, payload) in routed:
            text = canonical_json(payload)
            record = seal(
                heads[chain],
                at=at,
                actor=actor,
                action=action,
                subject=subject,
                payload=payload,
                payload_hash=sha256_hex(text),
            )
            heads[chain] = ChainHead(chain, record.seq, record.hash)
            staging.insert(t.audit_log, _row(record, text.decode()))
            sealed.append(record)
        for chain in {chain for chain, _ in routed}:
            head = heads[chain]
            staging.upsert(
                t.audit_heads, (chain,), {"chain": chain, "seq": head.seq, "hash": head.hash}
            )
        return sealed

    def _heads(self, chains: list[int]) -> dict[int, ChainHead]:
        # Read at every flush, not cached across units of work: one query per flush (per
        # batch in replay) keeps the chains whole even if another process appended to them
        # since (an analyst's command during a replay).
        # SQLite: the write transaction holds the lock already.
        stmt = _HEADS if self.uow.database.is_sqlite else _HEADS_LOCKED
        heads = {
            row.chain: ChainHead(row.chain, row.seq, row.hash)
            for row in self.uow.conn.execute(stmt, {"values": chains})
        }
        for chain in chains:
            if chain not in heads:
                raise LookupError(f"audit chain {chain} has no head row")
        return heads


def _row(record: AuditRecord, payload_text: str) -> dict[str, Any]:
    return {
        "chain": record.chain,
        "seq": record.seq,
        "at": record.at,
        "actor": record.actor,
        "action": record.action,
        "subject": record.subject,
        "payload": payload_text,
        "payload_hash": record.payload_hash,
        "prev_hash": record.prev_hash,
        "hash": record.hash,
    }


def record_from_row(row: Any) -> AuditRecord:
    return AuditRecord(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        payload=msgspec.json.decode(row.payload),
        payload_hash=row.payload_hash,
        prev_hash=row.prev_hash,
        hash=row.hash,
        chain=row.chain,
    )


def checkpoint_from_row(row: Any) -> Checkpoint:
    return Checkpoint(
        at=row.at,
        heads=tuple(heads_from_document(msgspec.json.decode(row.heads))),
        key_id=row.key_id,
        signature=row.signature,
        id=row.id,
    )


class SqlAuditReader:
    """Reads the stored log outside any unit of work (verification, evidence, checkpoints).
    Implements `audit.verify.AuditReader`."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def heads(self) -> list[ChainHead]:
        with self.database.reading() as conn:
            rows = conn.execute(select(t.audit_heads).order_by(t.audit_heads.c.chain))
            return [ChainHead(r.chain, r.seq, r.hash) for r in rows]

    def chains_with_records(self) -> list[int]:
        # One index probe per chain (chain, seq is the key), not a read of the whole log.
        found: list[int] = []
        with self.database.reading() as conn:
            last = -1
            while True:
                nxt = conn.execute(
                    select(t.audit_log.c.chain).where(t.audit_log.c.chain > last)
                    .order_by(t.audit_log.c.chain).limit(1)
                ).scalar()  # fmt: skip
                if nxt is None:
                    return found
                found.append(nxt)
                last = nxt

    def records(self, chain: int) -> Iterator[AuditRecord]:
        a = t.audit_log.c
        with self.database.reading() as conn:
            result = conn.execution_options(yield_per=2000).execute(
                select(t.audit_log).where(a.chain == chain).order_by(a.seq)
            )
            for row in result:
                yield record_from_row(row)

    def for_subjects(self, subjects: Iterable[str]) -> list[AuditRecord]:
        """Every record about these subjects, by chain and sequence."""
        wanted = sorted(set(subjects))
        a = t.audit_log.c
        found: list[AuditRecord] = []
        with self.database.reading() as conn:
            for i in range(0, len(wanted), 500):
                rows = conn.execute(select(t.audit_log).where(a.subject.in_(wanted[i : i + 500])))
                found.extend(record_from_row(r) for r in rows)
        return sorted(found, key=lambda r: (r.chain, r.seq))

    def decision_seals(self) -> Iterator[tuple[int, int, dict[str, Any]]]:
        """Every `decisions.sealed` record as (chain, seq, payload), read through the
        subject index."""
        a = t.audit_log.c
        with self.database.reading() as conn:
            result = conn.execution_options(yield_per=2000).execute(
                select(a.chain, a.seq, a.payload).where(*_SEAL_RECORDS)
            )
            for row in result:
                yield row.chain, row.seq, msgspec.json.decode(row.payload)

    def decision_rows(self) -> Iterator[tuple[int, bytes, str, bool]]:
        """Every decision row as (seq, its sealed values encoded, event id, whether its
        event matches its hash), by seq."""
        with self.database.reading() as conn:
            result = conn.execution_options(yield_per=2000).execute(_DECISION_ROWS)
            for row in result:
                values = row._mapping
                yield (
                    row.seq,
                    canonical_json(sealed_values(values)),
                    row.event_id,
                    payload_intact(values),
                )

    def decision_problems(self, seqs: Iterable[int]) -> list[str]:
        """What is wrong with these decisions (edited, deleted, not sealed), checked
        against the seals that cover them: every row those seals cover is recomputed,
        nothing else is read (an evidence export checks its account's decisions so)."""
        wanted = sorted(set(seqs))
        if not wanted:
            return []
        a, d = t.audit_log.c, t.decisions.c
        check = SealCheck(sealed_from=self.sealed_from())
        covering: list[Seal] = []
        with self.database.reading() as conn:
            candidates = [
                (row.chain, row.seq)
                for row in conn.execute(select(a.chain, a.seq, a.subject).where(*_SEAL_RECORDS))
                if _overlaps(subject_span(row.subject), wanted)
            ]
            for chain, seq in candidates:
                text = conn.execute(
                    select(a.payload).where(a.chain == chain, a.seq == seq)
                ).scalar_one()
                seal = Seal.of(chain, seq, msgspec.json.decode(text))
                if isinstance(seal, str):
                    check.problems.append(seal)
                elif any(_overlaps(span, wanted) for span in seal.ranges):
                    covering.append(seal)
            check.add(covering)
            rows: dict[int, tuple[bytes, str, bool]] = {}
            spans = [(seal.ranges[0][0], seal.last) for seal in covering]
            spans.extend((seq, seq) for seq in wanted if not check.covers(seq))
            exported = set(wanted)
            for first, last in sorted(set(spans)):
                for row in conn.execute(_DECISION_ROWS.where(d.seq.between(first, last))):
                    if row.seq not in rows and (row.seq in exported or check.covers(row.seq)):
                        values = row._mapping
                        encoded = canonical_json(sealed_values(values))
                        rows[row.seq] = (encoded, row.event_id, payload_intact(values))
        for seq in sorted(rows):
            check.feed(seq, *rows[seq])
        return check.finish()

    def sealed_from(self) -> int:
        return self._mark(SEALED_FROM)

    def gapless_from(self) -> int:
        return self._mark(GAPLESS_FROM)

    def _mark(self, key: str) -> int:
        kv = t.settings_kv.c
        with self.database.reading() as conn:
            found = conn.execute(select(kv.value).where(kv.key == key)).scalar()
        return int(found) if found is not None else 0

    def checkpoints(self) -> list[Checkpoint]:
        with self.database.reading() as conn:
            rows = conn.execute(select(t.audit_checkpoints).order_by(t.audit_checkpoints.c.id))
            return [checkpoint_from_row(r) for r in rows]

    def signed_heads_still_hold(self, trusted: TrustedKeys) -> str | None:
        """Why the log may not be signed again, or None.

        Refused when a checkpoint row claims a key in `trusted` but its signature does not
        verify (a forged or edited checkpoint), when an `audit.checkpoint_signed` record
        names a checkpoint whose row is gone, or when a head that any checkpoint names is
        no longer in its chain with the hash it had (the chain was rewritten, or the row
        was forged). Signing over any of these would vouch for it. Every checkpoint is
        compared, not only the newest: a row added after a rewrite, with the rewritten
        heads, must not hide the checkpoints before it. A checkpoint by a key not in
        `trusted` (rotated out) cannot have its signature checked here
        (`walletguard audit verify --public-key ...` does); its heads are compared all the
        same, which a legitimate one passes."""
        checkpoints = self.checkpoints()
        for cp in checkpoints:
            if cp.key_id not in trusted.by_id:
                continue
            problem = cp.check(trusted)
            if problem is not None:
                return (
                    f"checkpoint {cp.id}: {problem}: a checkpoint row was forged or edited "
                    "(see `walletguard audit verify`); nothing is signed over it"
                )
        missing = sorted(set(self.checkpoints_named()) - {cp.id for cp in checkpoints})
        if missing:
            return (
                f"checkpoint {missing[0]} was signed but its row is gone: checkpoints were "
                "deleted (see `walletguard audit verify`); nothing is signed over it"
            )
        # (chain, seq) -> (hash, the checkpoint that signed it)
        wanted: dict[tuple[int, int], tuple[str, int | None]] = {}
        for cp in checkpoints:
            for head in cp.heads:
                if head.seq > 0:
                    wanted.setdefault((head.chain, head.seq), (head.hash, cp.id))
        a = t.audit_log.c
        by_chain: dict[int, list[int]] = {}
        for chain, seq in wanted:
            by_chain.setdefault(chain, []).append(seq)
        with self.database.reading() as conn:
            for chain, seqs in sorted(by_chain.items()):
                found: dict[int, str] = {}
                for batch in chunks(sorted(seqs)):
                    rows = conn.execute(
                        select(a.seq, a.hash).where(a.chain == chain, a.seq.in_(batch))
                    )
                    found.update((r.seq, r.hash) for r in rows)
                for seq in sorted(seqs):
                    signed_hash, cp_id = wanted[(chain, seq)]
                    if found.get(seq) != signed_hash:
                        return (
                            f"chain {chain} record {seq} is not what checkpoint {cp_id} "
                            "signed: the log was rewritten (see `walletguard audit verify`); "
                            "nothing is signed over it"
                        )
        return None

    def checkpoints_named(self) -> dict[int, tuple[int, int]]:
        """The checkpoint ids that `audit.checkpoint_signed` records name, each with where
        that record is (chain, seq). Read through the subject index."""
        a = t.audit_log.c
        named: dict[int, tuple[int, int]] = {}
        with self.database.reading() as conn:
            rows = conn.execute(
                select(a.subject, a.chain, a.seq).where(
                    a.subject >= CHECKPOINT_SUBJECT,
                    a.subject < CHECKPOINT_SUBJECT[:-1] + ";",
                    a.action == CHECKPOINT_SIGNED,
                )
            )
            for row in rows:
                checkpoint_id = checkpoint_named(row.subject)
                if checkpoint_id is not None:
                    named.setdefault(checkpoint_id, (row.chain, row.seq))
        return named

    def latest_checkpoint(self) -> Checkpoint | None:
        c = t.audit_checkpoints.c
        with self.database.reading() as conn:
            row = conn.execute(select(t.audit_checkpoints).order_by(c.id.desc()).limit(1)).first()
            return None if row is None else checkpoint_from_row(row)

    def add_checkpoint(self, checkpoint: Checkpoint, conn: Connection | None = None) -> Checkpoint:
        """Store the checkpoint (with its id): in a transaction of its own, or in `conn`'s
        (a unit of work's, to commit with the audit record of the signing).

        Ids are gapless (the next after the highest, taken under a lock held to the end of
        the transaction, not from a sequence that a rolled-back transaction would skip), so
        a missing id means a deleted checkpoint."""
        if conn is None:
            with self.database.writing() as own:
                return self.add_checkpoint(checkpoint, own)
        if conn.dialect.name != "sqlite":  # SQLite: the write transaction is the lock
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%(k)s)", {"k": _CHECKPOINT_LOCK})
        c = t.audit_checkpoints.c
        new_id = int(conn.execute(select(func.max(c.id))).scalar() or 0) + 1
        conn.execute(
            t.audit_checkpoints.insert().values(
                id=new_id,
                at=checkpoint.at,
                heads=canonical_json(heads_document(checkpoint.heads)).decode(),
                key_id=checkpoint.key_id,
                signature=checkpoint.signature,
            )
        )
        return Checkpoint(
            checkpoint.at, checkpoint.heads, checkpoint.key_id, checkpoint.signature, new_id
        )


_DECISION_ROWS = select(
    t.decisions.c.seq,
    t.decisions.c.payload,
    *(t.decisions.c[name] for name in DIGESTED),
).order_by(t.decisions.c.seq)

_SEAL_RECORDS = (
    t.audit_log.c.subject >= SUBJECT,
    t.audit_log.c.subject < SUBJECT[:-1] + ";",
    t.audit_log.c.action == SEALED,
)


def _overlaps(span: tuple[int, int] | None, ascending: list[int]) -> bool:
    """Whether any of the `ascending` seqs is within `span` (inclusive)."""
    if span is None:
        return False
    i = bisect_left(ascending, span[0])
    return i < len(ascending) and ascending[i] <= span[1]


_CHECKPOINT_LOCK = int.from_bytes(b"wg.ckpt!", "big", signed=True)
"""The advisory lock (PostgreSQL) that serialises the numbering of checkpoints."""
