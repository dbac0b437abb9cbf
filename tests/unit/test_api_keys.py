"""API keys: an owner's name must leave the key's actor string room in the audit columns."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from walletguard.access.keys import MAX_OWNER, ApiKey, issue_key, parse_key
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
