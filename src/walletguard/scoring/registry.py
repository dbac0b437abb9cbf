"""Registering models and changing their status: each change is audited.

candidate ──shadow──▶ shadow ──promote──▶ champion ──(next promotion)──▶ retired
    └──────────────promote──────────────────┘            any ──retire──▶ retired
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from walletguard.kernel.errors import IllegalTransition, NotFound
from walletguard.scoring.model import ModelRecord, ModelRegistry, ModelStatus


class RegistryUnitOfWork(Protocol):
    @property
    def models(self) -> ModelRegistry: ...

    @property
    def audit(self) -> Any: ...


def _audit(
    uow: RegistryUnitOfWork,
    record: ModelRecord,
    action: str,
    actor: str,
    at: datetime,
    **extra: Any,
) -> None:
    uow.audit.append(
        at=at,
        actor=actor,
        action=f"model.{action}",
        subject=f"model:{record.version}",
        payload={"status": record.status.value, "fingerprint": record.fingerprint, **extra},
    )


def register(uow: RegistryUnitOfWork, record: ModelRecord, *, actor: str, at: datetime) -> bool:
    """Store a newly trained model (as a candidate, or as given). Registering the same
    version again changes nothing and returns False."""
    if uow.models.get(record.version) is not None:
        return False
    uow.models.save(record)
    _audit(uow, record, "registered", actor, at, metrics=record.metrics)
    return True


def _get(uow: RegistryUnitOfWork, version: str) -> ModelRecord:
    record = uow.models.get(version)
    if record is None:
        raise NotFound(f"no model {version!r} (`walletguard models list` shows them)")
    return record


def promote(uow: RegistryUnitOfWork, version: str, *, actor: str, at: datetime) -> ModelRecord:
    """Make `version` the champion; the previous champion is retired."""
    record = _get(uow, version)
    if record.status is ModelStatus.CHAMPION:
        return record
    if record.status is ModelStatus.RETIRED:
        raise IllegalTransition(f"model {version} is retired; train or register a new one")
    for old in uow.models.with_status(ModelStatus.CHAMPION):
        retired = replace(
            old, status=ModelStatus.RETIRED, status_changed_at=at, status_changed_by=actor
        )
        uow.models.save(retired)
        _audit(uow, retired, "retired", actor, at, replaced_by=version)
    champion = replace(
        record,
        status=ModelStatus.CHAMPION,
        status_changed_at=at,
        status_changed_by=actor,
        promoted_at=at,
        promoted_by=actor,
    )
    uow.models.save(champion)
    _audit(uow, champion, "promoted", actor, at, previous_status=record.status.value)
    return champion


def shadow(uow: RegistryUnitOfWork, version: str, *, actor: str, at: datetime) -> ModelRecord:
    """Score `version` next to the champion, recorded in traces, never acted on."""
    record = _get(uow, version)
    if record.status is ModelStatus.SHADOW:
        return record
    if record.status is not ModelStatus.CANDIDATE:
        raise IllegalTransition(
            f"model {version} is {record.status.value}; only a candidate can go to shadow"
        )
    changed = replace(
        record, status=ModelStatus.SHADOW, status_changed_at=at, status_changed_by=actor
    )
    uow.models.save(changed)
    _audit(uow, changed, "shadowed", actor, at)
    return changed


def retire(uow: RegistryUnitOfWork, version: str, *, actor: str, at: datetime) -> ModelRecord:
    """Stop scoring with `version` (a retired champion leaves the engine rules-only)."""
    record = _get(uow, version)
    if record.status is ModelStatus.RETIRED:
        return record
    changed = replace(
        record, status=ModelStatus.RETIRED, status_changed_at=at, status_changed_by=actor
    )
    uow.models.save(changed)
    _audit(uow, changed, "retired", actor, at, previous_status=record.status.value)
    return changed
