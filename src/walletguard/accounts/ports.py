"""What the accounts domain needs from storage."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from walletguard.accounts.bindings import BindingRepository
from walletguard.accounts.challenges import Challenge
from walletguard.accounts.codes import TotpRepository
from walletguard.accounts.model import AccountSecurity, StateChange
from walletguard.approvals.model import ApprovalRepository
from walletguard.audit.chain import AuditLog


class FreezeTokenRepository(Protocol):
    def used_at(self, token_id: str) -> datetime | None:
        """When the freeze token was redeemed, or None if it never was."""

    def mark_used(self, token_id: str, account_id: str, at: datetime) -> None: ...


class AccountRepository(Protocol):
    def get(self, account_id: str) -> AccountSecurity | None: ...

    def ids_alike(self, account_ids: Iterable[str]) -> set[str]:
        """The ids of accounts that are one of `account_ids` but for letter case (ASCII
        letters at least), those themselves included if they exist."""

    def save(self, account: AccountSecurity, change: StateChange | None = None) -> None:
        """Store the account, and the transition that produced it when there is one."""

    def history(self, account_id: str, limit: int = 50) -> list[StateChange]:
        """The account's most recent transitions, newest first."""

    @property
    def bindings(self) -> BindingRepository: ...

    @property
    def freeze_tokens(self) -> FreezeTokenRepository: ...

    @property
    def totp(self) -> TotpRepository: ...


class ChallengeRepository(Protocol):
    def get(self, challenge_id: str) -> Challenge | None: ...

    def save(self, challenge: Challenge) -> None: ...


class AccountStateWork(Protocol):
    """What recording a state change needs: the accounts and the audit log."""

    @property
    def accounts(self) -> AccountRepository: ...

    @property
    def audit(self) -> AuditLog: ...


class AccountsUnitOfWork(Protocol):
    """What the account services change together: state, approvals and the audit log."""

    @property
    def accounts(self) -> AccountRepository: ...

    @property
    def challenges(self) -> ChallengeRepository: ...

    @property
    def approvals(self) -> ApprovalRepository: ...

    @property
    def audit(self) -> AuditLog: ...
