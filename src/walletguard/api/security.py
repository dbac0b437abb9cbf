"""Who is calling, and may they: API keys, roles, and a rate limit per key.

Keys are held in memory and reloaded from the database every few seconds, so a new
or revoked key takes effect within that time without a query per request.

Failed authentications are counted per client address and per key id presented
(`AuthFailures`): beyond the failures allowed in a window, the failing requests, and those
that would need a key's argon2 check, get 429 until the window ends. A key the process has
verified before is checked without argon2 and is not held up.
"""

from __future__ import annotations

import math
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
    def __init__(
        self,
        database: Database,
        *,
        refresh_seconds: float = 5.0,
        failures: AuthFailures | None = None,
    ) -> None:
        self._database = database
        self._refresh = refresh_seconds
        self._failures = failures
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

    async def authenticate(self, presented: str | None, *, client: str = "unknown") -> Caller:
        """The caller a presented key belongs to; 401 if missing, malformed, unknown or revoked.

        `client` is the caller's address. With `failures`, a failure is counted against it
        and against the key id presented (when a key has it), and 429 answers a failure
        beyond the allowance, and a key's argon2 check while either is over it.

        Runs on the event loop; the rare slow parts (reloading keys, a key's first argon2
        check) run in a worker thread."""
        counted = [f"ip:{client}"]
        if not presented:
            raise await self._failed(
                counted, "an API key is required (Authorization: Bearer <key>)"
            )
        parsed = parse_key(presented)
        stale = time.monotonic() - self._loaded_at > self._refresh
        keys = await anyio.to_thread.run_sync(self._current) if stale else self._keys
        key = keys.get(parsed[0]) if parsed else None
        if parsed is not None and key is None and time.monotonic() - self._loaded_at > 1.0:
            await self._check(counted)  # no reload for an address over its allowance
            self.reload()  # a key created moments ago: look once more (at most once a second)
            key = (await anyio.to_thread.run_sync(self._current)).get(parsed[0])
        if key is not None:
            counted.append(f"key:{key.id}")
        valid = False
        if parsed is not None and key is not None and key.active:
            known = self._verifier.verify_known(key, parsed[1])
            if known is None:
                await self._check(counted)  # before argon2, not after
                known = await anyio.to_thread.run_sync(self._verifier.verify, key, parsed[1])
            valid = known
        if not valid or key is None:
            raise await self._failed(
                counted, "the API key is not valid (unknown, revoked or mistyped)"
            )
        return Caller(key.id, key.owner, key.role)

    async def _check(self, counted: list[str]) -> None:
        if self._failures is not None:
            await self._failures.check(counted)

    async def _failed(self, counted: list[str], detail: str) -> HTTPException:
        """The answer to a failed authentication, counted: 401, or 429 beyond the allowance."""
        if self._failures is not None:
            limited = await self._failures.count(counted)
            if limited is not None:
                return limited
        return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


class WindowCounts:
    """Counts by name in fixed windows of `seconds` (aligned to the epoch).

    With a Redis client (`redis.asyncio`) the counts are shared by every worker (under
    `namespace`) and read and written without blocking the event loop; without, they are
    per process."""

    def __init__(self, seconds: int, redis: object | None = None, *, namespace: str) -> None:
        self.seconds = seconds
        self._redis = redis
        self._namespace = namespace
        self._window = 0
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def _now(self) -> tuple[int, int]:
        """The current window and the whole seconds until it ends (at least 1)."""
        now = time.time()
        window = int(now // self.seconds)
        return window, max(1, math.ceil((window + 1) * self.seconds - now))

    async def add(self, names: list[str]) -> tuple[list[int], int]:
        """Count one for each name: the counts in the current window, and the seconds
        until it ends."""
        window, retry = self._now()
        if self._redis is not None:
            pipe = self._redis.pipeline(transaction=False)  # type: ignore[attr-defined]
            for name in names:
                pipe.incr(f"{self._namespace}:{name}:{window}")
                pipe.expire(f"{self._namespace}:{name}:{window}", self.seconds + 1)
            counts = [int(n) for n in (await pipe.execute())[::2]]
        else:
            with self._lock:
                if window != self._window:
                    self._window, self._counts = window, {}
                counts = []
                for name in names:
                    self._counts[name] = self._counts.get(name, 0) + 1
                    counts.append(self._counts[name])
        return counts, retry

    async def read(self, names: list[str]) -> tuple[list[int], int]:
        """The counts of these names in the current window (nothing counted), and the
        seconds until it ends."""
        window, retry = self._now()
        if self._redis is not None:
            found = await self._redis.mget(  # type: ignore[attr-defined]
                [f"{self._namespace}:{name}:{window}" for name in names]
            )
            return [int(n or 0) for n in found], retry
        with self._lock:
            if window != self._window:
                return [0] * len(names), retry
            return [self._counts.get(name, 0) for name in names], retry


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
        self._what = what
        self._counts = WindowCounts(1, redis, namespace=namespace)

    async def admit(self, key_id: str) -> None:
        [count], retry = await self._counts.add([key_id])
        if count > self.per_second:
            raise HTTPException(
                429,
                f"more than {self.per_second} requests a second {self._what}; slow down",
                headers={"Retry-After": str(retry)},
            )


class AuthFailures:
    """At most `allowed` failed authentications in a window of `window_seconds` per client
    address and per key id presented (names `ip:<address>`, `key:<id>`); shared through
    Redis like `RateLimiter`'s counts when a client is given."""

    def __init__(
        self,
        allowed: int,
        window_seconds: int,
        redis: object | None = None,
        *,
        namespace: str = "wg:rl:authfail",
    ) -> None:
        self.allowed = allowed
        self._counts = WindowCounts(window_seconds, redis, namespace=namespace)

    async def check(self, names: list[str]) -> None:
        """429 if any of `names` has used its allowance (one more failure would be beyond
        it); counts nothing."""
        counts, retry = await self._counts.read(names)
        if max(counts) >= self.allowed:
            raise self._limited(retry)

    async def count(self, names: list[str]) -> HTTPException | None:
        """Count a failure against each of `names`: the 429 to answer if that takes any
        of them beyond its allowance, else None."""
        counts, retry = await self._counts.add(names)
        return self._limited(retry) if max(counts) > self.allowed else None

    def _limited(self, retry: int) -> HTTPException:
        return HTTPException(
            429,
            f"too many failed authentications from this address or for this key (more than "
            f"{self.allowed} in {self._counts.seconds} s); try again later",
            headers={"Retry-After": str(retry)},
        )


def _client_address(request: Request) -> str:
    """The connection's peer; behind a proxy, run the server so that it trusts the proxy's
    `X-Forwarded-For` (uvicorn `--forwarded-allow-ips`)."""
    return request.client.host if request.client else "unknown"


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header and header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key")


def require(permission: Permission) -> Callable[[Request], Awaitable[Caller]]:
    """A dependency: the caller, if their role grants `permission` (403 saying why if not)."""

    async def dependency(request: Request) -> Caller:
        state = request.app.state
        caller: Caller = await state.keys.authenticate(
            _presented_key(request), client=_client_address(request)
        )
        await state.limiter.admit(caller.key_id)  # a refused call counts too
        if not allows(caller.role, permission):
            raise HTTPException(
                403,
                f"the {caller.role.value} role lacks the permission {permission.value}",
            )
        return caller

    dependency.__name__ = f"require_{permission.name.lower()}"
    dependency.permission = permission  # type: ignore[attr-defined]  # read by route listings
    return dependency


async def per_client_address(request: Request) -> None:
    """A dependency for the few operations that take no API key (their credential is in the
    body, e.g. a freeze link's token): rate-limited per client address instead.

    The address is the connection's peer; behind a proxy, run the server so that it trusts
    the proxy's `X-Forwarded-For` (uvicorn `--forwarded-allow-ips`)."""
    await request.app.state.address_limiter.admit(f"ip:{_client_address(request)}")


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
