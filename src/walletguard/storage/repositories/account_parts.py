"""The smaller account-security stores: bindings, used freeze links, TOTP enrolments, and
the read-only view of an account's recent decisions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Connection, select

from walletguard.accounts.bindings import Binding, Target
from walletguard.accounts.codes import TotpEnrolment
from walletguard.storage import tables as t
from walletguard.storage.repositories.base import SqlRepository, among, chunks

_BINDINGS = select(t.bindings).where(among(t.bindings.c.account_id)).order_by(t.bindings.c.bound_at)

_LOADED = "binding_accounts"


def _binding(row: Any) -> Binding:
    return Binding(
        id=row.id,
        account_id=row.account_id,
        target=Target(row.target),
        kind=row.kind,
        token=row.token,
        bound_at=row.bound_at,
        bound_event_id=row.bound_event_id,
        institution=row.institution,
        from_device=row.from_device,
        from_ip=row.from_ip,
        from_country=row.from_country,
        lat=row.lat,
        lon=row.lon,
        unbound_at=row.unbound_at,
        unbound_by=row.unbound_by,
        unbind_reason=row.unbind_reason,
        suspicious=row.suspicious,
        suspicious_reason=row.suspicious_reason,
        flagged_by=row.flagged_by,
        flagged_at=row.flagged_at,
    )


class SqlBindingRepository(SqlRepository):
    """The identity map holds the newest binding per (account, target, token); an account's
    bindings are loaded together, once (in bulk by `prefetch`)."""

    cache_name = "bindings"

    @property
    def _loaded(self) -> dict[str, bool]:
        return self.uow.cache.map(_LOADED)

    def _absorb(self, rows: Iterable[Any]) -> None:
        cached = self.cached
        for row in rows:
            binding = _binding(row)
            key = (binding.account_id, binding.target, binding.token)
            known = cached.get(key)
            if known is None or known.bound_at <= binding.bound_at:
                cached[key] = binding

    def prefetch(self, account_ids: Iterable[str]) -> None:
        loaded = self._loaded
        wanted = [a for a in dict.fromkeys(account_ids) if a not in loaded]
        for batch in chunks(wanted):
            self._absorb(self.uow.conn.execute(_BINDINGS, {"values": batch}))
            for account_id in batch:
                loaded[account_id] = True

    def current(self, account_id: str, target: Target, token: str) -> Binding | None:
        key = (account_id, target, token)
        found: Binding | None = self.cached.get(key)
        if found is not None or account_id in self._loaded:
            return found
        self.prefetch([account_id])
        return self.cached.get(key)

    def is_bound(self, account_id: str, token: str) -> bool:
        found = self.current(account_id, Target.ACCOUNT, token)
        return found is not None and found.active

    def save(self, binding: Binding) -> None:
        staging = self.uow.staging
        staging.upsert(
            t.bindings,
            (binding.id,),
            {
                "id": binding.id,
                "account_id": binding.account_id,
                "target": binding.target.value,
                "kind": binding.kind,
                "token": binding.token,
                "institution": binding.institution,
                "bound_at": binding.bound_at,
                "bound_event_id": binding.bound_event_id,
                "from_device": binding.from_device,
                "from_ip": binding.from_ip,
                "from_country": binding.from_country,
                "lat": binding.lat,
                "lon": binding.lon,
                "unbound_at": binding.unbound_at,
                "unbound_by": binding.unbound_by,
                "unbind_reason": binding.unbind_reason,
                "suspicious": binding.suspicious,
                "suspicious_reason": binding.suspicious_reason,
                "flagged_by": binding.flagged_by,
                "flagged_at": binding.flagged_at,
            },
        )
        staging.remember(self.cached, (binding.account_id, binding.target, binding.token), binding)

    def history(self, account_id: str) -> list[Binding]:
        self.uow.flush()
        c = t.bindings.c
        rows = self.uow.conn.execute(
            select(t.bindings).where(c.account_id == account_id).order_by(c.bound_at.desc(), c.id)
        )
        return [_binding(row) for row in rows]


class SqlFreezeTokenRepository(SqlRepository):
    cache_name = "uow:freeze_tokens"

    def used_at(self, token_id: str) -> datetime | None:
        staged: datetime | None = self.cached.get(token_id)
        if staged is not None:
            return staged
        c = t.freeze_tokens_used.c
        stmt = select(c.used_at).where(c.token_id == token_id)
        return self.uow.conn.execute(stmt).scalar()

    def mark_used(self, token_id: str, account_id: str, at: datetime) -> None:
        # A plain insert: two redemptions racing in separate transactions cannot both commit.
        self.uow.staging.insert(
            t.freeze_tokens_used, {"token_id": token_id, "account_id": account_id, "used_at": at}
        )
        self.uow.staging.remember(self.cached, token_id, at)


class SqlTotpRepository(SqlRepository):
    cache_name = "uow:totp"

    def get(self, account_id: str) -> TotpEnrolment | None:
        staged: TotpEnrolment | None = self.cached.get(account_id)
        if staged is not None:
            return staged
        row = self.uow.conn.execute(
            select(t.totp_enrolments).where(t.totp_enrolments.c.account_id == account_id)
        ).first()
        if row is None:
            return None
        return TotpEnrolment(row.account_id, row.sealed_secret, row.enrolled_at, row.last_step)

    def save(self, enrolment: TotpEnrolment) -> None:
        self.uow.staging.upsert(
            t.totp_enrolments,
            (enrolment.account_id,),
            {
                "account_id": enrolment.account_id,
                "sealed_secret": enrolment.sealed_secret,
                "enrolled_at": enrolment.enrolled_at,
                "last_step": enrolment.last_step,
            },
        )
        self.uow.staging.remember(self.cached, enrolment.account_id, enrolment)


@dataclass(frozen=True, slots=True)
class RecentDecision:
    event_id: str
    event_type: str
    occurred_at: datetime
    decision: str
    risk_level: str
    score: int
    reasons: tuple[str, ...]


class _Body(msgspec.Struct):
    reasons: list[dict[str, Any]] = msgspec.field(default_factory=list)


_body = msgspec.json.Decoder(_Body)


def recent_decisions(conn: Connection, account_id: str, limit: int) -> list[RecentDecision]:
    c = t.decisions.c
    rows = conn.execute(
        select(c.event_id, c.event_type, c.occurred_at, c.decision, c.risk_level, c.score, c.body)
        .where(c.account_id == account_id)
        .order_by(c.occurred_at.desc(), c.seq.desc())
        .limit(limit)
    )
    return [
        RecentDecision(
            r.event_id,
            r.event_type,
            r.occurred_at,
            r.decision,
            r.risk_level,
            r.score,
            tuple(str(reason.get("code")) for reason in _body.decode(r.body).reasons),
        )
        for r in rows
    ]
