"""What an evaluation reads once its run is over: rule hits from the decision traces,
account state changes, appeals, suspected top-ups, case counts (`evaluate.ports.RunFacts`).

Read-only, in bulk, after the engine committed: nothing here is on the per-event path.
"""

from __future__ import annotations

from collections.abc import Iterator

import msgspec
from sqlalchemy import func, select

from walletguard.evaluate.ports import AppealFact, StateChange
from walletguard.storage import tables as t
from walletguard.storage.database import Database

_EMPTY_TRACE = '{"hits":[]%'


class _Hit(msgspec.Struct):
    rule: str
    mode: str


class _Trace(msgspec.Struct):
    hits: list[_Hit]


class SqlRunFacts:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._decode = msgspec.json.Decoder(_Trace)

    def rule_hits(self) -> Iterator[tuple[str, str, str]]:
        d = t.decisions
        query = select(d.c.event_id, d.c.trace).where(d.c.trace.not_like(_EMPTY_TRACE))
        with self._database.reading() as conn:
            for event_id, trace in conn.execute(query.execution_options(yield_per=5000)):
                for hit in self._decode.decode(trace).hits:
                    mode = "active" if hit.mode == "active" else "shadow"
                    yield event_id, hit.rule, mode

    def state_changes(self) -> list[StateChange]:
        s = t.account_state_changes
        query = select(s.c.account_id, s.c.from_state, s.c.to_state, s.c.at, s.c.actor).order_by(
            s.c.id
        )
        with self._database.reading() as conn:
            return [StateChange(*row) for row in conn.execute(query)]

    def appeals(self) -> list[AppealFact]:
        a = t.appeals
        query = select(
            a.c.account_id, a.c.restriction, a.c.opened_at, a.c.resolved_at, a.c.result
        ).order_by(a.c.opened_at)
        with self._database.reading() as conn:
            return [AppealFact(*row) for row in conn.execute(query)]

    def suspected_topups(self) -> set[str]:
        tp = t.topups
        query = select(tp.c.request_event_id).where(tp.c.status == "suspected_fake")
        with self._database.reading() as conn:
            return {row[0] for row in conn.execute(query)}

    def case_counts(self) -> dict[str, int]:
        c = t.cases
        with self._database.reading() as conn:
            counts = {
                status: int(n)
                for status, n in conn.execute(select(c.c.status, func.count()).group_by(c.c.status))
            }
            counts["alerts"] = int(
                conn.execute(select(func.count()).select_from(t.alerts)).scalar_one()
            )
        return counts
