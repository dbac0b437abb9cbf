"""What the ledger needs from storage."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any, Protocol

from walletguard.audit.chain import AuditLog
from walletguard.cases.model import CaseRepository
from walletguard.ledger.limits import LimitUsageRepository
from walletguard.ledger.model import Balance, Hold, HoldStatus, Topup, Transaction, TransferRecord


class LedgerRepository(LimitUsageRepository, Protocol):
    """Reads and writes in the caller's unit of work. Reads of rows that will change take
    row locks where the database is shared (PostgreSQL)."""

    def claim(self, accounts: Iterable[str]) -> None:
        """About to change the balances of these ledger accounts: where the database is
        shared, wait until no other writer works on any of their wallets, and keep them
        until the unit of work ends (all at once, in the one order every writer uses)."""

    def balance(self, account: str, currency: str) -> Balance:
        """The balance (zero if the account never moved money in that currency)."""

    def save_balance(self, balance: Balance) -> None: ...

    def transaction(self, transaction_id: str) -> Transaction | None: ...

    def add_transaction(self, transaction: Transaction) -> None: ...

    def transfer_record(self, transfer_id: str) -> TransferRecord | None: ...

    def save_transfer_record(self, record: TransferRecord) -> None: ...

    def hold(self, hold_id: str) -> Hold | None: ...

    def save_hold(self, hold: Hold) -> None: ...

    def topup(self, channel: str, channel_ref: str) -> Topup | None: ...

    def save_topup(self, topup: Topup) -> None: ...


class LedgerQueries(Protocol):
    """Reads for sweeps, reports and reconciliation (not on the engine's hot path)."""

    def pending_topups_requested_before(self, before: datetime) -> list[Topup]: ...

    def expired_pending_holds(self, now: datetime) -> list[Hold]: ...

    def holds(self, *, account: str | None = None, status: HoldStatus | None = None) -> list[Hold]:
        """Holds, newest first."""

    def topups_between(self, channel: str, start: datetime, end: datetime) -> list[Topup]:
        """A channel's top-ups requested in [start, end]."""

    def channel_seen(self, channel: str) -> bool:
        """Whether any top-up ever came through `channel`."""

    def last_period_end(self, channel: str) -> datetime | None:
        """Where the period of the channel's latest statement imported (of any merchant)
        ended, if any."""

    def last_merchant_period_end(self, channel: str, merchant_no: str | None) -> datetime | None:
        """Where the period of the latest statement imported that answered for the top-ups
        of `merchant_no` (None: top-ups without one) ended, if any: one of the channel's
        statements per merchant that named it, or one for the whole channel."""

    def listed_before(self, channel: str, refs: Collection[str]) -> set[str]:
        """Which of `refs` an earlier statement of `channel` listed."""

    def record_listed(
        self, channel: str, refs: Collection[str], *, digest: str, at: datetime
    ) -> None:
        """`refs` (none listed before) are listed by the statement `digest`."""

    def statement_import(self, digest: str) -> dict[str, Any] | None:
        """The stored report of a statement already imported (by the SHA-256 of its bytes)."""

    def save_statement_import(
        self, digest: str, *, channel: str, source: str, at: datetime, lines: int,
        report: dict[str, Any], period_end: datetime | None,
        merchants: Collection[str | None] | None,
    ) -> None:  # fmt: skip
        """Remember the statement `digest` and its report; and, when it had lines, where
        its period ended, for the merchants it answered for (`merchants`; None: the
        whole channel)."""


class LedgerCaseWork(Protocol):
    """A unit of work that changes the ledger, may open cases and audits both (the
    reconciliation and the sweep)."""

    @property
    def ledger(self) -> LedgerRepository: ...

    @property
    def cases(self) -> CaseRepository: ...

    @property
    def audit(self) -> AuditLog: ...
