"""Stored ruleset versions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from walletguard.rules.registry import RulesetMode, StoredRuleset
from walletguard.storage import tables as t
from walletguard.storage.repositories.base import SqlRepository
from walletguard.storage.staging import upsert_rows

RULESETS_VERSION_KEY = "rulesets_version"


def _stored(row: Any) -> StoredRuleset:
    return StoredRuleset(
        row.version,
        row.name,
        row.content,
        RulesetMode(row.mode),
        row.created_at,
        row.created_by,
        row.promoted_at,
    )


class SqlRulesetRepository(SqlRepository):
    def get(self, version: str) -> StoredRuleset | None:
        self.uow.flush()
        row = self.uow.conn.execute(
            select(t.rulesets).where(t.rulesets.c.version == version)
        ).first()
        return None if row is None else _stored(row)

    def save(self, ruleset: StoredRuleset) -> None:
        self.uow.flush()
        conn = self.uow.conn
        upsert_rows(
            conn,
            t.rulesets,
            [
                {
                    "version": ruleset.version,
                    "name": ruleset.name,
                    "content": ruleset.content,
                    "mode": ruleset.mode.value,
                    "created_at": ruleset.created_at,
                    "created_by": ruleset.created_by,
                    "promoted_at": ruleset.promoted_at,
                }
            ],
        )
        upsert_rows(
            conn, t.settings_kv, [{"key": RULESETS_VERSION_KEY, "value": self._next_stamp()}]
        )

    def all(self) -> list[StoredRuleset]:
        self.uow.flush()
        rows = self.uow.conn.execute(select(t.rulesets).order_by(t.rulesets.c.created_at))
        return [_stored(row) for row in rows]

    def stamp(self) -> str:
        """Changes whenever any stored ruleset changes (the engine reloads when it does)."""
        value = self.uow.conn.execute(
            select(t.settings_kv.c.value).where(t.settings_kv.c.key == RULESETS_VERSION_KEY)
        ).scalar()
        return str(value or "0")

    def _next_stamp(self) -> str:
        return str(int(self.stamp()) + 1)
