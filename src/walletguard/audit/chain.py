"""Hash-chained audit records, in a few parallel chains.

Each record's `hash` is SHA-256 over the canonical encoding of its sequence,
time, actor, action, subject, payload hash and the previous record's hash, so
editing, deleting, inserting or reordering any record breaks every hash after it.

The log is partitioned into a fixed number of chains (chosen when the database is
created; a record's chain follows from its subject): writers that touch different
subjects do not wait for each other, and each chain verifies on its own. A signed
checkpoint covers the heads of all chains at once (`audit.checkpoint`).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from walletguard.kernel.canonical import canonical_json, digest, sha256_hex

GENESIS = "0" * 64
"""The `prev_hash` of the first record of every chain."""


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    payload: dict[str, Any]
    payload_hash: str
    prev_hash: str
    hash: str
    chain: int = 0


@dataclass(frozen=True, slots=True)
class ChainHead:
    """Where one chain ends: its last sequence number and that record's hash."""

    chain: int
    seq: int
    hash: str


def chain_for(subject: str, chains: int) -> int:
    """The chain a subject's records go to (stable across processes and machines)."""
    return zlib.crc32(subject.encode()) % chains if chains > 1 else 0


def record_hash(
    seq: int, at: datetime, actor: str, action: str, subject: str, payload_hash: str, prev_hash: str
) -> str:
    """The hash a record with these fields must carry."""
    return digest(
        {
            "seq": seq,
            "at": at.isoformat(),
            "actor": actor,
            "action": action,
            "subject": subject,
            "payload_hash": payload_hash,
            "prev_hash": prev_hash,
        }
    )


def payload_digest(payload: dict[str, Any]) -> str:
    return sha256_hex(canonical_json(payload))


def seal(
    prev: ChainHead,
    *,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    payload: dict[str, Any],
    payload_hash: str | None = None,
) -> AuditRecord:
    """The record that follows `prev` in its chain (`seq` 0 and GENESIS for an empty chain)."""
    seq = prev.seq + 1
    payload_hash = payload_hash or payload_digest(payload)
    return AuditRecord(
        seq,
        at,
        actor,
        action,
        subject,
        payload,
        payload_hash,
        prev.hash,
        record_hash(seq, at, actor, action, subject, payload_hash, prev.hash),
        prev.chain,
    )


def empty_head(chain: int) -> ChainHead:
    return ChainHead(chain, 0, GENESIS)


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first place where a chain does not hold, and what is wrong there."""

    seq: int
    problem: str
    chain: int = 0

    def __str__(self) -> str:
        return f"chain {self.chain}, record {self.seq}: {self.problem}"


def check_record(record: AuditRecord) -> str | None:
    """What is wrong with one record on its own (its hashes), or None."""
    if payload_digest(record.payload) != record.payload_hash:
        return "payload does not match its hash (edited)"
    actual = record_hash(
        record.seq,
        record.at,
        record.actor,
        record.action,
        record.subject,
        record.payload_hash,
        record.prev_hash,
    )
    if actual != record.hash:
        return "fields do not match the record's hash (edited)"
    return None


class ChainWalker:
    """Checks one chain record by record, in the order they are read; remembers the first
    break. Use `feed` for each record, then `finish(head)` against the recorded head."""

    def __init__(self, chain: int = 0) -> None:
        self.chain = chain
        self.expected_seq = 1
        self.prev_hash = GENESIS
        self.count = 0
        self.broken: ChainBreak | None = None

    def feed(self, record: AuditRecord) -> ChainBreak | None:
        if self.broken is not None:
            return self.broken
        self.count += 1
        if record.seq != self.expected_seq:
            if record.seq > self.expected_seq:
                gap = (
                    f"record {self.expected_seq} is missing (deleted)"
                    if record.seq == self.expected_seq + 1
                    else f"records {self.expected_seq}..{record.seq - 1} are missing (deleted)"
                )
                return self._break(self.expected_seq, gap)
            return self._break(record.seq, "sequence goes backwards (reordered or inserted)")
        problem = check_record(record)
        if problem is not None:
            return self._break(record.seq, problem)
        if record.prev_hash != self.prev_hash:
            return self._break(
                record.seq, "does not follow the previous record (inserted, reordered or edited)"
            )
        self.prev_hash = record.hash
        self.expected_seq += 1
        return None

    def finish(self, head: ChainHead | None) -> ChainBreak | None:
        """Compare the end of the walk with the recorded head of the chain."""
        if self.broken is not None or head is None:
            return self.broken
        last = self.expected_seq - 1
        if head.seq > last:
            missing = (
                f"record {head.seq}" if head.seq == last + 1 else f"records {last + 1}..{head.seq}"
            )
            return self._break(last + 1, f"{missing} missing at the end of the chain (deleted)")
        if head.seq < last:
            return self._break(head.seq + 1, "records after the recorded head (inserted)")
        if head.hash != self.prev_hash:
            return self._break(last, "the chain's end does not match its recorded head (edited)")
        return None

    def _break(self, seq: int, problem: str) -> ChainBreak:
        self.broken = ChainBreak(seq, problem, self.chain)
        return self.broken


def verify_chain(records: Iterable[AuditRecord], chain: int = 0) -> ChainBreak | None:
    """Walk one chain's records in sequence order; return the first break, or None."""
    walker = ChainWalker(chain)
    for record in records:
        if walker.feed(record) is not None:
            break
    return walker.broken


class AuditLog(Protocol):
    """Port: append a record in the caller's unit of work (sealed into its chain when the
    unit of work is written)."""

    def append(
        self, *, at: datetime, actor: str, action: str, subject: str, payload: dict[str, Any]
    ) -> None: ...
