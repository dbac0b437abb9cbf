"""Approval requests and the maker-checker rules.

Invariants: the person who asked never approves their own request; nobody approves
twice; a request is decided (approved or rejected) at most once; it is approved when
`required` distinct people other than the maker have approved it. People are compared by
`person_of` their actor strings, so two API keys of one owner are one person.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from walletguard.kernel.errors import Conflict, Refused

KEY_ACTOR = "key"
LARGE_HOLD_UNITS = 10_000 * 10_000
"""Releasing a hold of at least this much (10,000.00) needs a second person, whichever
door it is released by: a case asks for the approval, the ledger's own door refuses."""
"""An API key acts as `key:<key id>:<owner>` (see `api/security.py`)."""


def person_of(actor: str) -> str:
    """The person an actor string stands for, for maker-checker: the name after its last
    role or kind prefix — `operator:kim`, `analyst:kim` and `kim` are one person, and an API
    key acts for its owner (`key:<id>:ops:kim` → `kim`)."""
    kind, _, rest = actor.partition(":")
    if kind == KEY_ACTOR:
        _, _, owner = rest.partition(":")
        if owner:
            actor = owner
    return actor.rsplit(":", 1)[-1] or actor


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    id: str
    action: str
    """What will happen once approved, e.g. `account.unfreeze`, `withdrawal.release`."""
    subject: str
    """What it happens to, e.g. `account:alice`, `hold:hold-e12`."""
    requested_by: str
    reason: str
    required: int
    created_at: datetime
    approvers: tuple[str, ...] = ()
    status: ApprovalStatus = ApprovalStatus.PENDING
    decided_at: datetime | None = None
    decided_by: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)

    def approve(self, approver: str, *, at: datetime) -> ApprovalRequest:
        """Add `approver`'s approval; raises `Refused` / `Conflict` when the rules forbid it."""
        if self.status is not ApprovalStatus.PENDING:
            raise Conflict(f"approval {self.id} is already {self.status.value}")
        person = person_of(approver)
        if person == person_of(self.requested_by):
            raise Refused(
                f"{person} asked for this and cannot also approve it (maker-checker)",
                reason_code="SELF_APPROVAL",
            )
        if person in {person_of(a) for a in self.approvers}:
            raise Refused(
                f"{person} has already approved {self.id}", reason_code="DUPLICATE_APPROVAL"
            )
        approvers = (*self.approvers, approver)
        if len(approvers) >= self.required:
            return replace(
                self,
                approvers=approvers,
                status=ApprovalStatus.APPROVED,
                decided_at=at,
                decided_by=approver,
            )
        return replace(self, approvers=approvers)

    def reject(self, by: str, *, at: datetime) -> ApprovalRequest:
        if self.status is not ApprovalStatus.PENDING:
            raise Conflict(f"approval {self.id} is already {self.status.value}")
        return replace(self, status=ApprovalStatus.REJECTED, decided_at=at, decided_by=by)

    @property
    def missing(self) -> int:
        """How many more approvals it needs."""
        return max(0, self.required - len(self.approvers))


class ApprovalRepository(Protocol):
    def get(self, approval_id: str) -> ApprovalRequest | None: ...

    def save(self, request: ApprovalRequest) -> None: ...

    def for_subject(self, subject: str) -> list[ApprovalRequest]:
        """Every request about `subject`, oldest first."""
