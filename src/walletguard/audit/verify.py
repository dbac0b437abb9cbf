"""Verifying the whole audit log: every chain, its recorded head, every signed checkpoint,
and the stored decisions against the `decisions.sealed` records that seal them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from walletguard.audit.chain import AuditRecord, ChainBreak, ChainHead, ChainWalker
from walletguard.audit.checkpoint import (
    CHECKPOINT_SIGNED,
    Checkpoint,
    TrustedKeys,
    checkpoint_named,
)
from walletguard.audit.decisions import SEALED, SealCheck


class AuditReader(Protocol):
    """Port: read the stored log (in sequence order per chain)."""

    def heads(self) -> list[ChainHead]:
        """The recorded head of every chain (one per chain, empty chains included)."""

    def records(self, chain: int) -> Iterator[AuditRecord]:
        """A chain's records by ascending sequence number."""

    def chains_with_records(self) -> list[int]:
        """Every chain that has at least one record (whatever the head rows say)."""

    def checkpoints(self) -> list[Checkpoint]: ...

    def decision_rows(self) -> Iterator[tuple[int, bytes, str, bool]]:
        """Every stored decision as (seq, `canonical_json(sealed_values(row))`, event id,
        `payload_intact(row)`), by seq."""

    def sealed_from(self) -> int:
        """The first decision seq stored under seals (those before were stored by a version
        that did not seal them)."""

    def gapless_from(self) -> int:
        """The first checkpoint id given out without gaps (before it, a rolled-back signing
        skipped one)."""


@dataclass
class ChainReport:
    chain: int
    records: int
    head: ChainHead
    broken: ChainBreak | None = None


@dataclass
class VerifyReport:
    chains: list[ChainReport] = field(default_factory=list)
    checkpoint_problems: list[str] = field(default_factory=list)
    checkpoints: int = 0
    unchecked_signatures: bool = False
    """True when no trusted key was given: signatures were not checked."""
    decisions: int = 0
    decision_seals: int = 0
    decisions_before_seals: int = 0
    """Decisions stored before sealing began (an older version): nothing covers them."""
    decision_problems: list[str] = field(default_factory=list)
    """Decisions that were edited, deleted or inserted behind the engine's back."""

    @property
    def breaks(self) -> list[ChainBreak]:
        return [c.broken for c in self.chains if c.broken is not None]

    @property
    def ok(self) -> bool:
        return not self.breaks and not self.checkpoint_problems and not self.decision_problems

    @property
    def records(self) -> int:
        return sum(c.records for c in self.chains)


def verify_log(
    reader: AuditReader,
    trusted: TrustedKeys,
    *,
    on_record: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Walk every chain and check every checkpoint. A chain's report names its first break:
    the record that was edited, deleted, inserted or reordered."""
    report = VerifyReport(unchecked_signatures=not trusted)
    checkpoints = reader.checkpoints()
    report.checkpoints = len(checkpoints)
    # (chain, seq) -> the checkpoints that name that record as a head
    wanted: dict[tuple[int, int], list[tuple[Checkpoint, str]]] = {}
    for cp in checkpoints:
        if trusted:
            problem = cp.check(trusted)
            if problem is not None:
                report.checkpoint_problems.append(
                    f"checkpoint {cp.id} ({cp.at:%Y-%m-%d %H:%M}): {problem}"
                )
        for head in cp.heads:
            if head.seq > 0:
                wanted.setdefault((head.chain, head.seq), []).append((cp, head.hash))
    seen: set[tuple[int, int]] = set()
    # checkpoint id -> where the record of its signing is (chain, seq)
    named_checkpoints: dict[int, tuple[int, int]] = {}
    seals: list[tuple[int, int, dict[str, Any]]] = []
    heads = {head.chain: head for head in reader.heads()}
    # A chain is walked if anything knows it: its head row, its records, a checkpoint. A
    # deleted head row must not take its chain out of the check.
    chains = set(heads) | set(reader.chains_with_records())
    chains |= {head.chain for cp in checkpoints for head in cp.heads}
    for chain in sorted(chains):
        recorded = heads.get(chain)
        head = recorded or ChainHead(chain, 0, "")
        walker = ChainWalker(chain)
        for record in reader.records(chain):
            if on_record is not None:
                on_record(1)
            key = (record.chain, record.seq)
            named = wanted.get(key)
            if named is not None:
                seen.add(key)
                for cp, signed_hash in named:
                    if record.hash != signed_hash:
                        report.checkpoint_problems.append(
                            f"checkpoint {cp.id} signed chain {record.chain} record "
                            f"{record.seq} with a different hash: the chain was rewritten"
                        )
            if record.action == SEALED:
                seals.append((record.chain, record.seq, record.payload))
            elif record.action == CHECKPOINT_SIGNED:
                checkpoint_id = checkpoint_named(record.subject)
                if checkpoint_id is not None:
                    named_checkpoints.setdefault(checkpoint_id, (record.chain, record.seq))
            walker.feed(record)
        broken = walker.finish(head) if recorded is not None else walker.broken
        if recorded is None and broken is None:
            broken = ChainBreak(walker.count, "the chain's head row is missing", chain)
        report.chains.append(ChainReport(chain, walker.count, head, broken))
    for (chain, seq), named in sorted(wanted.items()):
        if (chain, seq) not in seen:
            for cp, _ in named:
                report.checkpoint_problems.append(
                    f"checkpoint {cp.id} names chain {chain} record {seq}, which is gone"
                )
    report.checkpoint_problems.extend(
        _missing_checkpoints(checkpoints, named_checkpoints, reader.gapless_from())
    )
    decisions = SealCheck(sealed_from=reader.sealed_from())
    decisions.add_seals(seals)
    for row in reader.decision_rows():
        decisions.feed(*row)
    report.decision_problems = decisions.finish()
    report.decisions, report.decision_seals = decisions.rows, decisions.seals
    report.decisions_before_seals = decisions.before_seals
    return report


def _missing_checkpoints(
    checkpoints: list[Checkpoint], named: dict[int, tuple[int, int]], gapless_from: int
) -> list[str]:
    """Checkpoints whose rows are gone: named by the record of their signing, or missing
    between stored ids (given out without gaps from `gapless_from` on)."""
    problems = []
    ids = {cp.id for cp in checkpoints if cp.id is not None}
    for checkpoint_id, (chain, seq) in sorted(named.items()):
        if checkpoint_id not in ids:
            problems.append(
                f"checkpoint {checkpoint_id} was signed (chain {chain} record {seq} says so) "
                "but its row is gone (deleted)"
            )
    gap_start: int | None = None
    first = max(1, gapless_from)
    for checkpoint_id in range(first, max(ids, default=0) + 1):
        absent = checkpoint_id not in ids and checkpoint_id not in named
        if absent and gap_start is None:
            gap_start = checkpoint_id
        elif not absent and gap_start is not None:
            problems.append(_gap(gap_start, checkpoint_id - 1))
            gap_start = None
    return problems


def _gap(first: int, last: int) -> str:
    which = f"checkpoint {first} is" if first == last else f"checkpoints {first}..{last} are"
    return f"{which} missing between the stored checkpoints (deleted)"
