"""API keys."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from walletguard.access.keys import ApiKey
from walletguard.access.roles import Role
from walletguard.storage import tables as t
from walletguard.storage.repositories.base import SqlRepository


def _key(row: Any) -> ApiKey:
    return ApiKey(
        row.id,
        row.owner,
        Role(row.role),
        row.secret_hash,
        row.created_at,
        row.created_by,
        row.revoked_at,
    )


class SqlKeyRepository(SqlRepository):
    def get(self, key_id: str) -> ApiKey | None:
        row = self.uow.conn.execute(select(t.api_keys).where(t.api_keys.c.id == key_id)).first()
        return None if row is None else _key(row)

    def save(self, key: ApiKey) -> None:
        self.uow.staging.upsert(
            t.api_keys,
            (key.id,),
            {
                "id": key.id,
                "owner": key.owner,
                "role": key.role.value,
                "secret_hash": key.secret_hash,
                "created_at": key.created_at,
                "created_by": key.created_by,
                "revoked_at": key.revoked_at,
            },
        )

    def all(self) -> list[ApiKey]:
        self.uow.flush()
        return all_keys(self.uow.conn)


def all_keys(conn: Connection) -> list[ApiKey]:
    """Every API key, oldest first (on any connection: a read needs no write lock)."""
    return [_key(row) for row in conn.execute(select(t.api_keys).order_by(t.api_keys.c.created_at))]
