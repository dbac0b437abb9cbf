"""Verifying the whole audit log: every chain, its recorded head, every signed checkpoint."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from walletguard.audit.chain import AuditRecord, ChainBreak, ChainHead, ChainWalker
from walletguard.audit.checkpoint import Checkpoint, TrustedKeys


class AuditReader(Protocol):
    """Port: read the stored log (in sequence order per chain)."""

    def heads(self) -> list[ChainHead]:
        """The recorded head of every chain (one per chain, empty chains included)."""

    def records(self, chain: int) -> Iterator[AuditRecord]:
        """A chain's records by ascending sequence number."""

    def chains_with_records(self) -> list[int]:
        """Every chain that has at least one record (whatever the head rows say)."""

    def checkpoints(self) -> list[Checkpoint]: ...


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

    @property
    def breaks(self) -> list[ChainBreak]:
        return [c.broken for c in self.chains if c.broken is not None]

    @property
    def ok(self) -> bool:
        return not self.breaks and not self.checkpoint_problems

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
    return report
