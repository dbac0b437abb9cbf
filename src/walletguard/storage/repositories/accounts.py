"""Account security states, their transitions, and step-up challenges."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select

from walletguard.accounts.challenges import Challenge, ChallengeStatus
from walletguard.accounts.model import AccountSecurity, AccountState, LockScope, StateChange
from walletguard.storage import tables as t
from walletguard.storage.repositories.account_parts import (
    RecentDecision,
    SqlBindingRepository,
    SqlFreezeTokenRepository,
    SqlTotpRepository,
    recent_decisions,
)
from walletguard.storage.repositories.base import SqlRepository, among, cached_lookup, chunks

_ACCOUNTS = select(t.accounts).where(among(t.accounts.c.account_id))
# Same order in every writer (sorted ids): concurrent batches queue, never deadlock.
_ACCOUNTS_LOCKED = _ACCOUNTS.order_by(t.accounts.c.account_id).with_for_update()

__all__ = ["RecentDecision", "SqlAccountRepository", "SqlChallengeRepository"]


def _account(row: Any) -> AccountSecurity:
    return AccountSecurity(
        account_id=row.account_id,
        state=AccountState(row.state),
        reason=row.reason,
        actor=row.actor,
        changed_at=row.changed_at,
        locked_until=row.locked_until,
        created_at=row.created_at,
        tier=row.tier,
        language=row.language,
        lock_scope=LockScope(row.lock_scope) if row.lock_scope else None,
        resume_state=AccountState(row.resume_state) if row.resume_state else None,
        login_failures=row.login_failures,
        login_failed_at=row.login_failed_at,
        txn_failures=row.txn_failures,
        txn_failed_at=row.txn_failed_at,
        cool_off_until=row.cool_off_until,
        reset_verified_by=row.reset_verified_by,
        reset_verified_at=row.reset_verified_at,
    )


class SqlAccountRepository(SqlRepository):
    cache_name = "accounts"

    def __init__(self, uow: Any) -> None:
        super().__init__(uow)
        self._bindings = SqlBindingRepository(uow)
        self._freeze_tokens = SqlFreezeTokenRepository(uow)
        self._totp = SqlTotpRepository(uow)

    @property
    def bindings(self) -> SqlBindingRepository:
        return self._bindings

    @property
    def freeze_tokens(self) -> SqlFreezeTokenRepository:
        return self._freeze_tokens

    @property
    def totp(self) -> SqlTotpRepository:
        return self._totp

    def get(self, account_id: str) -> AccountSecurity | None:
        def load() -> AccountSecurity | None:
            stmt = select(t.accounts).where(t.accounts.c.account_id == account_id)
            if self.uow.lock_rows:
                self.uow.claim_accounts([account_id])
                stmt = stmt.with_for_update()
            row = self.uow.conn.execute(stmt).first()
            return None if row is None else _account(row)

        return cached_lookup(self.cached, account_id, load)

    def ids_alike(self, account_ids: Iterable[str]) -> set[str]:
        folded = sorted({i.lower() for i in account_ids})
        found: set[str] = set()
        c = t.accounts.c
        for batch in chunks(folded):
            stmt = select(c.account_id).where(func.lower(c.account_id).in_(batch))
            found.update(self.uow.conn.execute(stmt).scalars())
        return found

    def prefetch(self, account_ids: Iterable[str]) -> None:
        """Load the accounts, and their bindings, in bulk."""
        cached = self.cached
        ids = list(dict.fromkeys(account_ids))
        wanted = [i for i in ids if i not in cached]
        for batch in chunks(sorted(wanted)):
            for account_id in batch:
                cached[account_id] = None
            stmt = _ACCOUNTS_LOCKED if self.uow.lock_rows else _ACCOUNTS
            for row in self.uow.conn.execute(stmt, {"values": batch}):
                cached[row.account_id] = _account(row)
        self._bindings.prefetch(ids)

    def save(self, account: AccountSecurity, change: StateChange | None = None) -> None:
        staging = self.uow.staging
        staging.upsert(
            t.accounts,
            (account.account_id,),
            {
                "account_id": account.account_id,
                "state": account.state.value,
                "reason": account.reason,
                "actor": account.actor,
                "changed_at": account.changed_at,
                "locked_until": account.locked_until,
                "created_at": account.created_at,
                "tier": account.tier,
                "language": account.language,
                "lock_scope": account.lock_scope.value if account.lock_scope else None,
                "resume_state": account.resume_state.value if account.resume_state else None,
                "login_failures": account.login_failures,
                "login_failed_at": account.login_failed_at,
                "txn_failures": account.txn_failures,
                "txn_failed_at": account.txn_failed_at,
                "cool_off_until": account.cool_off_until,
                "reset_verified_by": account.reset_verified_by,
                "reset_verified_at": account.reset_verified_at,
            },
        )
        staging.remember(self.cached, account.account_id, account)
        if change is not None:
            staging.insert(
                t.account_state_changes,
                {
                    "account_id": change.account_id,
                    "from_state": change.from_state.value,
                    "to_state": change.to_state.value,
                    "reason": change.reason,
                    "actor": change.actor,
                    "at": change.at,
                    "event_id": change.event_id,
                },
            )

    def history(self, account_id: str, limit: int = 50) -> list[StateChange]:
        """The account's most recent transitions, newest first."""
        self.uow.flush()
        c = t.account_state_changes.c
        rows = self.uow.conn.execute(
            select(t.account_state_changes)
            .where(c.account_id == account_id)
            .order_by(c.id.desc())
            .limit(limit)
        )
        return [
            StateChange(
                r.account_id,
                AccountState(r.from_state),
                AccountState(r.to_state),
                r.reason,
                r.actor,
                r.at,
                r.event_id,
            )
            for r in rows
        ]

    def recent_decisions(self, account_id: str, limit: int = 20) -> list[RecentDecision]:
        """The account's latest decisions, newest first."""
        self.uow.flush()
        return recent_decisions(self.uow.conn, account_id, limit)


class SqlChallengeRepository(SqlRepository):
    cache_name = "challenges"

    def get(self, challenge_id: str) -> Challenge | None:
        return cached_lookup(self.cached, challenge_id, lambda: self._load(challenge_id))

    def _load(self, challenge_id: str) -> Challenge | None:
        stmt = select(t.challenges).where(t.challenges.c.id == challenge_id)
        if self.uow.lock_rows:
            stmt = stmt.with_for_update()
        row = self.uow.conn.execute(stmt).first()
        challenge = None
        if row is not None:
            challenge = Challenge(
                id=row.id,
                account_id=row.account_id,
                event_id=row.event_id,
                method=row.method,
                created_at=row.created_at,
                expires_at=row.expires_at,
                attempts_left=row.attempts_left,
                status=ChallengeStatus(row.status),
                hold_id=row.hold_id,
                resolved_at=row.resolved_at,
                purpose=row.purpose,
            )
        return challenge

    def save(self, challenge: Challenge) -> None:
        self.uow.staging.upsert(
            t.challenges,
            (challenge.id,),
            {
                "id": challenge.id,
                "account_id": challenge.account_id,
                "event_id": challenge.event_id,
                "method": challenge.method,
                "created_at": challenge.created_at,
                "expires_at": challenge.expires_at,
                "attempts_left": challenge.attempts_left,
                "status": challenge.status.value,
                "hold_id": challenge.hold_id,
                "resolved_at": challenge.resolved_at,
                "purpose": challenge.purpose,
            },
        )
        self.uow.staging.remember(self.cached, challenge.id, challenge)
