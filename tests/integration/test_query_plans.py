"""The engine's look-ups go through an index on every table that grows with the events: a
statement that reads such a table whole costs more with every event stored, and the
decision API's writer, committing a few events at a time, pays it per batch. (It did: top-ups
were looked up by reference alone, which the key (channel, reference) does not cover.)"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from sqlalchemy import event

from walletguard.composition import build_runtime
from walletguard.events.decode import EventDecoder
from walletguard.simulate import TYPOLOGIES, SimConfig, write_run

# A handful of rows (keys, chain heads, settings, rulesets, models), or read whole on
# purpose when they change (lists, the rings the graph found).
BOUNDED = {
    "api_keys", "audit_heads", "settings_kv", "rulesets", "models", "list_entries", "ring_cases",
}  # fmt: skip


def test_deciding_events_reads_no_growing_table_whole(tmp_path: Path) -> None:
    config = SimConfig(seed=5, users=150, days=2, rates=dict.fromkeys(TYPOLOGIES, 150.0))
    write_run(config, tmp_path / "sim")
    runtime = build_runtime(f"sqlite:///{tmp_path / 'wg.db'}")
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
        offenders = []
        with runtime.database.engine.connect() as conn:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            for sql, params in statements.items():
                for *_, step in cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params):
                    words = step.split()
                    if words[0] == "SCAN" and words[1] not in BOUNDED:
                        offenders.append(f"{step}: {' '.join(sql.split())[:200]}")
        assert len(statements) > 30, "the engine's statements were seen"
        assert offenders == []
    finally:
        runtime.close()
