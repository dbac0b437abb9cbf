"""What the accounts domain needs from storage."""

from __future__ import annotations

from typing import Protocol

from walletguard.accounts.challenges import Challenge
from walletguard.accounts.model import AccountSecurity, StateChange


class AccountRepository(Protocol):
    def get(self, account_id: str) -> AccountSecurity | None: ...

    def save(self, account: AccountSecurity, change: StateChange | None = None) -> None:
        """Store the account, and the transition that produced it when there is one."""


class ChallengeRepository(Protocol):
    def get(self, challenge_id: str) -> Challenge | None: ...

    def save(self, challenge: Challenge) -> None: ...
