"""Sealing stored decisions into the audit log, without one audit record per decision.

A decision row holds the evidence (the event as received, the decision with its reasons,
the per-rule trace). Every flush of a unit of work that writes decisions appends ONE
audit record, `decisions.sealed`, whose payload names the rows it covers (their `seq`s,
as ranges) and a digest of what they hold: SHA-256 over the canonical JSON of the list
of those rows in `seq` order, each row the list of its columns in `DIGESTED` order (the
event itself through its `payload_hash`, which a reader checks against it). The
record is chained and signed over like any other, so a decision row that is edited,
deleted, or inserted behind the engine's back no longer matches the seals: `SealCheck`
recomputes every seal from the table (streaming, one row at a time) and names the seal
whose rows changed, the rows that are gone and the rows no seal covers.

Why one digest per seal and not one per row: hashing costs ~1 µs a call whatever the
size, and this is the replay's hot path; a seal's rows are encoded in one call and
hashed once.

What it does not prevent, like the rest of the log: someone who can write to the
database can append new rows and a new seal after the last checkpoint. A row covered
twice (the original seal and a forged one) is reported.
"""

from __future__ import annotations

import hashlib
import heapq
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from operator import itemgetter
from typing import Any

from walletguard.kernel.canonical import canonical_json, sha256_hex

SEALED = "decisions.sealed"
GAPLESS_FROM = "checkpoints_gapless_from"
"""settings_kv: the first checkpoint id given out without gaps (set by migration 0011)."""
SEALED_FROM = "decisions_sealed_from"
"""settings_kv: the first decision seq stored under seals (set by migration 0011; rows
before it were stored by a version that did not seal them)."""
"""The action of the audit record that seals a flush's decisions."""
SUBJECT = "decisions:"
"""Seal subjects are `decisions:<first seq>-<last seq>`: spread over the chains, and
found through the subject index."""

DIGESTED = (
    "event_id",
    "account_id",
    "event_type",
    "occurred_at",
    "payload_hash",
    "decision",
    "risk_level",
    "score",
    "body",
    "trace",
    "ruleset_version",
    "model_version",
)
"""Every column of a decision row but its `seq` (which the seal names) and its `payload`,
the event as received, which `payload_hash` is the SHA-256 of (checked row by row on
reading: hashing it again at sealing would double the cost)."""
_AT = DIGESTED.index("occurred_at")
_values = itemgetter(*DIGESTED)

_SHOWN = 5
"""How many seqs a problem names before saying how many more."""


def payload_intact(row: Mapping[Any, Any]) -> bool:
    """Whether a stored row's event is the one its `payload_hash` names."""
    return bool(sha256_hex(row["payload"].encode()) == row["payload_hash"])


def sealed_values(row: Mapping[Any, Any]) -> tuple[Any, ...]:
    """What a seal covers of one decision row (a staged row's dict or a read row's
    mapping): its columns in `DIGESTED` order, the time in UTC."""
    values: tuple[Any, ...] = _values(row)
    at: datetime = values[_AT]
    if at.tzinfo is not UTC:
        values = (*values[:_AT], at.astimezone(UTC), *values[_AT + 1 :])
    return values


def seq_ranges(seqs: Sequence[int]) -> list[list[int]]:
    """Ascending seqs as `[first, last]` runs."""
    ranges: list[list[int]] = []
    for seq in seqs:
        if ranges and ranges[-1][1] == seq - 1:
            ranges[-1][1] = seq
        else:
            ranges.append([seq, seq])
    return ranges


def seal_payload(rows: Sequence[tuple[int, tuple[Any, ...]]]) -> dict[str, Any]:
    """The payload of the seal over these `(seq, sealed_values(row))`, in ascending seq
    order."""
    return {
        "ranges": seq_ranges([seq for seq, _ in rows]),
        "count": len(rows),
        "digest": sha256_hex(canonical_json([values for _, values in rows])),
    }


def seal_subject(payload: Mapping[str, Any]) -> str:
    ranges = payload["ranges"]
    return f"{SUBJECT}{ranges[0][0]}-{ranges[-1][1]}"


def subject_span(subject: str) -> tuple[int, int] | None:
    """The first and last seq a seal's subject names, or None if it is not one."""
    if not subject.startswith(SUBJECT):
        return None
    first, _, last = subject[len(SUBJECT) :].partition("-")
    if not (first.isdigit() and last.isdigit()):
        return None
    return int(first), int(last)


@dataclass
class Seal:
    """One `decisions.sealed` record, and the state of checking it against the table."""

    chain: int
    record: int
    ranges: list[tuple[int, int]]
    count: int
    digest: str
    hasher: Any = field(default_factory=hashlib.sha256)
    seen: int = 0
    next_range: int = 0
    expected: int = 0
    missing: list[int] = field(default_factory=list)
    missing_count: int = 0
    opened: bool = False

    @classmethod
    def of(cls, chain: int, record: int, payload: Mapping[str, Any]) -> Seal | str:
        """The seal in a record's payload, or what is wrong with the payload."""
        try:
            ranges = [(int(a), int(b)) for a, b in payload["ranges"]]
            count, digest = int(payload["count"]), str(payload["digest"])
        except (KeyError, TypeError, ValueError):
            return f"chain {chain} record {record}: not a readable decisions seal"
        ordered = all(a <= b for a, b in ranges) and all(
            prev[1] < nxt[0] for prev, nxt in pairwise(ranges)
        )
        if not ranges or not ordered or count != sum(b - a + 1 for a, b in ranges):
            return f"chain {chain} record {record}: not a readable decisions seal"
        return cls(chain, record, ranges, count, digest, expected=ranges[0][0])

    @property
    def last(self) -> int:
        return self.ranges[-1][1]

    @property
    def span(self) -> str:
        first, last = self.ranges[0][0], self.last
        return f"decision {first}" if first == last else f"decisions {first}..{last}"

    def where(self) -> str:
        return f"chain {self.chain} record {self.record}"

    def take(self, seq: int, encoded: bytes) -> None:
        """A row this seal covers (`canonical_json(sealed_values(row))`), in ascending seq
        order: hashed as the seal's list of rows was."""
        self._skip_to(seq)
        self.hasher.update(b"," if self.seen else b"[")
        self.hasher.update(encoded)
        self.seen += 1
        self._advance(seq + 1)

    def _skip_to(self, seq: int) -> None:
        """Rows between the expected seq and `seq` that the seal covers are gone."""
        while self.next_range < len(self.ranges) and self.expected < seq:
            end = min(seq - 1, self.ranges[self.next_range][1])
            self._gone(self.expected, end)
            self._advance(end + 1)

    def _advance(self, seq: int) -> None:
        while self.next_range < len(self.ranges) and seq > self.ranges[self.next_range][1]:
            self.next_range += 1
            if self.next_range < len(self.ranges):
                seq = max(seq, self.ranges[self.next_range][0])
        self.expected = seq

    def _gone(self, first: int, last: int) -> None:
        self.missing_count += last - first + 1
        self.missing.extend(range(first, min(last, first + _SHOWN) + 1))
        del self.missing[_SHOWN:]

    def finish(self) -> str | None:
        """What is wrong with the rows this seal covers, or None."""
        self._skip_to(self.last + 1)
        if self.missing_count:
            return (
                f"{self.span} sealed by {self.where()}: {_seqs(self.missing, self.missing_count)}"
                " gone (deleted)"
            )
        self.hasher.update(b"]" if self.seen else b"[]")
        if self.seen != self.count or self.hasher.hexdigest() != self.digest:
            return (
                f"{self.span} sealed by {self.where()} no longer match their seal "
                "(a decision was edited)"
            )
        return None


def _seqs(shown: list[int], count: int) -> str:
    text = ", ".join(str(s) for s in shown)
    more = f" and {count - len(shown)} more" if count > len(shown) else ""
    return f"{'seq' if count == 1 else 'seqs'} {text}{more}"


@dataclass
class SealCheck:
    """Recompute seals from the rows of the table, fed in ascending seq order.

    `problems` names seals whose rows changed or vanished, seqs two seals claim, and
    unreadable seals; `uncovered` lists rows no seal covers, as `(seq, event_id)`."""

    sealed_from: int = 0
    """Rows before this seq were stored before sealing began: uncovered, they are counted
    in `before_seals`, not reported."""
    problems: list[str] = field(default_factory=list)
    uncovered: list[tuple[int, str]] = field(default_factory=list)
    uncovered_count: int = 0
    before_seals: int = 0
    rows: int = 0
    seals: int = 0
    _intervals: list[tuple[int, int, Seal]] = field(default_factory=list)
    _at: int = 0
    _open: list[tuple[int, int, Seal]] = field(default_factory=list)
    _starts: list[int] = field(default_factory=list)

    def add_seals(self, found: Iterable[tuple[int, int, Mapping[str, Any]]]) -> None:
        """The `decisions.sealed` records, as (chain, record seq, payload); before `feed`."""
        seals = []
        for chain, record, payload in found:
            seal = Seal.of(chain, record, payload)
            if isinstance(seal, str):
                self.problems.append(seal)
            else:
                seals.append(seal)
        self.add(seals)

    def add(self, seals: Iterable[Seal]) -> None:
        """Seals to check (read from their records); before `feed`."""
        intervals = list(self._intervals)
        for seal in seals:
            self.seals += 1
            intervals.extend((a, b, seal) for a, b in seal.ranges)
        intervals.sort(key=lambda i: (i[0], i[1]))
        kept: list[tuple[int, int, Seal]] = []
        for interval in intervals:
            if kept and interval[0] <= kept[-1][1]:
                self.problems.append(
                    f"decision {interval[0]} is sealed twice ({kept[-1][2].where()} and "
                    f"{interval[2].where()}): a seal was forged"
                )
                continue
            kept.append(interval)
        self._intervals = kept
        self._starts = [i[0] for i in kept]

    def covers(self, seq: int) -> bool:
        """Whether one of the seals covers `seq`."""
        i = bisect_right(self._starts, seq) - 1
        return i >= 0 and self._intervals[i][1] >= seq

    def feed(self, seq: int, encoded: bytes, event_id: str, payload_ok: bool = True) -> None:
        """One stored row, `encoded` as `canonical_json(sealed_values(row))`, `payload_ok`
        as `payload_intact(row)`; in ascending seq order."""
        self.rows += 1
        if not payload_ok:
            self.problems.append(
                f"decision {seq} ({event_id}): the event stored does not match its hash (edited)"
            )
        self._close_before(seq)
        intervals, at = self._intervals, self._at
        while at < len(intervals) and intervals[at][1] < seq:
            at += 1
        self._at = at
        if at < len(intervals) and intervals[at][0] <= seq:
            seal = intervals[at][2]
            if not seal.opened:
                seal.opened = True
                heapq.heappush(self._open, (seal.last, id(seal), seal))
            seal.take(seq, encoded)
        elif seq < self.sealed_from:
            self.before_seals += 1
        else:
            self.uncovered_count += 1
            if len(self.uncovered) < _SHOWN:
                self.uncovered.append((seq, event_id))

    def _close_before(self, seq: int) -> None:
        while self._open and self._open[0][0] < seq:
            self._finish(heapq.heappop(self._open)[2])

    def _finish(self, seal: Seal) -> None:
        problem = seal.finish()
        if problem is not None:
            self.problems.append(problem)

    def finish(self) -> list[str]:
        """Every problem found, unsealed rows included."""
        while self._open:
            self._finish(heapq.heappop(self._open)[2])
        for seal in {id(s): s for _, _, s in self._intervals}.values():
            if not seal.opened:  # none of its rows is left
                seal.opened = True
                self._finish(seal)
        if self.uncovered_count:
            shown = ", ".join(f"{seq} ({event})" for seq, event in self.uncovered)
            more = (
                f" and {self.uncovered_count - len(self.uncovered)} more"
                if self.uncovered_count > len(self.uncovered)
                else ""
            )
            self.problems.append(
                f"decisions not covered by any seal (inserted behind the engine's back): "
                f"seq {shown}{more}"
            )
        return self.problems
