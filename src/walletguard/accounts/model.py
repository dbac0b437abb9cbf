"""The account security state machine.

States: active; restricted (read-only: money may come in, nothing goes out);
frozen (no money moves, no binding changes); locked (sign-in or transaction
password locked out until a time); closed (terminal).
Every transition names why and who, and an illegal one raises `IllegalTransition`.

Invariants:
- a lock-out (`locked_until`, `lock_scope`) is kept apart from the state: the state
  shows `locked` while an active or restricted account is locked out, and goes back to
  `resume_state` when the lock ends; a frozen account keeps its state and its lock-out;
- `actor` and `reason` are those of the transition that produced the current state, so a
  frozen account says who froze it (which decides whether unfreezing needs approval).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from walletguard.kernel.errors import IllegalTransition


class AccountState(StrEnum):
    ACTIVE = "active"
    RESTRICTED = "restricted"
    FROZEN = "frozen"
    LOCKED = "locked"
    CLOSED = "closed"


TRANSITIONS: dict[AccountState, frozenset[AccountState]] = {
    AccountState.ACTIVE: frozenset(
        {AccountState.RESTRICTED, AccountState.FROZEN, AccountState.LOCKED, AccountState.CLOSED}
    ),
    AccountState.RESTRICTED: frozenset(
        {AccountState.ACTIVE, AccountState.FROZEN, AccountState.LOCKED, AccountState.CLOSED}
    ),
    AccountState.LOCKED: frozenset(
        {AccountState.ACTIVE, AccountState.RESTRICTED, AccountState.FROZEN, AccountState.CLOSED}
    ),
    AccountState.FROZEN: frozenset(
        {AccountState.ACTIVE, AccountState.RESTRICTED, AccountState.CLOSED}
    ),
    AccountState.CLOSED: frozenset(),
}
"""Which state may follow which. Anything not listed is an illegal transition."""

SEVERITY = {
    AccountState.ACTIVE: 0,
    AccountState.LOCKED: 1,
    AccountState.RESTRICTED: 2,
    AccountState.FROZEN: 3,
    AccountState.CLOSED: 4,
}
"""How much an account is held back; a risk action never lowers it."""


class Actor(StrEnum):
    """Kinds of actor that change an account's state."""

    RULE = "rule"
    ANALYST = "analyst"
    USER = "user"
    CLOCK = "clock"
    SYSTEM = "system"


def actor_kind(actor: str) -> Actor:
    """What kind of actor an actor string names: `rule:…` / `guard:…` are rules, `user`
    the account holder, `clock` the passing of time, `system` / `engine` walletguard;
    anyone else (`operator:…`, `analyst:…`) is a person working the console."""
    head = actor.split(":", 1)[0]
    if head in ("rule", "guard"):
        return Actor.RULE
    if head == "user":
        return Actor.USER
    if head == "clock":
        return Actor.CLOCK
    if head in ("system", "engine"):
        return Actor.SYSTEM
    return Actor.ANALYST


class LockScope(StrEnum):
    """What a lock-out stops: signing in (and so everything), or the transaction password."""

    LOGIN = "login"
    TXN_PASSWORD = "txn_password"


@dataclass(frozen=True, slots=True)
class StateChange:
    """A recorded transition."""

    account_id: str
    from_state: AccountState
    to_state: AccountState
    reason: str
    actor: str
    at: datetime
    event_id: str | None = None


@dataclass(frozen=True, slots=True)
class AccountSecurity:
    """An account's security state. Immutable: transitions return a new value."""

    account_id: str
    state: AccountState = AccountState.ACTIVE
    reason: str = ""
    actor: str = "system"
    changed_at: datetime | None = None
    locked_until: datetime | None = None
    created_at: datetime | None = None
    tier: str = "standard"
    language: str = "en"
    lock_scope: LockScope | None = None
    resume_state: AccountState | None = None
    """The state to go back to when a lock-out ends."""
    login_failures: int = 0
    """Failed sign-ins since the last success (or verified reset)."""
    login_failed_at: datetime | None = None
    txn_failures: int = 0
    """Wrong transaction passwords since the last right one (or verified reset)."""
    txn_failed_at: datetime | None = None
    cool_off_until: datetime | None = None
    """After a password reset that was not strongly verified: no withdrawals or new
    bindings before this time."""
    reset_verified_by: str | None = None
    """How a pending password reset was verified (a passed step-up), until it completes."""
    reset_verified_at: datetime | None = None

    @property
    def can_send_money(self) -> bool:
        return self.state is AccountState.ACTIVE

    @property
    def can_receive_money(self) -> bool:
        return self.state in (AccountState.ACTIVE, AccountState.RESTRICTED, AccountState.LOCKED)

    @property
    def can_change_bindings(self) -> bool:
        return self.state in (AccountState.ACTIVE, AccountState.RESTRICTED)

    @property
    def restriction(self) -> str:
        """Which hold on the account this is: its state and when that began. An unfreeze
        approval names the one it lifts; lifting it, or any later change, makes another."""
        began = self.changed_at.astimezone(UTC).isoformat() if self.changed_at else ""
        return f"{self.state.value} since {began}"

    def is_locked(self, at: datetime) -> bool:
        """Whether a lock-out is in force at `at`."""
        return self.locked_until is not None and at < self.locked_until

    def in_cool_off(self, at: datetime) -> bool:
        return self.cool_off_until is not None and at < self.cool_off_until

    def transition(
        self,
        to: AccountState,
        *,
        reason: str,
        actor: str,
        at: datetime,
        event_id: str | None = None,
        locked_until: datetime | None = None,
    ) -> tuple[AccountSecurity, StateChange]:
        """Move to `to`; raises `IllegalTransition` if the table does not allow it.

        Going to `locked` needs `locked_until`; any other move keeps the lock-out fields
        as they are (a frozen account stays locked out until its time).

        A rule or a person freezing an account its holder froze takes that freeze over
        (recorded frozen → frozen): lifting it then needs what lifting their own freeze
        needs, not only the holder's word — a self-service freeze is no shield."""
        if to not in TRANSITIONS[self.state] and not self._takes_over(to, actor):
            raise IllegalTransition(
                f"account {self.account_id} cannot go from {self.state.value} to {to.value}"
            )
        if not reason:
            raise IllegalTransition("a state change needs a reason")
        if to is AccountState.LOCKED and locked_until is None:
            raise IllegalTransition("a lock-out needs the time it ends")
        changed = replace(
            self,
            state=to,
            reason=reason,
            actor=actor,
            changed_at=at,
            locked_until=locked_until if locked_until is not None else self.locked_until,
            resume_state=self.state if to is AccountState.LOCKED else self.resume_state,
        )
        return changed, StateChange(self.account_id, self.state, to, reason, actor, at, event_id)

    def escalate(
        self, to: AccountState, *, reason: str, actor: str, at: datetime, event_id: str | None
    ) -> tuple[AccountSecurity, StateChange | None]:
        """Move to `to` only if it holds the account back more than now; otherwise unchanged
        — except that a rule or a person freezing an account its holder froze takes that
        freeze over (see `transition`)."""
        if SEVERITY[to] <= SEVERITY[self.state] and not self._takes_over(to, actor):
            return self, None
        return self.transition(to, reason=reason, actor=actor, at=at, event_id=event_id)

    def _takes_over(self, to: AccountState, actor: str) -> bool:
        """Whether `actor` freezing finds the account frozen by its holder alone."""
        return (
            to is AccountState.FROZEN
            and self.state is AccountState.FROZEN
            and actor_kind(self.actor) is Actor.USER
            and actor_kind(actor) is not Actor.USER
        )


UNKNOWN_AUTHOR = "system:history-too-short"
"""Stands for whoever put a restriction on when the history at hand does not reach back
to it: a system actor, so maker-checker is never waived for it."""


def restriction_author(changes: Sequence[StateChange]) -> str | None:
    """Who put on the restriction in force after `changes` (an account's transitions,
    newest first; the first made its present state): the actor of the change that
    restricted it, looking through lock-outs over it and their ends (the clock, a verified
    reset, a person unlocking), which give back what was there before and are nobody's
    restriction. `None` if no restriction is in force; `UNKNOWN_AUTHOR` if `changes` do not
    reach back far enough to tell."""
    for i, change in enumerate(changes):
        if change.to_state is AccountState.LOCKED:
            if change.from_state is AccountState.RESTRICTED:
                continue  # locked out over a restriction: who put that on?
            return None
        if change.to_state is not AccountState.RESTRICTED:
            return None
        if change.from_state is AccountState.LOCKED:
            lock = changes[i + 1] if i + 1 < len(changes) else None
            if lock is None:
                return UNKNOWN_AUTHOR
            if lock.from_state is AccountState.RESTRICTED:
                continue  # the lock-out ended, giving the restriction under it back
        return change.actor
    return UNKNOWN_AUTHOR
