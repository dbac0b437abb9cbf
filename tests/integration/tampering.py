"""What someone with full access to the database can still do: switch the guards (the
append-only triggers) off, change rows, switch them back on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, text

from walletguard.kernel.canonical import digest
from walletguard.storage.database import Database
from walletguard.storage.repositories.audit import SqlAuditReader


@contextmanager
def unguarded(database: Database) -> Iterator[Connection]:
    """A write transaction in which no trigger refuses anything."""
    with database.writing() as conn:
        if conn.dialect.name == "sqlite":
            triggers = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
            ).all()
            for name, _ in triggers:
                conn.exec_driver_sql(f"DROP TRIGGER {name}")
            yield conn
            for _, sql in triggers:
                conn.exec_driver_sql(sql)
        else:
            conn.exec_driver_sql("SET session_replication_role = replica")
            yield conn
            conn.exec_driver_sql("SET session_replication_role = origin")


def tamper(database: Database, sql: str, **params: Any) -> None:
    with unguarded(database) as conn:
        conn.execute(text(sql), params)


def rewrite_chain(database: Database, chain: int, actor: str = "mallory") -> None:
    """Edit the chain's first record and recompute every hash after it, and its head: the
    chain is consistent again (only a signed checkpoint can tell)."""
    records = list(SqlAuditReader(database).records(chain))
    prev = "0" * 64
    with unguarded(database) as conn:
        for r in records:
            who = actor if r.seq == 1 else r.actor
            new_hash = digest(
                {
                    "seq": r.seq,
                    "at": r.at.isoformat(),
                    "actor": who,
                    "action": r.action,
                    "subject": r.subject,
                    "payload_hash": r.payload_hash,
                    "prev_hash": prev,
                }
            )
            conn.execute(
                text(
                    "UPDATE audit_log SET actor = :a, prev_hash = :p, hash = :h "
                    "WHERE chain = :c AND seq = :s"
                ),
                {"a": who, "p": prev, "h": new_hash, "c": chain, "s": r.seq},
            )
            prev = new_hash
        conn.execute(
            text("UPDATE audit_heads SET hash = :h WHERE chain = :c"), {"h": prev, "c": chain}
        )
