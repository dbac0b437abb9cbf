"""Ring cases (`ring_cases`) and the suspected-ring membership the engine reads."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import func, select

from walletguard.graph.rings import RingRecord
from walletguard.kernel.canonical import canonical_json
from walletguard.storage import tables as t
from walletguard.storage.repositories.base import SqlRepository

_DISMISSED = ("false_positive",)


def ring_from_row(row: Any) -> RingRecord:
    return RingRecord(
        case_id=row.case_id,
        ring_id=row.ring_id,
        detected_at=row.detected_at,
        detected_by=row.detected_by,
        window_from=row.window_from,
        window_to=row.window_to,
        patterns=tuple(msgspec.json.decode(row.patterns)),
        members=tuple(msgspec.json.decode(row.members)),
        flows=msgspec.json.decode(row.flows),
        money_units=row.money_units,
        score=row.score,
        svg=row.svg,
    )


class SqlRingRepository(SqlRepository):
    cache_name = "uow:rings"

    def add(self, ring: RingRecord) -> None:
        self.uow.staging.insert(
            t.ring_cases,
            {
                "case_id": ring.case_id,
                "ring_id": ring.ring_id,
                "detected_at": ring.detected_at,
                "detected_by": ring.detected_by,
                "window_from": ring.window_from,
                "window_to": ring.window_to,
                "patterns": canonical_json(list(ring.patterns)).decode(),
                "members": canonical_json(list(ring.members)).decode(),
                "flows": canonical_json(ring.flows).decode(),
                "money_units": ring.money_units,
                "score": ring.score,
                "svg": ring.svg,
            },
        )
        self.uow.staging.remember(self.cached, ring.ring_id, ring)

    def known_ring_ids(self) -> set[str]:
        self.uow.flush()
        return set(self.uow.conn.execute(select(t.ring_cases.c.ring_id)).scalars())

    def for_case(self, case_id: str) -> RingRecord | None:
        self.uow.flush()
        row = self.uow.conn.execute(
            select(t.ring_cases).where(t.ring_cases.c.case_id == case_id)
        ).first()
        return None if row is None else ring_from_row(row)

    def all(self) -> list[RingRecord]:
        self.uow.flush()
        rows = self.uow.conn.execute(select(t.ring_cases).order_by(t.ring_cases.c.detected_at))
        return [ring_from_row(r) for r in rows]

    def version(self) -> str:
        """Changes whenever a ring is added or its case's outcome changes (one query)."""
        c = t.ring_cases.c
        row = self.uow.conn.execute(
            select(
                func.count(), func.max(c.detected_at), func.max(t.cases.c.updated_at)
            ).select_from(t.ring_cases.join(t.cases, t.cases.c.id == c.case_id))
        ).one()
        return f"{row[0]}|{row[1]}|{row[2]}"

    def suspected_accounts(self) -> set[str]:
        """Members of every ring whose case was not closed as a false positive."""
        rows = self.uow.conn.execute(
            select(t.ring_cases.c.members, t.cases.c.outcome).select_from(
                t.ring_cases.join(t.cases, t.cases.c.id == t.ring_cases.c.case_id)
            )
        )
        found: set[str] = set()
        for row in rows:
            if row.outcome not in _DISMISSED:
                found.update(msgspec.json.decode(row.members))
        return found
