"""The unit of work the engine decides in: every repository it writes to, committed together."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from walletguard.accounts.ports import AccountRepository, ChallengeRepository
from walletguard.approvals.model import ApprovalRepository
from walletguard.audit.chain import AuditLog
from walletguard.cases.model import CaseRepository
from walletguard.decisions.model import Decision, Trace
from walletguard.enrich.lists import ListEntry
from walletguard.events.model import WalletEvent
from walletguard.ledger.ports import LedgerRepository
from walletguard.notify.model import Outbox


@dataclass(frozen=True, slots=True)
class StoredDecision:
    event_id: str
    payload_hash: str
    decision: Decision


class DecisionRepository(Protocol):
    def get(self, event_id: str) -> StoredDecision | None: ...

    def add(self, event: WalletEvent, decision: Decision, trace: Trace) -> None: ...


class EventLog(Protocol):
    def get(self, event_id: str) -> WalletEvent | None:
        """A stored event (e.g. the one a chargeback refers to)."""


class ListRepository(Protocol):
    def all(self) -> list[ListEntry]: ...

    def version(self) -> int:
        """Changes whenever an entry is added or removed."""


class UnitOfWork(Protocol):
    """One atomic change: everything staged through it is committed together or not at all."""

    @property
    def events(self) -> EventLog: ...

    @property
    def decisions(self) -> DecisionRepository: ...

    @property
    def accounts(self) -> AccountRepository: ...

    @property
    def challenges(self) -> ChallengeRepository: ...

    @property
    def ledger(self) -> LedgerRepository: ...

    @property
    def cases(self) -> CaseRepository: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def lists(self) -> ListRepository: ...

    @property
    def approvals(self) -> ApprovalRepository: ...

    def prefetch(self, events: list[WalletEvent]) -> None:
        """Optionally load in bulk what deciding these events will look up one by one."""

    def savepoint(self) -> AbstractContextManager[None]:
        """Everything staged inside is undone if the block raises."""

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def close(self) -> None: ...
