"""The engine's look-ups go through an index on every table that grows with the events: a
statement that reads such a table whole costs more with every event stored, and the
decision API's writer, committing a few events at a time, pays it per batch. (It did: top-ups
were looked up by reference alone, which the key (channel, reference) does not cover.)"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import event

from walletguard.composition import build_runtime
from walletguard.events.decode import EventDecoder
from walletguard.simulate import TYPOLOGIES, SimConfig, write_run
from walletguard.storage.database import Database

# A handful of rows (keys, chain heads, settings, rulesets, models), or read whole on
# purpose when they change (lists, the rings the graph found).
BOUNDED = {
    "api_keys", "audit_heads", "settings_kv", "rulesets", "models", "list_entries", "ring_cases",
}  # fmt: skip


def test_deciding_events_reads_no_growing_table_whole(db_url: str, tmp_path: Path) -> None:
    config = SimConfig(seed=5, users=150, days=2, rates=dict.fromkeys(TYPOLOGIES, 150.0))
    write_run(config, tmp_path / "sim")
    runtime = build_runtime(db_url, exclusive=False)  # as the service runs it
    statements: dict[str, Any] = {}

    @event.listens_for(runtime.database.engine, "before_cursor_execute")
    def remember(_conn: Any, _cur: Any, sql: str, params: Any, _ctx: Any, many: bool) -> None:
        if sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")):
            statements.setdefault(sql, params[0] if many else params)

    decoder = EventDecoder()
    try:
        with (tmp_path / "sim" / "events.jsonl").open("rb") as source:
            items = [decoder.decode(line) for line in source]
        batches = iter(items)
        while batch := list(itertools.islice(batches, 16)):  # as the API's writer batches
            list(runtime.engine.decide_batch(batch))
        assert len(items) > 1000
        assert len(statements) > 30, "the engine's statements were seen"
        assert list(whole_table_reads(runtime.database, statements)) == []
    finally:
        runtime.close()


def whole_table_reads(database: Database, statements: dict[str, Any]) -> Iterator[str]:
    """Each statement whose plan reads a growing table whole."""
    with database.engine.connect() as conn:
        cursor: Any = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        reads = _sqlite_reads if database.is_sqlite else _postgres_reads(cursor)
        for sql, params in statements.items():
            for table, step in reads(cursor, sql, params):
                if table not in BOUNDED:
                    yield f"{step}: {' '.join(sql.split())[:200]}"


def _sqlite_reads(cursor: Any, sql: str, params: Any) -> Iterator[tuple[str, str]]:
    for *_, step in cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params):
        if step.startswith("SCAN "):  # SEARCH is a look-up by an index
            yield step.split()[1], step


def _postgres_reads(cursor: Any) -> Any:
    """On tables this small the planner prefers sequential scans and, for joins, merging or
    hashing whole inputs: those are priced out, so a whole read remains only where no index
    can serve. An index scan whose condition leaves out the index's first column walks the
    whole index: that counts as a whole read too."""
    cursor.execute("ANALYZE")  # the row counts the run left, for the order of joins
    for method in ("seqscan", "mergejoin", "hashjoin"):
        cursor.execute(f"SET enable_{method} = off")
    cursor.execute(
        "SELECT c.relname, t.relname, a.attname FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid"
        " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
        " WHERE t.relnamespace = current_schema()::regnamespace"
    )
    leading = {index: (table, column) for index, table, column in cursor.fetchall()}

    def reads(cursor: Any, sql: str, params: Any) -> Iterator[tuple[str, str]]:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        nodes = [cursor.fetchone()[0][0]["Plan"]]
        while nodes:
            node = nodes.pop()
            nodes.extend(node.get("Plans", []))
            kind = node["Node Type"]
            if kind == "Seq Scan":
                yield node["Relation Name"], f"Seq Scan on {node['Relation Name']}"
            elif "Index Name" in node and node["Index Name"] in leading:
                table, column = leading[node["Index Name"]]
                condition = node.get("Index Cond", "")
                if not re.search(rf"\b{column}\b", condition):
                    yield table, f"{kind} on {node['Index Name']} ({condition or 'no condition'})"

    return reads
