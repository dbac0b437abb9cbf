"""Write-behind staging for a unit of work.

Rows are collected in memory and written with one `executemany` per table at
flush, which is what lets a replay store every decision durably at tens of
thousands of events a second. Every staged change also records how to undo
itself, so a savepoint can take back one event's changes without touching SQL.

Measured (docs/benchmarks.md): a single-row INSERT through SQLAlchemy costs
~25 µs on SQLite, a row in an executemany ~3 µs; the ORM unit of work ~40 µs
a row. Hence Core with our own staging rather than the ORM session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlalchemy.dialects import postgresql, sqlite

from walletguard.storage.tables import metadata

_MISSING = object()


class Staging:
    """Pending inserts and upserts, with an undo journal for savepoints."""

    def __init__(self) -> None:
        self.inserts: dict[Table, list[dict[str, Any]]] = {}
        self.upserts: dict[Table, dict[tuple[Any, ...], dict[str, Any]]] = {}
        self.ignores: dict[Table, list[dict[str, Any]]] = {}
        self._journal: list[Callable[[], None]] = []

    def insert(self, table: Table, row: dict[str, Any]) -> None:
        """Stage a new row."""
        rows = self.inserts.setdefault(table, [])
        rows.append(row)
        self._journal.append(rows.pop)  # type: ignore[arg-type]  # pop() drops the row

    def insert_ignoring_duplicates(self, table: Table, row: dict[str, Any]) -> None:
        """Stage a row that is skipped if its unique key already exists."""
        rows = self.ignores.setdefault(table, [])
        rows.append(row)
        self._journal.append(rows.pop)  # type: ignore[arg-type]  # pop() drops the row

    def upsert(self, table: Table, key: tuple[Any, ...], row: dict[str, Any]) -> None:
        """Stage the current version of a row (insert or replace by primary key)."""
        rows = self.upserts.setdefault(table, {})
        previous = rows.get(key, _MISSING)
        rows[key] = row

        def undo() -> None:
            if previous is _MISSING:
                del rows[key]
            else:
                rows[key] = previous  # type: ignore[assignment]

        self._journal.append(undo)

    def remember(self, cache: dict[Any, Any], key: Any, value: Any) -> None:
        """Set `cache[key]`, undoably (identity maps of the repositories)."""
        previous = cache.get(key, _MISSING)
        cache[key] = value

        def undo() -> None:
            if previous is _MISSING:
                cache.pop(key, None)
            else:
                cache[key] = previous

        self._journal.append(undo)

    def on_undo(self, undo: Callable[[], None]) -> None:
        """Register any other in-memory change to take back with the savepoint."""
        self._journal.append(undo)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        mark = len(self._journal)
        try:
            yield
        except BaseException:
            while len(self._journal) > mark:
                self._journal.pop()()
            raise

    def flush(self, conn: Connection) -> None:
        """Write everything staged, parents before children, and forget it."""
        dialect = conn.dialect.name
        for table in metadata.sorted_tables:
            upserts = self.upserts.pop(table, None)
            if upserts:
                conn.execute(_upsert(table, dialect), list(upserts.values()))
            rows = self.inserts.pop(table, None)
            if rows:
                conn.execute(insert(table), rows)
            ignored = self.ignores.pop(table, None)
            if ignored:
                conn.execute(_insert_ignore(table, dialect), ignored)
        self._journal.clear()

    def discard(self) -> None:
        self.inserts.clear()
        self.upserts.clear()
        self.ignores.clear()
        self._journal.clear()


def _dialect_insert(table: Table, dialect: str) -> Any:
    if dialect == "sqlite":
        return sqlite.insert(table)
    return postgresql.insert(table)


_upsert_cache: dict[tuple[str, str], Any] = {}


def _upsert(table: Table, dialect: str) -> Any:
    key = (table.name, dialect)
    stmt = _upsert_cache.get(key)
    if stmt is None:
        base = _dialect_insert(table, dialect)
        keys = [c.name for c in table.primary_key.columns]
        stmt = base.on_conflict_do_update(
            index_elements=keys,
            set_={c.name: base.excluded[c.name] for c in table.columns if c.name not in keys},
        )
        _upsert_cache[key] = stmt
    return stmt


def _insert_ignore(table: Table, dialect: str) -> Any:
    return _dialect_insert(table, dialect).on_conflict_do_nothing()
