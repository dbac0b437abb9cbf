"""The account security state machine.

States: active; restricted (read-only: money may come in, nothing goes out);
frozen (no money moves, no binding changes); locked (sign-in or transaction
password locked out until a time); closed (terminal).
Every transition names why and who, and an illegal one raises `IllegalTransition`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
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

    @property
    def can_send_money(self) -> bool:
        return self.state in (AccountState.ACTIVE, AccountState.LOCKED)

    @property
    def can_receive_money(self) -> bool:
        return self.state in (AccountState.ACTIVE, AccountState.RESTRICTED, AccountState.LOCKED)

    @property
    def can_change_bindings(self) -> bool:
        return self.state in (AccountState.ACTIVE, AccountState.RESTRICTED, AccountState.LOCKED)

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
        """Move to `to`; raises `IllegalTransition` if the table does not allow it."""
        if to not in TRANSITIONS[self.state]:
            raise IllegalTransition(
                f"account {self.account_id} cannot go from {self.state.value} to {to.value}"
            )
        if not reason:
            raise IllegalTransition("a state change needs a reason")
        changed = replace(
            self,
            state=to,
            reason=reason,
            actor=actor,
            changed_at=at,
            locked_until=locked_until if to is AccountState.LOCKED else None,
        )
        return changed, StateChange(self.account_id, self.state, to, reason, actor, at, event_id)

    def escalate(
        self, to: AccountState, *, reason: str, actor: str, at: datetime, event_id: str | None
    ) -> tuple[AccountSecurity, StateChange | None]:
        """Move to `to` only if it holds the account back more than now; otherwise unchanged."""
        if SEVERITY[to] <= SEVERITY[self.state]:
            return self, None
        return self.transition(to, reason=reason, actor=actor, at=at, event_id=event_id)
