"""API keys: shown once, stored hashed.

A key reads `wg_<key id>_<secret>`. The secret is stored only as an argon2 hash; a
verified key is remembered (by a SHA-256 of the secret) for the life of the process,
so argon2's deliberate cost is paid once per key and process, not per request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from walletguard.access.roles import Role
from walletguard.kernel.errors import FieldProblem, InvalidInput, NotFound

PREFIX = "wg"
MAX_OWNER = 100
"""A key acts as `key:<id>:<owner>`, which must fit the 128-character actor columns."""
_hasher = PasswordHasher()


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    owner: str
    role: Role
    secret_hash: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class KeyRepository(Protocol):
    def get(self, key_id: str) -> ApiKey | None: ...

    def save(self, key: ApiKey) -> None: ...

    def all(self) -> list[ApiKey]: ...


def issue_key(
    repo: KeyRepository, *, owner: str, role: Role, at: datetime, created_by: str
) -> tuple[ApiKey, str]:
    """Create a key; returns it and its plaintext, which is never stored or shown again."""
    if not owner.strip() or len(owner) > MAX_OWNER:
        raise InvalidInput(
            [FieldProblem("owner", f"name who uses the key in 1 to {MAX_OWNER} characters")]
        )
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(24).replace("_", "-")
    key = ApiKey(key_id, owner, role, _hasher.hash(secret), at, created_by)
    repo.save(key)
    return key, f"{PREFIX}_{key_id}_{secret}"


def revoke_key(repo: KeyRepository, key_id: str, *, at: datetime) -> ApiKey:
    """Revoke a key from `at`; a key revoked before is returned as it is (its `revoked_at`
    tells when), so a repeat changes nothing."""
    key = repo.get(key_id)
    if key is None:
        raise NotFound(f"no API key {key_id}")
    if not key.active:
        return key
    revoked = ApiKey(
        key.id, key.owner, key.role, key.secret_hash, key.created_at, key.created_by, at
    )
    repo.save(revoked)
    return revoked


def parse_key(presented: str) -> tuple[str, str] | None:
    """`(key id, secret)` from a presented key, or None if it is not shaped like one."""
    parts = presented.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


class KeyVerifier:
    """Checks presented keys against the repository, remembering the ones that verified.

    Thread-safe. Requests that present the same unverified key at once wait for one argon2
    check instead of each running their own: a fresh service hit by many connections with
    one key would otherwise spend seconds hashing it over and over."""

    def __init__(self) -> None:
        self._verified: dict[str, bytes] = {}
        self._checking: dict[str, threading.Lock] = {}

    def verify_known(self, key: ApiKey, secret: str) -> bool | None:
        """The answer for a key verified before in this process, or None (use `verify`)."""
        known = self._verified.get(key.id)
        if known is None:
            return None
        return hmac.compare_digest(known, hashlib.sha256(secret.encode()).digest())

    def verify(self, key: ApiKey, secret: str) -> bool:
        """Check `secret` against the key's argon2 hash (slow the first time, by design)."""
        known = self.verify_known(key, secret)
        if known is not None:
            return known
        with self._checking.setdefault(key.id, threading.Lock()):
            known = self.verify_known(key, secret)  # verified while this thread waited?
            if known is not None:
                return known
            try:
                _hasher.verify(key.secret_hash, secret)
            except VerificationError:
                return False
            self._verified[key.id] = hashlib.sha256(secret.encode()).digest()
            return True

    def forget(self, key_id: str) -> None:
        self._verified.pop(key_id, None)
        self._checking.pop(key_id, None)
