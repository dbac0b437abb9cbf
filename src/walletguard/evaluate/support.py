"""Customer support during an evaluation: customers whose account was frozen or restricted
appeal, and the wallet's staff lift it once they have checked who is calling.

Without it a replay leaves every frozen customer frozen for the rest of the run, and
their ordinary payments pile up as "blocked" — not what a wallet with a support desk
sees. What the simulated desk does, in event time:

1. a decision leaves a customer's account `frozen` or `restricted` (the customer is
   notified); 10–120 minutes later the customer appeals (`cases.appeals.open_appeal`,
   noted on the account's open case);
2. 1–8 hours after the appeal, an analyst has verified the caller (identity checked
   against documents, `manual_kyc`) and lifts the restriction — a freeze through the
   maker-checker unfreeze (one analyst asks, a second approves), a restriction directly —
   and resolves the appeal as `lifted`.

Only customers call: accounts the ground truth says fraudsters operate never appeal.
A call in progress is not repeated; a later freeze starts a new one. Delays follow from
the account and the event (deterministic).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from walletguard.accounts import service as accounts
from walletguard.accounts.ports import AccountsUnitOfWork
from walletguard.cases.appeals import (
    APPEALABLE,
    AppealResult,
    AppealUnitOfWork,
    open_appeal,
    resolve_appeal,
)
from walletguard.decisions.model import Decision
from walletguard.evaluate.run import Scheduled
from walletguard.evaluate.truth import GroundTruth
from walletguard.events.model import WalletEvent
from walletguard.kernel.errors import WalletguardError

DESK = "support:desk"
ANALYSTS = ("analyst:sim-1", "analyst:sim-2")
NEEDS_HELP = frozenset({"frozen", "restricted"})


class SupportUnitOfWork(AccountsUnitOfWork, AppealUnitOfWork, Protocol):
    """What the desk changes together: account state, approvals, appeals, cases, audit."""


Transaction = Callable[[], AbstractContextManager[SupportUnitOfWork]]


@dataclass
class SupportLog:
    appeals: int = 0
    lifted: int = 0
    nothing_to_do: int = 0
    problems: list[str] = field(default_factory=list)


class CustomerSupport:
    """A follower (`run.Follower`) scheduling appeals and their resolution."""

    def __init__(self, truth: GroundTruth, transaction: Transaction) -> None:
        self._truth = truth
        self._transaction = transaction
        self._calls: dict[str, tuple[int, str]] = {}
        """Account → (its call, the open appeal's id or '' until the appeal is opened)."""
        self._next_call = 0
        self.log = SupportLog()

    def follow(self, event: WalletEvent, decision: Decision) -> list[Scheduled]:
        account = event.account_id
        if (
            decision.account_state not in NEEDS_HELP
            or account in self._calls
            or account in self._truth.fraudster_accounts
        ):
            return []
        self._next_call += 1
        call = self._next_call
        self._calls[account] = (call, "")
        opened = event.occurred_at + _minutes(f"{event.event_id}:appeal", 10, 120)
        lifted = opened + _minutes(f"{event.event_id}:lift", 60, 480)
        return [
            Scheduled(opened, lambda: self._appeal(account, call, opened), f"appeal {account}"),
            Scheduled(lifted, lambda: self._lift(account, call, lifted), f"lift {account}"),
        ]

    def _appeal(self, account_id: str, call: int, at: datetime) -> None:
        if self._calls.get(account_id, (0, ""))[0] != call:
            return
        try:
            with self._transaction() as uow:
                account = uow.accounts.get(account_id)
                if account is None or account.state.value not in APPEALABLE:
                    self.log.nothing_to_do += 1
                    del self._calls[account_id]
                    return
                appeal = open_appeal(
                    uow,
                    account_id,
                    restriction=account.state.value,
                    text="The customer called: they did not expect the restriction and ask "
                    "for it to be lifted.",
                    actor=DESK,
                    at=at,
                )
            self._calls[account_id] = (call, appeal.id)
            self.log.appeals += 1
        except WalletguardError as exc:
            self._calls.pop(account_id, None)
            self.log.problems.append(f"appeal for {account_id}: {exc.message}")

    def _lift(self, account_id: str, call: int, at: datetime) -> None:
        current, appeal_id = self._calls.get(account_id, (0, ""))
        if current != call:
            return  # a call that ended early; a later one is in progress
        del self._calls[account_id]
        if not appeal_id:
            return
        maker, checker = ANALYSTS
        reason = f"appeal {appeal_id}: the holder's identity was checked against documents"
        try:
            with self._transaction() as uow:
                account = uow.accounts.get(account_id)
                state = account.state.value if account is not None else "unknown"
                asked = None
                if state == "frozen":
                    asked = accounts.request_unfreeze(
                        uow, account_id, reason=reason, actor=maker, verified_by="manual_kyc", at=at
                    )
                elif state == "restricted":
                    asked = accounts.lift_restriction(
                        uow, account_id, reason=reason, actor=maker, at=at
                    )
                if asked is not None and asked.approval is not None:
                    accounts.approve_unfreeze(uow, asked.approval.id, approver=checker, at=at)
                resolve_appeal(
                    uow,
                    appeal_id,
                    AppealResult.LIFTED,
                    note=f"verified by documents; the account was {state}",
                    actor=maker,
                    at=at,
                )
            self.log.lifted += 1
        except WalletguardError as exc:
            self.log.problems.append(f"lifting {account_id}: {exc.message}")


def _minutes(key: str, low: int, high: int) -> timedelta:
    spread = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big")
    return timedelta(minutes=low + spread % (high - low + 1))
