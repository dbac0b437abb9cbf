"""Who is calling, and may they: API keys, roles, and a rate limit per key.

Keys are held in memory and reloaded from the database every few seconds, so a new
or revoked key takes effect within that time without a query per request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from fastapi import Depends, HTTPException, Request

from walletguard.access.keys import ApiKey, KeyVerifier, parse_key
from walletguard.access.roles import Permission, Role, allows
from walletguard.storage.database import Database
from walletguard.storage.repositories.access import all_keys


@dataclass(frozen=True, slots=True)
class Caller:
    key_id: str
    owner: str
    role: Role

    @property
    def actor(self) -> str:
        """How the audit log names this caller; maker-checker counts the key's owner as the
        person (`approvals.model.person_of`)."""
        return f"key:{self.key_id}:{self.owner}"


class KeyCache:
    def __init__(self, database: Database, *, refresh_seconds: float = 5.0) -> None:
        self._database = database
        self._refresh = refresh_seconds
        self._keys: dict[str, ApiKey] = {}
        self._loaded_at = 0.0
        self._lock = threading.Lock()
        self._verifier = KeyVerifier()

    def _current(self) -> dict[str, ApiKey]:
        now = time.monotonic()
        if now - self._loaded_at > self._refresh:
            with self._lock:
                if now - self._loaded_at > self._refresh:
                    # A read transaction: a writer holding the database (a long command,
                    # a checkpoint) must not hold up authentication.
                    with self._database.reading() as conn:
                        self._keys = {k.id: k for k in all_keys(conn)}
                    self._loaded_at = now
        return self._keys

    def reload(self) -> None:
        self._loaded_at = 0.0

    async def authenticate(self, presented: str | None) -> Caller:
        """The caller a presented key belongs to; 401 if missing, malformed, unknown or revoked.

        Runs on the event loop; the rare slow parts (reloading keys, a key's first argon2
        check) run in a worker thread."""
        if not presented:
            raise HTTPException(
                401,
                "an API key is required (Authorization: Bearer <key>)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        parsed = parse_key(presented)
        stale = time.monotonic() - self._loaded_at > self._refresh
        keys = await anyio.to_thread.run_sync(self._current) if stale else self._keys
        key = keys.get(parsed[0]) if parsed else None
        if parsed is not None and key is None and time.monotonic() - self._loaded_at > 1.0:
            self.reload()  # a key created moments ago: look once more (at most once a second)
            key = (await anyio.to_thread.run_sync(self._current)).get(parsed[0])
        valid = False
        if parsed is not None and key is not None and key.active:
            known = self._verifier.verify_known(key, parsed[1])
            if known is None:
                known = await anyio.to_thread.run_sync(self._verifier.verify, key, parsed[1])
            valid = known
        if not valid or key is None:
            raise HTTPException(
                401,
                "the API key is not valid (unknown, revoked or mistyped)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return Caller(key.id, key.owner, key.role)


class RateLimiter:
    """At most `per_second` requests a second per key (a fixed one-second window).

    With a Redis client (`redis.asyncio`) the count is shared by every worker (under
    `namespace`) and counted without blocking the event loop; without, it is per process.
    """

    def __init__(
        self,
        per_second: int,
        redis: object | None = None,
        *,
        namespace: str = "wg:rl",
        what: str = "for this key",
    ) -> None:
        self.per_second = per_second
        self._redis = redis
        self._namespace = namespace
        self._what = what
        self._window = 0
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    async def admit(self, key_id: str) -> None:
        now = time.time()
        second = int(now)
        if self._redis is not None:
            name = f"{self._namespace}:{key_id}:{second}"
            pipe = self._redis.pipeline(transaction=False)  # type: ignore[attr-defined]
            pipe.incr(name)
            pipe.expire(name, 2)
            count = int((await pipe.execute())[0])
        else:
            with self._lock:
                if second != self._window:
                    self._window, self._counts = second, {}
                count = self._counts[key_id] = self._counts.get(key_id, 0) + 1
        if count > self.per_second:
            retry = max(1, int(second + 1 - now + 0.999))
            raise HTTPException(
                429,
                f"more than {self.per_second} requests a second {self._what}; slow down",
                headers={"Retry-After": str(retry)},
            )


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header and header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key")


def require(permission: Permission) -> Callable[[Request], Awaitable[Caller]]:
    """A dependency: the caller, if their role grants `permission` (403 saying why if not)."""

    async def dependency(request: Request) -> Caller:
        state = request.app.state
        caller: Caller = await state.keys.authenticate(_presented_key(request))
        if not allows(caller.role, permission):
            raise HTTPException(
                403,
                f"the {caller.role.value} role lacks the permission {permission.value}",
            )
        await state.limiter.admit(caller.key_id)
        return caller

    dependency.__name__ = f"require_{permission.name.lower()}"
    dependency.permission = permission  # type: ignore[attr-defined]  # read by route listings
    return dependency


async def per_client_address(request: Request) -> None:
    """A dependency for the few operations that take no API key (their credential is in the
    body, e.g. a freeze link's token): rate-limited per client address instead.

    The address is the connection's peer; behind a proxy, run the server so that it trusts
    the proxy's `X-Forwarded-For` (uvicorn `--forwarded-allow-ips`)."""
    client = request.client.host if request.client else "unknown"
    await request.app.state.address_limiter.admit(f"ip:{client}")


per_client_address.public = True  # type: ignore[attr-defined]  # read by route listings


def _as(permission: Permission) -> Any:
    return Annotated[Caller, Depends(require(permission))]


# Parameter types for endpoints: `who: CanSubmitEvents` authenticates, authorises and rate-limits.
CanSubmitEvents = _as(Permission.EVENTS_SUBMIT)
CanReadDecisions = _as(Permission.DECISIONS_READ)
CanReadAccounts = _as(Permission.ACCOUNTS_READ)
CanActOnAccounts = _as(Permission.ACCOUNTS_ACT)
CanReadLedger = _as(Permission.LEDGER_READ)
CanActOnLedger = _as(Permission.LEDGER_ACT)
CanReconcile = _as(Permission.RECONCILE)
CanReadCases = _as(Permission.CASES_READ)
CanWorkCases = _as(Permission.CASES_WORK)
CanReadLists = _as(Permission.LISTS_READ)
CanWriteLists = _as(Permission.LISTS_WRITE)
CanReadRules = _as(Permission.RULES_READ)
CanUploadRules = _as(Permission.RULES_UPLOAD)
CanPromoteRules = _as(Permission.RULES_PROMOTE)
CanApprove = _as(Permission.APPROVE)
CanReadAudit = _as(Permission.AUDIT_READ)
CanCheckpointAudit = _as(Permission.AUDIT_CHECKPOINT)
CanExportEvidence = _as(Permission.EVIDENCE_EXPORT)
PerClientAddress = Annotated[None, Depends(per_client_address)]
"""For operations without an API key: rate-limited per client address."""
