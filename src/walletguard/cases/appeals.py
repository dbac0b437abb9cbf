"""A user's appeal against a restriction on their account, tracked to its resolution.

An appeal is opened while the account is restricted, frozen or locked, is filed on the
account's open case when there is one, and is resolved once, as `lifted` (the user was
right; lifting the restriction itself is a case action, unfreezing needs a second person)
or `upheld`. Its time to resolution is what the appeal statistics report.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from walletguard.audit.chain import AuditLog
from walletguard.cases.model import CaseWorkRepository, Note
from walletguard.kernel.errors import Conflict, FieldProblem, InvalidInput, NotFound, Refused

APPEALABLE = frozenset({"restricted", "frozen", "locked"})


class AppealResult(StrEnum):
    LIFTED = "lifted"
    UPHELD = "upheld"


@dataclass(frozen=True, slots=True)
class Appeal:
    id: str
    account_id: str
    restriction: str
    """The account's state the user appeals against."""
    text: str
    opened_at: datetime
    opened_by: str
    case_id: str | None = None
    result: AppealResult | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    note: str = ""

    @property
    def is_open(self) -> bool:
        return self.result is None

    @property
    def time_to_resolution(self) -> timedelta | None:
        return None if self.resolved_at is None else self.resolved_at - self.opened_at


class AppealRepository(Protocol):
    def get_appeal(self, appeal_id: str) -> Appeal | None: ...

    def save_appeal(self, appeal: Appeal) -> None: ...

    def open_appeal_for(self, account_id: str) -> Appeal | None: ...


class AppealUnitOfWork(Protocol):
    @property
    def cases(self) -> CaseWorkRepository: ...

    @property
    def appeals(self) -> AppealRepository: ...

    @property
    def audit(self) -> AuditLog: ...


def open_appeal(
    uow: AppealUnitOfWork,
    account_id: str,
    *,
    restriction: str,
    text: str,
    actor: str,
    at: datetime,
) -> Appeal:
    """Record the user's appeal; refused when the account is not restricted or already has
    an open appeal."""
    if restriction not in APPEALABLE:
        raise Refused(
            f"account {account_id} is {restriction}: there is no restriction to appeal",
            reason_code="NOTHING_TO_APPEAL",
        )
    if not text.strip():
        raise InvalidInput([FieldProblem("$.text", "say what the user asks for")])
    existing = uow.appeals.open_appeal_for(account_id)
    if existing is not None:
        raise Conflict(f"account {account_id} already has an open appeal ({existing.id})")
    case = uow.cases.open_case_for(account_id)
    appeal = Appeal(
        id="apl-" + secrets.token_hex(5),
        account_id=account_id,
        restriction=restriction,
        text=text.strip(),
        opened_at=at,
        opened_by=actor,
        case_id=case.id if case is not None else None,
    )
    uow.appeals.save_appeal(appeal)
    if case is not None:
        uow.cases.add_note(Note(case.id, at, actor, f"appeal {appeal.id}: {appeal.text}", "appeal"))
    uow.audit.append(
        at=at,
        actor=actor,
        action="appeal.opened",
        subject=f"account:{account_id}",
        payload={"appeal_id": appeal.id, "restriction": restriction, "case_id": appeal.case_id},
    )
    return appeal


def resolve_appeal(
    uow: AppealUnitOfWork,
    appeal_id: str,
    result: AppealResult,
    *,
    note: str,
    actor: str,
    at: datetime,
) -> Appeal:
    """Resolve the appeal once; records the time it took."""
    appeal = uow.appeals.get_appeal(appeal_id)
    if appeal is None:
        raise NotFound(f"no appeal {appeal_id}")
    if not appeal.is_open:
        raise Conflict(f"appeal {appeal_id} was already resolved ({appeal.result})")
    if not note.strip():
        raise InvalidInput([FieldProblem("$.note", "say why")])
    if at < appeal.opened_at:
        # Not a field of the request: its time (the server's clock, or a replay's event)
        opened = appeal.opened_at.isoformat()
        raise InvalidInput(
            [FieldProblem("$", f"an appeal cannot be resolved before it opened ({opened})")]
        )
    resolved = replace(appeal, result=result, resolved_at=at, resolved_by=actor, note=note.strip())
    uow.appeals.save_appeal(resolved)
    if appeal.case_id is not None:
        uow.cases.add_note(
            Note(appeal.case_id, at, actor, f"appeal {appeal.id} {result.value}: {note}", "appeal")
        )
    ttr = resolved.time_to_resolution
    uow.audit.append(
        at=at,
        actor=actor,
        action="appeal.resolved",
        subject=f"account:{appeal.account_id}",
        payload={
            "appeal_id": appeal.id,
            "result": result.value,
            "note": resolved.note,
            "seconds_to_resolution": int(ttr.total_seconds()) if ttr is not None else None,
        },
    )
    return resolved
