"""API keys: an owner's name must leave the key's actor string room in the audit columns;
a new key is hashed once however many requests present it at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from walletguard.access import keys as keys_module
from walletguard.access.keys import MAX_OWNER, ApiKey, KeyVerifier, issue_key, parse_key
from walletguard.access.roles import Role
from walletguard.kernel.errors import InvalidInput

NOW = datetime(2026, 3, 1, tzinfo=UTC)


class Keys:
    def __init__(self) -> None:
        self.rows: dict[str, ApiKey] = {}

    def get(self, key_id: str) -> ApiKey | None:
        return self.rows.get(key_id)

    def save(self, key: ApiKey) -> None:
        self.rows[key.id] = key

    def all(self) -> list[ApiKey]:
        return list(self.rows.values())


def test_a_key_is_shown_once_and_stored_hashed() -> None:
    repo = Keys()
    key, plaintext = issue_key(repo, owner="lee", role=Role.ANALYST, at=NOW, created_by="t")
    parsed = parse_key(plaintext)
    assert parsed is not None
    assert parsed[0] == key.id
    assert parsed[1] not in key.secret_hash


@pytest.mark.parametrize("owner", ["", "  ", "x" * (MAX_OWNER + 1)])
def test_an_owner_is_named_within_bounds(owner: str) -> None:
    with pytest.raises(InvalidInput, match="owner"):
        issue_key(Keys(), owner=owner, role=Role.ANALYST, at=NOW, created_by="t")
    key, _ = issue_key(Keys(), owner="x" * MAX_OWNER, role=Role.ANALYST, at=NOW, created_by="t")
    assert len(f"key:{key.id}:{key.owner}") <= 128


def test_many_requests_presenting_a_new_key_at_once_hash_it_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key, plaintext = issue_key(Keys(), owner="svc", role=Role.INTEGRATOR, at=NOW, created_by="t")
    parsed = parse_key(plaintext)
    assert parsed is not None
    checks = []
    real = keys_module._hasher

    class CountingHasher:
        def verify(self, hash_: str, secret: str) -> bool:
            checks.append(secret)
            return real.verify(hash_, secret)

    monkeypatch.setattr(keys_module, "_hasher", CountingHasher())
    verifier = KeyVerifier()
    start = threading.Barrier(16)

    def present() -> bool:
        start.wait()
        return verifier.verify(key, parsed[1])

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda _: present(), range(16)))
    assert answers == [True] * 16
    assert len(checks) == 1
    assert verifier.verify(key, "wrong-secret") is False  # a wrong secret is still refused
