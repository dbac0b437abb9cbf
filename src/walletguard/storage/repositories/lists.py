"""Block, allow and watch list entries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Text, delete, func, select, update

from walletguard.enrich.lists import ListEntity, ListEntry, ListKind
from walletguard.storage import tables as t
from walletguard.storage.repositories.base import SqlRepository

_VERSION_KEY = "lists_version"


class SqlListRepository(SqlRepository):
    def all(self) -> list[ListEntry]:
        rows = self.uow.conn.execute(select(t.list_entries).order_by(t.list_entries.c.id))
        return [
            ListEntry(
                kind=ListKind(r.kind),
                entity=ListEntity(r.entity),
                value=r.value,
                reason=r.reason,
                expires_at=r.expires_at,
                created_by=r.created_by,
                id=r.id,
            )
            for r in rows
        ]

    def version(self) -> int:
        value = self.uow.conn.execute(
            select(t.settings_kv.c.value).where(t.settings_kv.c.key == _VERSION_KEY)
        ).scalar()
        return int(value) if value is not None else 0

    def add(self, entry: ListEntry, *, at: datetime) -> int:
        """Store an entry now (not staged: list changes are rare and read back at once)."""
        conn = self.uow.conn
        result = conn.execute(
            t.list_entries.insert().values(
                kind=entry.kind.value,
                entity=entry.entity.value,
                value=entry.value,
                reason=entry.reason,
                expires_at=entry.expires_at,
                created_by=entry.created_by,
                created_at=at,
            )
        )
        self._bump()
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def remove(self, entry_id: int) -> bool:
        removed = self.uow.conn.execute(
            delete(t.list_entries).where(t.list_entries.c.id == entry_id)
        )
        if removed.rowcount:
            self._bump()
        return bool(removed.rowcount)

    def _bump(self) -> None:
        conn = self.uow.conn
        kv = t.settings_kv
        bumped = conn.execute(
            update(kv)
            .where(kv.c.key == _VERSION_KEY)
            .values(value=func.cast(func.cast(kv.c.value, BigInteger) + 1, Text))
        )
        if not bumped.rowcount:
            conn.execute(kv.insert().values(key=_VERSION_KEY, value="1"))
