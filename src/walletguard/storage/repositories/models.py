"""The model registry table."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import select

from walletguard.kernel.canonical import canonical_json
from walletguard.scoring.model import ModelRecord, ModelStatus
from walletguard.storage import tables as t
from walletguard.storage.repositories.base import SqlRepository, cached_lookup


def _json(value: Any) -> str:
    return canonical_json(value).decode()


def record_from_row(row: Any) -> ModelRecord:
    return ModelRecord(
        version=row.version,
        features=tuple(msgspec.json.decode(row.features)),
        event_types=tuple(msgspec.json.decode(row.event_types)),
        fingerprint=row.fingerprint,
        metrics=msgspec.json.decode(row.metrics),
        params=msgspec.json.decode(row.params),
        model_text=row.model_text,
        created_at=row.created_at,
        created_by=row.created_by,
        status=ModelStatus(row.status),
        status_changed_at=row.status_changed_at,
        status_changed_by=row.status_changed_by,
        promoted_at=row.promoted_at,
        promoted_by=row.promoted_by,
        notes=msgspec.json.decode(row.notes),
    )


class SqlModelRepository(SqlRepository):
    """Implements `scoring.model.ModelRegistry`."""

    cache_name = "uow:models"

    def get(self, version: str) -> ModelRecord | None:
        def load() -> ModelRecord | None:
            stmt = select(t.models).where(t.models.c.version == version)
            if self.uow.lock_rows:
                stmt = stmt.with_for_update()
            row = self.uow.conn.execute(stmt).first()
            return None if row is None else record_from_row(row)

        return cached_lookup(self.cached, version, load)

    def save(self, record: ModelRecord) -> None:
        self.uow.staging.upsert(
            t.models,
            (record.version,),
            {
                "version": record.version,
                "status": record.status.value,
                "features": _json(list(record.features)),
                "event_types": _json(list(record.event_types)),
                "fingerprint": record.fingerprint,
                "metrics": _json(record.metrics),
                "params": _json(record.params),
                "notes": _json(record.notes),
                "model_text": record.model_text,
                "created_at": record.created_at,
                "created_by": record.created_by,
                "status_changed_at": record.status_changed_at,
                "status_changed_by": record.status_changed_by,
                "promoted_at": record.promoted_at,
                "promoted_by": record.promoted_by,
            },
        )
        self.uow.staging.remember(self.cached, record.version, record)

    def all(self) -> list[ModelRecord]:
        self.uow.flush()
        rows = self.uow.conn.execute(
            select(t.models).order_by(t.models.c.created_at.desc(), t.models.c.version)
        )
        return [record_from_row(r) for r in rows]

    def with_status(self, *statuses: ModelStatus) -> list[ModelRecord]:
        self.uow.flush()
        rows = self.uow.conn.execute(
            select(t.models)
            .where(t.models.c.status.in_([s.value for s in statuses]))
            .order_by(t.models.c.version)
        )
        return [record_from_row(r) for r in rows]

    def live_state(self) -> tuple[tuple[str, str], ...]:
        """(version, status) of every scored model: changes whenever the engine should
        reload (one small query)."""
        rows = self.uow.conn.execute(
            select(t.models.c.version, t.models.c.status)
            .where(t.models.c.status.in_([ModelStatus.CHAMPION.value, ModelStatus.SHADOW.value]))
            .order_by(t.models.c.version)
        )
        return tuple((r.version, r.status) for r in rows)
