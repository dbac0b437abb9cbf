"""What the ledger needs from storage."""

from __future__ import annotations

from typing import Protocol

from walletguard.ledger.model import Balance, Hold, Topup, Transaction


class LedgerRepository(Protocol):
    def balance(self, account: str, currency: str) -> Balance:
        """The balance (zero if the account never moved money in that currency)."""

    def save_balance(self, balance: Balance) -> None: ...

    def transaction(self, transaction_id: str) -> Transaction | None: ...

    def add_transaction(self, transaction: Transaction) -> None: ...

    def hold(self, hold_id: str) -> Hold | None: ...

    def save_hold(self, hold: Hold) -> None: ...

    def topup(self, channel: str, channel_ref: str) -> Topup | None: ...

    def save_topup(self, topup: Topup) -> None: ...
