"""Hash-chained audit records.

Each record's `hash` is SHA-256 over the canonical encoding of its sequence,
time, actor, action, subject, payload hash and the previous record's hash, so
editing, deleting, inserting or reordering any record breaks every hash after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from walletguard.kernel.canonical import canonical_json, digest, sha256_hex

GENESIS = "0" * 64
"""The `prev_hash` of the first record."""


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


def seal(
    prev: AuditRecord | None,
    *,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    payload: dict[str, Any],
) -> AuditRecord:
    """The record that follows `prev` (or starts the chain)."""
    seq = 1 if prev is None else prev.seq + 1
    prev_hash = GENESIS if prev is None else prev.hash
    payload_hash = sha256_hex(canonical_json(payload))
    return AuditRecord(
        seq, at, actor, action, subject, payload, payload_hash, prev_hash,
        record_hash(seq, at, actor, action, subject, payload_hash, prev_hash),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first place where the chain does not hold, and what is wrong there."""

    seq: int
    problem: str

    def __str__(self) -> str:
        return f"record {self.seq}: {self.problem}"


def verify_chain(records: Iterable[AuditRecord]) -> ChainBreak | None:
    """Walk records in sequence order; return the first break, or None if the chain holds."""
    expected_seq = 1
    prev_hash = GENESIS
    for record in records:
        if record.seq != expected_seq:
            if record.seq > expected_seq:
                problem = f"records {expected_seq}..{record.seq - 1} are missing (deleted)"
            else:
                problem = "sequence goes backwards (reordered or inserted)"
            return ChainBreak(expected_seq, problem)
        if sha256_hex(canonical_json(record.payload)) != record.payload_hash:
            return ChainBreak(record.seq, "payload does not match its hash (edited)")
        if record.prev_hash != prev_hash:
            return ChainBreak(
                record.seq, "does not follow the previous record (inserted or reordered)"
            )
        actual = record_hash(
            record.seq, record.at, record.actor, record.action, record.subject,
            record.payload_hash, record.prev_hash,
        )  # fmt: skip
        if actual != record.hash:
            return ChainBreak(record.seq, "fields do not match the record's hash (edited)")
        prev_hash = record.hash
        expected_seq += 1
    return None


class AuditLog(Protocol):
    """Port: append a record in the caller's unit of work."""

    def append(
        self, *, at: datetime, actor: str, action: str, subject: str, payload: dict[str, Any]
    ) -> AuditRecord: ...
