"""Response and request bodies of the audit log and evidence endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from walletguard.api.schemas import Identifier, Strict
from walletguard.audit.checkpoint import Checkpoint
from walletguard.audit.verify import VerifyReport


class ChainBreakOut(BaseModel):
    seq: int
    """The first record that does not hold (edited, deleted, inserted or reordered)."""
    problem: str


class ChainOut(BaseModel):
    chain: int
    records: int
    head_seq: int
    head_hash: str
    ok: bool
    first_break: ChainBreakOut | None


class VerifyOut(BaseModel):
    ok: bool
    """Every chain holds and every checkpoint verifies (under a trusted key)."""
    records: int
    chains: list[ChainOut]
    checkpoints: int
    checkpoint_problems: list[str]
    decisions: int = 0
    decision_problems: list[str] = []
    """Stored decisions edited, deleted or inserted behind the engine's back."""
    signatures_checked: bool
    """False when the installation has no audit key yet: checkpoints were not checked."""

    @classmethod
    def of(cls, report: VerifyReport) -> VerifyOut:
        checked = not report.unchecked_signatures
        return cls(
            ok=report.ok and (checked or report.checkpoints == 0),
            records=report.records,
            chains=[
                ChainOut(
                    chain=c.chain,
                    records=c.records,
                    head_seq=c.head.seq,
                    head_hash=c.head.hash,
                    ok=c.broken is None,
                    first_break=ChainBreakOut(seq=c.broken.seq, problem=c.broken.problem)
                    if c.broken
                    else None,
                )
                for c in report.chains
            ],
            checkpoints=report.checkpoints,
            checkpoint_problems=report.checkpoint_problems,
            decisions=report.decisions,
            decision_problems=report.decision_problems,
            signatures_checked=checked,
        )


class HeadOut(BaseModel):
    chain: int
    seq: int
    hash: str


class CheckpointOut(BaseModel):
    id: int | None
    at: datetime
    key_id: str
    heads: list[HeadOut]
    records: int
    """How many records the signed heads cover."""

    @classmethod
    def of(cls, cp: Checkpoint) -> CheckpointOut:
        return cls(
            id=cp.id,
            at=cp.at,
            key_id=cp.key_id,
            heads=[HeadOut(chain=h.chain, seq=h.seq, hash=h.hash) for h in cp.heads],
            records=sum(h.seq for h in cp.heads),
        )


class EvidenceIn(Strict):
    """Exactly one of the two."""

    account_id: Identifier | None = Field(default=None, description="An account's evidence")
    case_id: Identifier | None = Field(default=None, description="One case's evidence")
